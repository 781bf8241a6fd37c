import ArgumentParser
import TachoFormat
import TachoOutput
import TachoQuery
import TachoStore

/// Opens the newest snapshot of the store for a read-only command (no lock taken).
func openSnapshot(_ store: StoreOptionGroup, _ log: LogOptionGroup) throws -> Snapshot {
    var opts = StoreOptions()
    opts.logger = log.logger("tacho.query")
    return try Snapshot.open(path: store.path, options: opts)
}

/// Notes on stderr the requested vehicles the store has never seen (the result is still printed).
func noteUnknownVehicles(_ vehicles: [String], in snap: Snapshot) throws {
    guard !vehicles.isEmpty else { return }
    let known = Set(bytesOf: try VehicleSummary.compute(on: snap, vehicles: Set(bytesOf: vehicles)).map(\.vehicle))
    for v in vehicles where !known.contains(bytesOf: v) { printError("note: no data for vehicle \(v)") }
}

/// The rows of `q`, then a note on stderr for the requested vehicles the store has never
/// seen when nothing matched; returns how many rows were printed.
@discardableResult
func printRows(_ q: RangeQuery, on snap: Snapshot, _ format: OutputFormat, _ vehicles: [String]) throws -> Int {
    var p = RowPrinter(format, columns: QueryRows.columns(of: q.measurement))
    let n = try p.printRows(of: q, on: snap)
    p.finish()
    if n == 0 { try noteUnknownVehicles(vehicles, in: snap) }
    return n
}

/// `--where` and the shorthand value lists of detections and status.
struct FilterOptionGroup: ParsableArguments {
    @Option(name: .customLong("where"), help: ArgumentHelp(
        "Keep rows where COLUMN OP VALUE (repeat: all must hold). OP: = != on strings and bools (true/false), "
            + "= != < <= > >= on numbers; on a string list, = means contains.", valueName: "FILTER"))
    var filters: [String] = []
    @Option(name: .customLong("type"), help: ArgumentHelp("Detections: only these object types: a,b or repeat the flag.", valueName: "TYPE,…"))
    var typeArguments: [String] = []
    @Option(name: .customLong("status"), help: ArgumentHelp("Status: only these statuses: a,b or repeat the flag.", valueName: "STATUS,…"))
    var statusArguments: [String] = []

    var types: [String] { commaList(typeArguments) }
    var statuses: [String] { commaList(statusArguments) }

    func columnFilters() throws -> [ColumnFilter] {
        var out = try filters.map { try ColumnFilter.parse($0) }
        if !types.isEmpty { out.append(ColumnFilter("object_type", .eq, types)) }
        if !statuses.isEmpty { out.append(ColumnFilter("status", .eq, statuses)) }
        return out
    }
}

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Rows of a measurement in a time range: vehicle_id,time,<columns…>.",
        discussion: """
            Rows are ordered by (vehicle_id, time, identity columns), each identity once. `tacho measurements` lists the measurements and their columns. String lists print as a;b in csv/table and as arrays in json/ndjson.

            Examples:
              tacho query detections --from 2022-06-05 --to 2022-06-06 --type cars
              tacho query locations --vehicle 356938035643809 --where 'speed_kmh>80'
              tacho query power --where units=kWh --format ndjson
              tacho query alarms --where alarm_type=harsh_braking --where 'severity>=2'
            """)

    @Argument(help: "The measurement (see `tacho measurements`).") var measurement: String?
    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup
    @OptionGroup var range: RangeOptionGroup
    @OptionGroup var filter: FilterOptionGroup
    // Unconditional: `--limit -1` reaches validate() (else "Missing value", as if -1 were a flag).
    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many rows (0 or more).", valueName: "N")) var limit: Int?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit \(limit): expected a row count of 0 or more") }
    }

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let scope = try ReadScope(snap, storeOption)
        let m = try scope.measurement(measurement)
        let (filters, vehicles, named) = try filter.splitVehicle(of: m, in: scope, vehicles: range.vehicles)
        let q = RangeQuery(m, vehicles: vehicles, from: range.fromMicros, to: range.toMicros, filters: filters, limit: limit)
        if try printRows(q, on: snap, output.format, named) == 0 { filter.noteUnknownValues(of: m, in: snap) }
    }
}

struct LatestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latest",
        abstract: "The latest status per vehicle, or the newest row of a measurement per vehicle.",
        usage: "tacho latest [<options>] [<measurement>]",
        discussion: """
            Without a measurement: the status report with the greatest time per vehicle. With one: each vehicle's newest row (vehicle_id,time,<its columns…>). With --at, the latest at or before that time. A late, older file never moves it back.

            Examples:
              tacho latest
              tacho latest locations              # the last location of every vehicle
              tacho latest power --vehicle ship-07 --at 2025-09-14T06:00:00Z
            """)

    @Argument(help: "A measurement (see `tacho measurements`); none: the status.") var measurement: String?
    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup
    @Option(name: .customLong("vehicle"), help: ArgumentHelp("Only these vehicles: a,b or repeat the flag.", valueName: "ID,…"))
    var vehicleArguments: [String] = []
    var vehicles: [String] { commaList(vehicleArguments) }
    @Option(parsing: .unconditional, help: ArgumentHelp("As of this time: \(TimeArgument.helpText).", valueName: "TIME"),
            transform: TimeArgument.parseOrExplain) var at: TimeArgument?

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let wanted = vehicles.isEmpty ? nil : Set(bytesOf: vehicles)
        let found: Set<ByteString>
        if let measurement {
            let m = try ReadScope(snap, storeOption).measurement(measurement)
            let rows = try LatestRowQuery(m, vehicles: wanted, at: at?.micros).run(on: snap)
            var p = RowPrinter(output.format, columns: QueryRows.columns(of: m))
            for r in rows { p.row(QueryRows.cells(r)) }
            p.finish()
            found = Set(bytesOf: rows.map(\.vehicle))
            for v in vehicles where !found.contains(bytesOf: v) { printError("note: no \(m.name) rows for vehicle \(v)") }
            return
        }
        let rows = try LatestQuery(vehicles: wanted, at: at?.micros).run(on: snap)
        var p = RowPrinter(output.format, columns: QueryRows.statusColumns)
        for r in rows { p.row(QueryRows.cells(r)) }
        p.finish()
        found = Set(bytesOf: rows.map(\.vehicle))
        for v in vehicles where !found.contains(bytesOf: v) { printError("note: no status for vehicle \(v)") }
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
