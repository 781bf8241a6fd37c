import TachoFormat
import TachoQuery
import TachoStore

extension Cell {
    /// A query value as printed.
    public init(_ v: CellValue) {
        switch v {
        case .null: self = .null
        case .int(let x): self = .int(x)
        case .double(let x): self = .double(x)
        case .string(let s): self = .text(s)
        case .bool(let b): self = .bool(b)
        case .strings(let a): self = .strings(a)
        }
    }
}

/// The columns and cells of each query's result, as every front prints them.
public enum QueryRows {
    /// A measurement's rows: `vehicle_id,time,<the measurement's columns…>`.
    public static func columns(of m: Measurement) -> [String] { ["vehicle_id", "time"] + m.columns.map(\.name) }

    /// A row of `columns(of:)`.
    public static func cells(_ r: Row) -> [Cell] { [.text(r.vehicle), .time(r.time)] + r.cells.map(Cell.init) }

    /// `tacho latest` without a measurement: the status per vehicle.
    public static let statusColumns = ["vehicle_id", "time", "status"]

    /// A row of `statusColumns`.
    public static func cells(_ r: LatestRow) -> [Cell] { [.text(r.vehicle), .time(r.time), .text(r.status)] }

    /// An aggregate's header: `bucket`, `vehicle_id` when grouped by vehicle, the grouping
    /// string columns by their real names (once each), `value`. Throws `QueryError` for a
    /// grouping name that is no column of `m`.
    public static func aggregateColumns(of m: Measurement, groupBy: [String]) throws -> [String] {
        var cols = ["bucket"]
        if groupBy.contains(where: { $0 == "vehicle" || $0 == "vehicle_id" }) { cols.append("vehicle_id") }
        var groupNames: [String] = []
        for name in groupBy where name != "vehicle" && name != "vehicle_id" {
            let real = m.columns[try MeasurementLookup.column(name, of: m)].name
            if !groupNames.contains(real) { groupNames.append(real) }
        }
        return cols + groupNames + ["value"]
    }
}

extension RowPrinter {
    /// Prints the rows of `q` (not `finish()`); returns how many. Cells are read typed from
    /// each block (no `CellValue` per cell).
    public mutating func printRows(of q: RangeQuery, on snap: Snapshot) throws -> Int {
        let cursor = try RowCursor(snapshot: snap, query: q)
        var cells: [Cell] = []
        cells.reserveCapacity(q.measurement.columns.count + 2)
        var n = 0
        while let b = try cursor.nextBatch() {
            printBlock(b, cells: &cells)
            n += b.count
        }
        return n
    }

    /// Prints one block of a `RowCursor` (not `finish()`): a front that hands out its bytes
    /// as they come (an HTTP response body) pulls blocks itself. `cells` is the caller's
    /// buffer, kept at capacity across blocks.
    public mutating func printBlock(_ b: RowBlock, cells: inout [Cell]) {
        let reads = b.measurement.columns.indices.map { b.access(column: $0) }
        for i in 0..<b.count {
            cells.removeAll(keepingCapacity: true)
            cells.append(.text(b.vehicle))
            cells.append(.time(b.time(i)))
            for (c, read) in reads.enumerated() {
                switch read {
                case .int: cells.append(.int(b.int(column: c, i)))
                case .double: cells.append(.double(b.double(column: c, i)))
                case .string: cells.append(.text(b.string(column: c, i)))
                case .cell: cells.append(Cell(b.cell(column: c, i)))
                }
            }
            row(cells)
        }
    }

    /// Prints aggregate rows under `QueryRows.aggregateColumns` (not `finish()`), with one
    /// cell buffer for every row.
    public mutating func printAggregates(_ rows: [AggregateRow]) {
        var cells: [Cell] = []
        cells.reserveCapacity(columns.count)
        let byVehicle = columns.count > 1 && columns[1] == "vehicle_id"
        for r in rows {
            cells.removeAll(keepingCapacity: true)
            cells.append(.time(r.bucket))
            if byVehicle { cells.append(.text(r.vehicle ?? "")) }
            for s in r.groups { cells.append(.text(s)) }
            switch r.value {
            case .int(let v): cells.append(.int(v))
            case .double(let v): cells.append(.double(v))
            case .null: cells.append(.null)
            }
            row(cells)
        }
    }
}

/// The tables of the summary commands (`vehicles`, `stats`), as every front prints them.
public struct SummaryTable {
    public var columns: [String]
    public var rows: [[Cell]]

    /// Per vehicle: first and last time and its detection and status rows, or only `m`'s rows.
    public static func vehicles(on snap: Snapshot, measurement m: Measurement?) throws -> SummaryTable {
        if let m {
            return SummaryTable(
                columns: ["vehicle_id", "first_time", "last_time", "rows"],
                rows: try VehicleSummary.compute(on: snap, measurements: [m]).map {
                    [.text($0.vehicle), .time($0.firstTime), .time($0.lastTime), .int(Int64($0.rows(of: m)))]
                })
        }
        return SummaryTable(
            columns: ["vehicle_id", "first_time", "last_time", "detection_rows", "status_rows"],
            rows: try VehicleSummary.compute(on: snap).map {
                [.text($0.vehicle), .time($0.firstTime), .time($0.lastTime), .int(Int64($0.detectionRows)), .int(Int64($0.statusRows))]
            })
    }

    /// Partitions, segments, rows, bytes and bytes/row per measurement, then in total; only
    /// `only`'s row when given.
    public static func stats(on snap: Snapshot, measurement only: Measurement?) throws -> SummaryTable {
        let s = try StoreStats.compute(on: snap, exactRows: true, measurements: only.map { [$0] })
        var rows: [[Cell]] = s.measurements.map { m in
            [.text(m.name), .int(Int64(m.partitions)), .int(Int64(m.segments)), .int(Int64(m.rows ?? m.storedRows)),
             .int(Int64(m.storedRows)), .int(Int64(m.segmentBytes)), .double((m.bytesPerRow * 1000).rounded() / 1000)]
        }
        if only == nil {
            rows.append([.text("total"), .int(Int64(s.partitions)), .int(Int64(s.segments)), .int(Int64(s.rows ?? s.storedRows)),
                         .int(Int64(s.storedRows)), .int(Int64(s.totalBytes)), .double((s.bytesPerRow * 1000).rounded() / 1000)])
        }
        return SummaryTable(columns: ["measurement", "partitions", "segments", "rows", "stored_rows", "bytes", "bytes_per_row"], rows: rows)
    }
}
