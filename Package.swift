// swift-tools-version: 6.1
// Tacho: an embedded time-series store for vehicle telemetry. Linux only (inotify, statvfs,
// Glibc). One module per step of the data path (docs/ARCHITECTURE.md has both pictures):
//   data flows   TachoJSON → TachoIngest → TachoFormat → TachoStore → TachoQuery → TachoCLI
//   executables  tacho → TachoCLI (every command);  tacho-net → TachoCLI, TachoLake → TachoS3 (shipping),
//                TachoHTTP (`tacho serve`, `tacho run --listen`)
//   imports      TachoCLI → TachoIngest, TachoQuery → TachoStore → TachoFormat → CZstd, CCRC32C
//                TachoIngest → TachoJSON → TachoTime;  TachoStore → TachoTime;  TachoCLI → TachoSystemd
//                TachoCLI → TachoSchema (declared measurements, the TOML config) → TachoFormat
// (TachoTime, calendar arithmetic and RFC 3339 times without dependencies, sits below TachoJSON,
//  TachoStore and tacho-gen; TachoJSON re-exports it.)
// (TachoLineProtocol, InfluxDB line protocol, imports nothing; tacho-gen writes .lp with it.)
//   output       TachoCLI → TachoOutput (row printers, argument grammar) → TachoQuery, TachoSchema, TachoJSON
//   daemon       TachoCLI → TachoDaemon (`tacho run` assembled) → TachoIngest, TachoStore
//   export       TachoCLI → TachoExport → TachoQuery, TachoParquet (a Parquet writer) → CZstd
//   rollups      TachoCLI → TachoRollup (kept in each commit; tiers for agg) → TachoStore, TachoQuery, TachoSchema, TachoFormat
//   http         TachoHTTP (the HTTP front, hummingbird 2) → TachoQuery, TachoOutput, TachoIngest, TachoStore, TachoSchema;
//                linked by tacho-net (`tacho serve`), never by `tacho`, whose start-up time and RSS are measured
// (TachoFaults → TachoStore: the fault-injecting file system, linked only by tests; the release
//  `tacho` never depends on it — Tests/TachoCLITests/ReleaseContentsTests.swift checks.)
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Tacho",
    products: [
        .library(name: "Tacho", targets: ["TachoStore", "TachoQuery", "TachoIngest"]),
        .executable(name: "tacho", targets: ["tacho"]),
        .executable(name: "tacho-net", targets: ["tacho-net"]),
        // For the Benchmarks package: the parser and the format layer on their own.
        .library(name: "TachoJSON", targets: ["TachoJSON"]),
        .library(name: "TachoFormat", targets: ["TachoFormat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        // The config file's TOML reader (docs/CONFIG.md: what it costs in RSS).
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The S3 client of `tacho ship` (TachoS3): HTTP, and HMAC/SHA-256 for Signature V4.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The HTTP front (TachoHTTP): not linked into `tacho`, whose start-up and RSS are measured.
        // Without traits: no swift-configuration, no full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Device tokens of the HTTP front (HS256 JWTs).
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        // /metrics of the HTTP front: swift-metrics' API, Prometheus text by swift-prometheus.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through hummingbird; named for what TachoHTTP and tacho-net use
        // directly: HTTP request parts in a channel handler (the body timeout), and the service
        // group `tacho run --listen` stops gracefully without taking over the signals.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.25.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // Optional TLS of the HTTP front (`--tls-cert/--tls-key`, docs/HTTP.md "TLS"): already in the
        // graph through hummingbird and async-http-client; named for the PEM loading in TachoHTTP.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // Hardware CRC-32C (SSE4.2) behind a CPU check; TachoFormat falls back to software.
        .target(name: "CCRC32C"),
        // Civil dates ↔ day numbers and RFC 3339 times (Timestamp): shared by the readers,
        // partition labels, the CLI and the generator.
        .target(name: "TachoTime", swiftSettings: swiftSettings),
        // Bytes → tokens. Knows nothing of telemetry.
        .target(name: "TachoJSON", dependencies: ["TachoTime"], swiftSettings: swiftSettings),
        // InfluxDB line protocol (`*.lp`, HTTP write bodies): bytes → points, per-line rejects,
        // a writer, and the schema-mapping contract (docs/SEMANTICS.md, "Line protocol input").
        .target(name: "TachoLineProtocol", swiftSettings: swiftSettings),
        // Bytes on disk: varints, CRC32C, column codecs, zstd, segment writer/reader.
        .target(
            name: "TachoFormat",
            dependencies: ["CZstd", "CCRC32C"],
            swiftSettings: swiftSettings
        ),
        // Declared measurements and the config file (TOML, read by TOMLKit through one
        // adapter): declarations → TachoFormat.Measurement; built-ins as embedded TOML text.
        .target(
            name: "TachoSchema",
            dependencies: ["TachoFormat", .product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: swiftSettings
        ),
        // Directories: file names, manifest, lock, writer, latest index, snapshots; the store's
        // environment (StoreEnvironment: files, locks, clocks, sleep) that every layer uses.
        .target(
            name: "TachoStore",
            dependencies: [
                "TachoFormat", "TachoTime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // Rollups (docs/ARCHITECTURE.md "Rollups"): declared pre-aggregated tiers kept exact in
        // each commit (a StoreWriter CommitParticipant); read as rows by `tacho query <m>__<name>`
        // (`tacho agg` does not read them yet).
        .target(
            name: "TachoRollup",
            dependencies: ["TachoStore", "TachoQuery", "TachoFormat", "TachoSchema", "TachoTime", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The fault-injecting StoreFileSystem (LevelDB's FaultInjectionTestEnv): fails chosen
        // calls, records every call. For tests and tools only: no shipped target depends on it.
        .target(name: "TachoFaults", dependencies: ["TachoStore"], swiftSettings: swiftSettings),
        // Scans, latest, aggregates over a snapshot.
        .target(
            name: "TachoQuery",
            dependencies: ["TachoStore", "TachoFormat", "TachoTime"],
            swiftSettings: swiftSettings
        ),
        // A Parquet file writer from the format's spec (Thrift compact footer, dictionary, RLE/
        // bit-packed, DELTA_BINARY_PACKED, 3-level lists, zstd pages): knows nothing of Tacho.
        .target(name: "TachoParquet", dependencies: ["CZstd"], swiftSettings: swiftSettings),
        // `tacho export`: a snapshot's measurements → Hive-style Parquet files (docs/EXPORT.md).
        .target(
            name: "TachoExport",
            dependencies: ["TachoParquet", "TachoQuery", "TachoStore", "TachoFormat", "TachoTime"],
            swiftSettings: swiftSettings
        ),
        // Query results → bytes: csv/json/ndjson/table/chart row printing (`RowPrinter`), the
        // columns and cells of each query's rows, and the time/duration/list grammar of
        // arguments (`ArgumentSyntax`). The CLI prints through it; an HTTP front and the
        // exporter call the same code.
        .target(
            name: "TachoOutput",
            dependencies: ["TachoQuery", "TachoStore", "TachoFormat", "TachoTime", "TachoJSON", "TachoSchema"],
            swiftSettings: swiftSettings
        ),
        // Telemetry files → validated row batches → the store writer; inbox watcher.
        .target(
            name: "TachoIngest",
            dependencies: [
                // TachoSchema: declarations become the reader's RecordLayouts (RecordLayout+Declaration.swift).
                "TachoJSON", "TachoFormat", "TachoStore", "TachoSchema", "TachoLineProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // `tacho run` assembled as a library: config → the writer, InboxDaemon, retention and
        // compaction (StoreMaintenance) and the ship scheduler, with counters any thread can
        // read (IngestCounters). Hosts parse options and handle signals; the CLI is one host.
        .target(
            name: "TachoDaemon",
            dependencies: [
                "TachoIngest", "TachoStore", "TachoFormat",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // S3-compatible object storage: AWS Signature V4 (written here over swift-crypto's HMAC),
        // objects and multipart uploads over async-http-client, and the shipping ledger that
        // makes `tacho ship` resumable (docs/SHIPPING.md). Knows nothing of segments.
        .target(
            name: "TachoS3",
            dependencies: [
                "TachoTime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The fleet lake from a store: closed partitions exported (TachoExport) and shipped
        // (TachoS3) exactly once, with their ledger in the store (docs/SHIPPING.md).
        .target(
            name: "TachoLake",
            dependencies: [
                "TachoExport", "TachoParquet", "TachoS3", "TachoStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP front (issue 15, docs/HTTP.md): the read API over a shared Snapshot, printed by
        // TachoOutput's row printers and streamed; writes validated by TachoIngest's readers and
        // written into the inbox durably before the answer; device tokens (jwt-kit) and hashed
        // admin tokens scope what a request reads and writes; /metrics in Prometheus text; on
        // hummingbird 2. Not linked into `tacho`.
        .target(
            name: "TachoHTTP",
            dependencies: [
                "TachoQuery", "TachoOutput", "TachoStore", "TachoFormat", "TachoSchema", "TachoTime",
                // Writes are validated by the daemon's own readers before they enter the inbox.
                "TachoIngest", "TachoLineProtocol", "TachoJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                // TLS on the server's HTTP channel (NIOSSL's BoringSSL), only when configured;
                // HummingbirdCore names the channel builders it wraps.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // systemd integration for `tacho run`: sd_notify datagrams, journald log priorities.
        .target(
            name: "TachoSystemd",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The commands (argument parsing, config, output, exit policy) as a library, so that two
        // executables run the same root command. It links no network stack.
        .target(
            name: "TachoCLI",
            dependencies: [
                "TachoStore", "TachoQuery", "TachoIngest", "TachoFormat", "TachoJSON", "TachoSchema", "TachoSystemd",
                "TachoExport", "TachoOutput", "TachoDaemon", "TachoRollup",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        // The lean executable every ingest, query and daemon runs: no Foundation, SwiftNIO or
        // TLS images to load and relocate at each start (ReleaseContentsTests checks).
        .executableTarget(name: "tacho", dependencies: ["TachoCLI"], swiftSettings: swiftSettings),
        // tacho with the network stack (shipping to S3, the HTTP server); tacho execs it for
        // `tacho ship`, `tacho run --ship-to` and `tacho serve`. Installed beside tacho.
        .executableTarget(
            name: "tacho-net",
            dependencies: [
                "TachoCLI", "TachoS3", "TachoLake", "TachoDaemon", "TachoStore", "TachoSchema", "TachoHTTP", "TachoIngest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/tacho-net",
            swiftSettings: swiftSettings
        ),
        // Deterministic fleet-data generator (tools/gen): JSON files in both layouts.
        .executableTarget(
            name: "tacho-gen",
            dependencies: ["TachoTime", "TachoLineProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/tacho-gen",
            swiftSettings: swiftSettings
        ),
        // Writes locations JSON into a store through StoreWriter for tools/bench-locations, until
        // `tacho ingest` routes locations files to their declared measurement; not shipped.
        .executableTarget(
            name: "tacho-bench-locations",
            dependencies: ["TachoStore", "TachoFormat"],
            path: "Sources/tacho-bench-locations",
            swiftSettings: swiftSettings
        ),
        // The rollup benchmark of issue 14 (tools/bench-rollups): year-long aggregates from
        // rollups, bytes per bucket, ingest with rollups on and off; not shipped.
        .executableTarget(
            name: "tacho-bench-rollups",
            dependencies: ["TachoRollup", "TachoQuery", "TachoSchema", "TachoStore", "TachoFormat"],
            path: "Sources/tacho-bench-rollups",
            swiftSettings: swiftSettings
        ),
        // Helpers every test target shares (seeded RNG, temp directories); not shipped.
        .target(name: "TachoTestSupport", dependencies: ["TachoFormat"], path: "Tests/TachoTestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "TachoRollupTests",
            dependencies: ["TachoRollup", "TachoQuery", "TachoSchema", "TachoStore", "TachoFaults", "TachoFormat", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "TachoSchemaTests", dependencies: ["TachoSchema", "TachoFormat", "TachoTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "TachoJSONTests", dependencies: ["TachoJSON", "TachoTestSupport"], swiftSettings: swiftSettings),
        // Runs tacho-gen's extra kinds in-process and reads the files back with the parsers.
        .testTarget(
            name: "TachoGenTests",
            dependencies: ["tacho-gen", "TachoJSON", "TachoLineProtocol", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TachoLineProtocolTests",
            dependencies: ["TachoLineProtocol", "TachoJSON", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TachoFormatTests", dependencies: ["TachoFormat", "TachoTestSupport"], exclude: ["golden"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TachoStoreTests",
            dependencies: ["TachoStore", "TachoFaults", "TachoFormat", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
        // The row printers against the CLI's golden bytes, and the argument grammar.
        .testTarget(
            name: "TachoOutputTests",
            dependencies: ["TachoOutput", "TachoQuery", "TachoStore", "TachoFormat", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TachoQueryTests",
            dependencies: ["TachoQuery", "TachoStore", "TachoFormat", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
        // Runs the built `tacho` binary as a child process: CLI output, crash and kill tests.
        .testTarget(
            name: "TachoCLITests",
            dependencies: [
                "tacho", "tacho-net", "TachoCLI", "TachoStore", "TachoFaults", "TachoFormat", "TachoJSON", "TachoSystemd", "TachoOutput",
                "TachoTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            exclude: ["golden"],
            swiftSettings: swiftSettings
        ),
        // The Parquet writer and the export, read back by pyarrow and DuckDB (tools/pyenv).
        .testTarget(
            name: "TachoParquetTests",
            dependencies: ["TachoParquet", "TachoExport", "TachoQuery", "TachoStore", "TachoFormat", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
        // Signature V4 against AWS's published examples; the client and the shipping ledger
        // against a real S3 API on loopback (moto's server, started by the tests).
        .testTarget(
            name: "TachoS3Tests",
            dependencies: ["TachoS3", "TachoLake", "TachoTestSupport", "tacho", "tacho-net", "tacho-gen"],
            swiftSettings: swiftSettings
        ),
        // The daemon assembled as a library: an inbox ingested, its counters, a held store.
        .testTarget(
            name: "TachoDaemonTests",
            dependencies: [
                "TachoDaemon", "TachoIngest", "TachoStore", "TachoFormat", "TachoTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP front in-process on 127.0.0.1 port 0 against a store of fixture rows, asked
        // over real HTTP (async-http-client) and compared with TachoQuery's and tacho's answers.
        .testTarget(
            name: "TachoHTTPTests",
            dependencies: [
                "TachoHTTP", "TachoQuery", "TachoOutput", "TachoStore", "TachoIngest", "TachoFormat", "TachoTime", "TachoFaults", "TachoTestSupport",
                // Built for the comparisons with their answers and `tacho serve` (run as child processes).
                "tacho", "tacho-net",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TachoIngestTests",
            dependencies: ["TachoIngest", "TachoStore", "TachoFaults", "TachoFormat", "TachoJSON", "TachoLineProtocol", "TachoSchema", "TachoTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
