// swift-tools-version: 6.1
// Tacho benchmarks (ordo-one/package-benchmark). From this directory:
//   swift package --scratch-path ../.build-bench benchmark                     # everything (≈ 3–4 min)
//   swift package --scratch-path ../.build-bench benchmark --target Format     # one suite
//   swift package --scratch-path ../.build-bench benchmark --filter 'Query.*'  # by name (regex)
//   swift package --scratch-path ../.build-bench benchmark --format jmh        # also: markdown, influx, histogram…
// Inputs (generated JSON via tools/gen, a store ingested from them) are cached under
// $TACHO_BENCH_DIR (default ${TMPDIR:-/tmp}/tacho-bench) and shared with tools/bench.
// tools/bench (at the root) builds `tacho-query-probe` from this package for its query latencies.
import PackageDescription

// SwiftPM names a path dependency after its directory (a clone may be called anything), so the
// root package's identity is the lowercased name of this file's grandparent directory.
let tacho: String = {
    let parts = #filePath.split(separator: "/")
    return parts.count >= 3 ? String(parts[parts.count - 3]).lowercased() : "tacho"
}()

let package = Package(
    name: "TachoBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Inputs and workloads shared by the suites and the probe. TachoJSON and TachoFormat are
        // not library products of the root package; they are imported as modules built for "Tacho".
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "Tacho", package: tacho),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Query latencies of an existing store as one JSON object (used by tools/bench).
        .executableTarget(
            name: "tacho-query-probe",
            dependencies: ["BenchSupport", .product(name: "Tacho", package: tacho)]
        ),
    ]
)

// One benchmark executable per suite: Benchmarks/<Name>/<Name>.swift.
for name in ["Parse", "Format", "Query"] {
    package.targets.append(.executableTarget(
        name: name,
        dependencies: [
            "BenchSupport",
            .product(name: "Tacho", package: tacho),
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ))
}
