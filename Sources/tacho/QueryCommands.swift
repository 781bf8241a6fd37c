import ArgumentParser
import TachoFormat
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

/// Prints every row of `q` (`cells(block, i)` per row), then notes the requested vehicles
/// the store has never seen when nothing matched.
func printRows(_ q: RangeQuery, on snap: Snapshot, _ format: OutputFormat, _ vehicles: [String], columns: [String],
               cells: (RowBlock, Int) -> [Cell]) throws {
    let cursor = try RowCursor(snapshot: snap, query: q)
    var p = RowPrinter(format, columns: columns)
    var n = 0
    while let b = try cursor.nextBatch() {
        for i in 0..<b.count { p.row(cells(b, i)) }
        n += b.count
    }
    p.finish()
    if n == 0 { try noteUnknownVehicles(vehicles, in: snap) }
}

struct LatestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latest",
        abstract: "Latest status per vehicle: the report with the greatest time (columns vehicle_id,time,status).",
        discussion: "With --at, the latest report at or before that time. A late, older file never moves it back.")

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup
    @Option(name: .customLong("vehicle"), help: "Only these vehicles (repeat for several).") var vehicles: [String] = []
    @Option(parsing: .unconditional, help: ArgumentHelp("As of this time: \(TimeArgument.helpText).", valueName: "TIME"),
            transform: TimeArgument.parseOrExplain) var at: TimeArgument?

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let rows = try LatestQuery(vehicles: vehicles.isEmpty ? nil : Set(bytesOf: vehicles), at: at?.micros).run(on: snap)
        var p = RowPrinter(output.format, columns: ["vehicle_id", "time", "status"])
        for r in rows { p.row([.text(r.vehicle), .time(r.time), .text(r.status)]) }
        p.finish()
        let found = Set(bytesOf: rows.map(\.vehicle))
        for v in vehicles where !found.contains(bytesOf: v) { printError("note: no status for vehicle \(v)") }
    }
}

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Rows in a time range, ordered by (vehicle_id, time, object_type).",
        subcommands: [QueryDetections.self, QueryStatus.self])
}

struct QueryDetections: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detections", abstract: "Detection rows: vehicle_id,time,object_type,value.")

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup
    @OptionGroup var range: RangeOptionGroup
    @Option(name: .customLong("type"), help: "Only these object types (repeat for several).") var types: [String] = []
    @Option(help: "At most this many rows.") var limit: Int?

    func run() throws {
        let q = RangeQuery.detections(
            vehicles: range.vehicleSet, from: range.fromMicros, to: range.toMicros,
            types: types.isEmpty ? nil : Set(bytesOf: types), limit: limit)
        try printRows(q, on: openSnapshot(storeOption, log), output.format, range.vehicles,
                      columns: ["vehicle_id", "time", "object_type", "value"]) { b, i in
            [.text(b.vehicle), .time(b.time(i)), .text(b.string(column: 0, i)), .int(b.int(column: 1, i))]
        }
    }
}

struct QueryStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Status rows: vehicle_id,time,status.")

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup
    @OptionGroup var range: RangeOptionGroup
    @Option(name: .customLong("status"), help: "Only these statuses (repeat for several).") var statuses: [String] = []
    @Option(help: "At most this many rows.") var limit: Int?

    func run() throws {
        let q = RangeQuery.status(
            vehicles: range.vehicleSet, from: range.fromMicros, to: range.toMicros,
            statuses: statuses.isEmpty ? nil : Set(bytesOf: statuses), limit: limit)
        try printRows(q, on: openSnapshot(storeOption, log), output.format, range.vehicles,
                      columns: ["vehicle_id", "time", "status"]) { b, i in
            [.text(b.vehicle), .time(b.time(i)), .text(b.string(column: 0, i))]
        }
    }
}

extension AggregateFunction: ExpressibleByArgument {}

struct AggCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agg", abstract: "Time-bucketed aggregates.", subcommands: [AggDetections.self])
}

struct AggDetections: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detections",
        abstract: "Aggregate detection values per time bucket: bucket,[vehicle_id,][object_type,]value.",
        discussion: "Buckets are aligned to the UTC epoch; --every from 1s to 366d (e.g. 15m, 1h, 1d).")

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup
    @OptionGroup var range: RangeOptionGroup
    @Option(help: ArgumentHelp("Bucket width, e.g. 15m, 1h, 1d.", valueName: "DURATION")) var every: String
    @Option(help: "count, sum, min, max or avg of the detection value.") var fn: AggregateFunction
    @Option(help: ArgumentHelp("Group by: vehicle, type, or vehicle,type.", valueName: "COLUMNS")) var by: String?
    @Option(name: .customLong("type"), help: "Only these object types (repeat for several).") var types: [String] = []

    func validate() throws {
        guard let w = Units.durationMicros(every), AggregateQuery.bucketWidthRange.contains(w) else {
            throw ValidationError("--every \(every): expected a duration from 1s to 366d, like 15m or 1h")
        }
        _ = try grouping()
    }

    func grouping() throws -> AggregateGrouping {
        var g: AggregateGrouping = []
        for part in (by ?? "").split(separator: ",") {
            switch part.trimmingCharacters() {
            case "vehicle", "vehicle_id": g.insert(.vehicle)
            case "type", "object_type": g.insert(.type)
            default: throw ValidationError("--by \(part): expected vehicle, type or vehicle,type")
            }
        }
        return g
    }

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let g = try grouping()
        let q = AggregateQuery(
            fn, every: Units.durationMicros(every) ?? 0, groupBy: g, vehicles: range.vehicleSet,
            from: range.fromMicros, to: range.toMicros, types: types.isEmpty ? nil : Set(bytesOf: types))
        let rows = try q.run(on: snap)
        var cols = ["bucket"]
        if g.contains(.vehicle) { cols.append("vehicle_id") }
        if g.contains(.type) { cols.append("object_type") }
        cols.append("value")
        var p = RowPrinter(output.format, columns: cols)
        var cells: [Cell] = []  // one buffer for every row, not one grown per row
        cells.reserveCapacity(cols.count)
        for r in rows {
            cells.removeAll(keepingCapacity: true)
            cells.append(.time(r.bucket))
            if g.contains(.vehicle) { cells.append(.text(r.vehicle ?? "")) }
            if g.contains(.type) { cells.append(.text(r.objectType ?? "")) }
            switch r.value {
            case .int(let v): cells.append(.int(v))
            case .double(let v): cells.append(.double(v))
            }
            p.row(cells)
        }
        p.finish()
        if rows.isEmpty { try noteUnknownVehicles(range.vehicles, in: snap) }
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

struct VehiclesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vehicles",
        abstract: "Every vehicle: vehicle_id,first_time,last_time,detection_rows,status_rows.")

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        var p = RowPrinter(output.format, columns: ["vehicle_id", "first_time", "last_time", "detection_rows", "status_rows"])
        for v in try VehicleSummary.compute(on: snap) {
            p.row([.text(v.vehicle), .time(v.firstTime), .time(v.lastTime), .int(Int64(v.detectionRows)), .int(Int64(v.statusRows))])
        }
        p.finish()
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Partitions, segments, rows, bytes and bytes/row, per measurement and in total.",
        discussion: "rows counts distinct visible rows (a scan); stored_rows counts rows in segment files.")

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: FormatOptionGroup

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let s = try StoreStats.compute(on: snap, exactRows: true)
        var p = RowPrinter(output.format, columns: ["measurement", "partitions", "segments", "rows", "stored_rows", "bytes", "bytes_per_row"])
        for m in s.measurements {
            p.row([.text(m.name), .int(Int64(m.partitions)), .int(Int64(m.segments)), .int(Int64(m.rows ?? m.storedRows)),
                   .int(Int64(m.storedRows)), .int(Int64(m.segmentBytes)), .double((m.bytesPerRow * 1000).rounded() / 1000)])
        }
        p.row([.text("total"), .int(Int64(s.partitions)), .int(Int64(s.segments)), .int(Int64(s.rows ?? s.storedRows)),
               .int(Int64(s.storedRows)), .int(Int64(s.totalBytes)), .double((s.bytesPerRow * 1000).rounded() / 1000)])
        p.finish()
    }
}
