import ArgumentParser
import TachoOutput
import TachoFormat
import TachoQuery
import TachoStore

struct VehiclesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vehicles",
        abstract: "Every vehicle with its first and last time and its rows.",
        usage: "tacho vehicles [<options>]",
        discussion: """
            Columns: vehicle_id,first_time,last_time,detection_rows,status_rows. first_time and last_time span every measurement. With --measurement M: only vehicles with rows of M, as vehicle_id,first_time,last_time,rows.

            Examples:
              tacho vehicles
              tacho vehicles --measurement locations
            """)

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup
    @Option(help: ArgumentHelp("Only this measurement's rows (see `tacho measurements`).", valueName: "NAME"))
    var measurement: String?

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let m = try measurement.map { try ReadScope(snap, storeOption).measurement($0) }
        let t = try SummaryTable.vehicles(on: snap, measurement: m)
        var p = RowPrinter(output.format, columns: t.columns)
        for r in t.rows { p.row(r) }
        p.finish()
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Partitions, segments, rows, bytes and bytes/row, per measurement and in total.",
        usage: "tacho stats [<options>]",
        discussion: """
            rows counts distinct visible rows (a scan); stored_rows counts rows in segment files. Every measurement with segments has a row (detections and status always do). With --measurement M: M's row only.

            Examples:
              tacho stats --format table
              tacho stats --measurement power
            """)

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: ChartableFormatOptionGroup
    @Option(help: ArgumentHelp("Only this measurement (see `tacho measurements`).", valueName: "NAME"))
    var measurement: String?

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let scope = try ReadScope(snap, storeOption)
        let only = try measurement.map { try scope.measurement($0) }
        if output.format == .chart { return printPartitionChart(snap, only: only) }
        let t = try SummaryTable.stats(on: snap, measurement: only)
        var p = RowPrinter(output.format, columns: t.columns)
        for r in t.rows { p.row(r) }
        p.finish()
    }
}

struct MeasurementsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measurements",
        abstract: "The measurements the store knows: name,id,columns,identity,rows.",
        usage: "tacho measurements [<options>]",
        discussion: """
            columns lists name:type per column (int64, float64, string, …); identity the columns that identify a row (a later row with the same identity replaces the earlier one); rows the distinct visible rows. Lists print as a;b in csv/table and as arrays in json/ndjson. A measurement declared (--config, else the built-in declarations) that the store has no rows of yet is listed last, with no id (the store gives it one with its first rows) and 0 rows.

            Example:
              tacho measurements --format table
            """)

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let scope = try ReadScope(snap, storeOption)
        var p = RowPrinter(output.format, columns: ["name", "id", "columns", "identity", "rows"])
        let all = MeasurementLookup.all(in: scope.catalog)
        for m in all.filter({ !scope.declaredOnly.contains($0.name) }) + all.filter({ scope.declaredOnly.contains($0.name) }) {
            let stored = !scope.declaredOnly.contains(m.name)
            p.row([.text(m.name), stored ? .int(Int64(m.id)) : .null, .strings(m.columns.map { "\($0.name):\($0.type)" }),
                   .strings(MeasurementLookup.identity(of: m)), .int(stored ? Int64(try VehicleSummary.rowCount(of: m, on: snap)) : 0)])
        }
        p.finish()
    }
}
extension StatsCommand {
    /// `--format chart`: the bytes of each measurement's partitions over time (segment files,
    /// from the manifest), one series per measurement.
    func printPartitionChart(_ snap: Snapshot, only: Measurement?) {
        var bytes: [UInt8: [Int64: UInt64]] = [:]
        for s in snap.manifest.segments where only == nil || only?.id == s.measurementID {
            bytes[s.measurementID, default: [:]][s.partitionStart, default: 0] += s.fileSize
        }
        var p = RowPrinter(.chart, columns: ["partition", "measurement", "bytes"])
        for id in bytes.keys.sorted() {
            let name = snap.catalog.measurement(id: id)?.name ?? "measurement \(id)"
            for (start, b) in (bytes[id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                p.row([.time(start), .text(name), .int(Int64(b))])
            }
        }
        p.finish()
    }
}
