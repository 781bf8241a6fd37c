import ArgumentParser
import TachoExport
import TachoParquet
import TachoQuery
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// `tacho export`: the store's rows as Parquet files in a Hive-style tree (docs/EXPORT.md).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write measurements as Parquet files for DuckDB, Spark and pyarrow.",
        usage: "tacho export --out <DIR> [<options>]",
        discussion: """
            Layout: OUT/<measurement>/date=YYYY-MM-DD/<box-id>-<partition>-<seq>.parquet, one file per \
            measurement and store partition. The date and <partition> (YYYYMMDDTHHMMSSZ) are the partition's \
            start in UTC; <seq> is its newest segment, so a file's name changes whenever its content may have. \
            Many boxes can write into one prefix; readers see `date` as a Hive partition column.

            Columns: vehicle_id (string), time (timestamp[us, UTC]), then the measurement's own columns \
            (int64, double, bool, string, list<string>; nullable ones optional). The rows are exactly what \
            `tacho query <measurement>` prints, in its order (vehicle_id, time). Row groups of at most \
            --row-group-rows rows, zstd pages, min/max/null-count statistics (docs/EXPORT.md).

            Partitions are written one at a time (memory: one row group); each file appears whole \
            (temporary name, fsync, rename). A partition without matching rows writes no file. The paths \
            written go to stdout, a summary to stderr.

            Examples:
              tacho export --out /srv/lake                   # everything
              tacho export --out /srv/lake --measurement locations --from -7d
              tacho export --out lake --vehicle 356938035643809 --from 2025-09-01
              duckdb -c "SELECT count(*) FROM read_parquet(
                  'lake/locations/*/*.parquet', hive_partitioning=true)"
            """)

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var range: RangeOptionGroup
    @Option(name: .customLong("measurement"), help: "Only these measurements (repeat for several; default: every measurement of the store).")
    var measurements: [String] = []
    @Option(help: ArgumentHelp("Root of the Parquet tree (created when missing).", valueName: "DIR"))
    var out: String
    @Option(help: ArgumentHelp("This box's name in file names: 1-128 of A-Z a-z 0-9 . _ - (default: the host name).", valueName: "ID"))
    var boxID: String?
    @Option(help: ArgumentHelp("Rows per Parquet row group (at most; a partition's file holds as many as it needs).", valueName: "N"))
    var rowGroupRows = 1 << 20

    func validate() throws {
        guard rowGroupRows >= 1 else { throw ValidationError("--row-group-rows must be at least 1") }
        guard !out.isEmpty else { throw ValidationError("--out must name a directory") }
    }

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let options = ExportDefaults.parquetOptions(rowGroupRows: rowGroupRows)
        let request = ExportRequest(
            directory: out.hasSuffix("/") && out.count > 1 ? String(out.dropLast()) : out,
            boxID: try boxID ?? ExportDefaults.hostName(), measurements: measurements.isEmpty ? nil : measurements,
            vehicles: range.vehicleSet, from: range.fromMicros, to: range.toMicros, parquet: options)
        var rows = 0
        var bytes: Int64 = 0
        let files = try Exporter.run(request, on: snap) { f in
            print(f.path)
            rows += f.rows
            bytes += f.bytes
        }
        printError("exported \(rows) rows into \(files.count) files (\(bytes) bytes) under \(out)")
        if rows == 0 { try noteUnknownVehicles(range.vehicles, in: snap) }
    }
}

/// What `tacho export` and `tacho ship` (in tacho-net) share: the same bytes for the same
/// store content, and the same default box id.
package enum ExportDefaults {
    /// The Parquet options of every file this binary exports (`tacho ship` writes the same
    /// bytes for the same store content).
    package static func parquetOptions(rowGroupRows: Int = 1 << 20) -> ParquetWriter.Options {
        var options = ParquetWriter.Options()
        options.rowGroupRows = rowGroupRows
        options.createdBy = "tacho version \(TachoVersion.release) (build tacho)"
        return options
    }

    /// The host name, the default box id.
    package static func hostName() throws -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else {
            throw ValidationError("cannot read the host name; give --box-id")
        }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
