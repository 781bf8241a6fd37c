import TachoFormat
import TachoStore

/// Rows of one measurement for a vehicle set and a time range `[from, to)`, optionally
/// filtered (`ColumnFilter`s, all of which must pass) and capped at `limit` rows. Rows come
/// out ordered by (vehicle, time, identity columns) — for detections (vehicle_id, time,
/// object_type) — with every identity once (the last ingested copy), as SEMANTICS §2 requires.
///
/// Chunks the footer shows no row of can pass (a string column holding one other value; a
/// numeric column whose min/max lie outside the filter) are skipped without decoding; a
/// string filter is tested once per chunk-dictionary entry, and a chunk none of whose
/// entries pass yields nothing — found, while it pays, by decoding the string filter
/// columns alone before the rest of the chunk.
public struct RangeQuery: Sendable {
    public var measurement: Measurement
    /// nil: every vehicle.
    public var vehicles: Set<ByteString>?
    public var from: Int64
    public var to: Int64
    public var filters: [ColumnFilter]
    /// nil: no limit.
    public var limit: Int?

    public init(_ measurement: Measurement, vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max,
                filters: [ColumnFilter] = [], limit: Int? = nil) {
        self.measurement = measurement
        self.vehicles = vehicles
        self.from = from
        self.to = to
        self.filters = filters
        self.limit = limit
    }

    /// Detections, optionally only of the object types in `types`.
    public static func detections(vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max,
                                  types: Set<ByteString>? = nil, limit: Int? = nil) -> RangeQuery {
        RangeQuery(.detections, vehicles: vehicles, from: from, to: to,
                   filters: types.map { [ColumnFilter("object_type", .eq, $0.map(\.string))] } ?? [], limit: limit)
    }

    /// Status reports, optionally only those whose status is in `statuses`.
    public static func status(vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max,
                              statuses: Set<ByteString>? = nil, limit: Int? = nil) -> RangeQuery {
        RangeQuery(.status, vehicles: vehicles, from: from, to: to,
                   filters: statuses.map { [ColumnFilter("status", .eq, $0.map(\.string))] } ?? [], limit: limit)
    }

    @discardableResult
    func validate() throws -> RowPredicate {
        try QueryError.checkRange(from: from, to: to)
        if let limit, limit < 0 { throw QueryError(.invalidArgument, "limit must not be negative (got \(limit))") }
        return try RowPredicate(filters, in: measurement)
    }
}

/// Which `RowBlock` accessor reads a column: `int`, `double`, `string`, or `cell` (any value).
public enum CellAccess: Sendable, Hashable { case int, double, string, cell }

/// Which rows of a decoded chunk a `RowBlock` holds.
public enum RowSelection: Sendable, Hashable {
    case range(Range<Int>)
    /// Ascending chunk row indexes.
    case indexes([Int])
}

/// A run of result rows of one vehicle: a decoded chunk and the selected rows of it. Row `i`
/// of the block (0 ..< count) is chunk row `chunkRow(i)`.
public struct RowBlock: Sendable {
    public let measurement: Measurement
    public let vehicle: String
    public let chunk: DecodedChunk
    public let selection: RowSelection

    public var count: Int {
        switch selection {
        case .range(let r): r.count
        case .indexes(let a): a.count
        }
    }

    @inline(__always)
    public func chunkRow(_ i: Int) -> Int {
        switch selection {
        case .range(let r): r.lowerBound + i
        case .indexes(let a): a[i]
        }
    }

    public func time(_ i: Int) -> Int64 { chunk.times[chunkRow(i)] }
    /// Row `i`'s value of schema column `column`.
    public func cell(column: Int, _ i: Int) -> CellValue { ChunkCells.cell(chunk, column: column, row: chunkRow(i)) }
    /// Row `i` with every column.
    public func row(_ i: Int) -> Row {
        Row(vehicle: vehicle, time: time(i), cells: measurement.columns.indices.map { cell(column: $0, i) })
    }
    /// How to read column `column` of this block fastest: a typed accessor below (`int`,
    /// `double`, `string`) when every row has a value of that kind, else `cell`.
    public func access(column: Int) -> CellAccess {
        if ChunkCells.hasNulls(chunk, column: column) { return .cell }
        switch ChunkCells.kind(measurement, column) {
        case .int: return .int
        case .double: return .double
        case .string: return .string
        case .bool, .stringList: return .cell
        }
    }
    public func string(column: Int, _ i: Int) -> String { ChunkCells.string(chunk, column: column, row: chunkRow(i)) }
    public func int(column: Int, _ i: Int) -> Int64 { ChunkCells.int(chunk, column: column, row: chunkRow(i)) }
    public func double(column: Int, _ i: Int) -> Double { ChunkCells.double(chunk, column: column, row: chunkRow(i)) }

    /// The first `n` rows.
    func prefix(_ n: Int) -> RowBlock {
        let s: RowSelection = switch selection {
        case .range(let r): .range(r.lowerBound..<(r.lowerBound + n))
        case .indexes(let a): .indexes(Array(a.prefix(n)))
        }
        return RowBlock(measurement: measurement, vehicle: vehicle, chunk: chunk, selection: s)
    }
}

/// One detection row: (vehicle_id, time, object_type, value).
public struct DetectionRow: Sendable, Hashable {
    public var vehicle: String
    public var time: Int64
    public var objectType: String
    public var value: Int64

    public init(vehicle: String, time: Int64, objectType: String, value: Int64) {
        (self.vehicle, self.time, self.objectType, self.value) = (vehicle, time, objectType, value)
    }

    /// Strings compare by bytes (`Identity`), not by Unicode canonical equivalence.
    public static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && a.value == b.value && Identity.equal(a.vehicle, b.vehicle) && Identity.equal(a.objectType, b.objectType)
    }

    public func hash(into h: inout Hasher) {
        h.combine(ByteString(vehicle)); h.combine(time); h.combine(ByteString(objectType)); h.combine(value)
    }
}

/// One status row: (vehicle_id, time, status).
public struct StatusRow: Sendable, Hashable {
    public var vehicle: String
    public var time: Int64
    public var status: String

    public init(vehicle: String, time: Int64, status: String) {
        (self.vehicle, self.time, self.status) = (vehicle, time, status)
    }

    /// Strings compare by bytes (`Identity`), not by Unicode canonical equivalence.
    public static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && Identity.equal(a.vehicle, b.vehicle) && Identity.equal(a.status, b.status)
    }

    public func hash(into h: inout Hasher) { h.combine(ByteString(vehicle)); h.combine(time); h.combine(ByteString(status)) }
}

/// A single-pass, throwing cursor over the rows of a `RangeQuery`. Read it either by blocks
/// (`nextBatch`, fastest) or by rows (`nextDetection` / `nextStatus`), not both. A cursor
/// is one thread's at a time; the snapshot it reads may serve other cursors on other threads.
public final class RowCursor {
    public let query: RangeQuery
    private let scan: ScanCursor
    private let predicate: RowPredicate
    private var remaining: Int
    /// Per chunk-dictionary entry: does the filter keep it? Reused across chunks.
    private var keep: [Bool] = []
    private var pendingRows: RowBlock?
    private var rowIndex = 0
    /// Stored chunks skipped on their footer alone (for tests).
    private(set) var footerSkips = 0
    /// Stored chunks skipped after decoding only their string filter columns (for tests).
    private(set) var dictionarySkips = 0
    /// The string filter columns a dictionary probe decodes (nil: no string filter).
    private let probeColumns: [Bool]?
    private var probe: DecodedChunk
    private(set) var probes = 0
    private var chunksSeen = 0

    public init(snapshot: Snapshot, query: RangeQuery) throws {
        predicate = try query.validate()
        probeColumns = predicate.stringColumns(query.measurement)
        probe = DecodedChunk(measurement: query.measurement)
        self.query = query
        remaining = query.limit ?? .max
        scan = try ScanCursor(snapshot: snapshot, spec: ScanSpec(
            query.measurement, vehicles: query.vehicles, from: query.from, to: query.to))
    }

    /// The next block of rows, or nil at the end. A block is never empty.
    public func nextBatch() throws -> RowBlock? {
        while remaining > 0, let item = try scan.nextItem() {
            var all = predicate.isEmpty
            if !all, case .chunk(_, _, let meta) = item {
                switch predicate.verdict(meta) {
                case .none:
                    footerSkips += 1
                    continue
                case .all: all = true
                case .unknown:
                    if try probeRulesOut(item) { continue }
                }
            }
            let batch = try scan.decode(item)
            guard !batch.range.isEmpty else { continue }
            let selection = all ? .range(batch.range) : predicate.select(batch.chunk, batch.range, keep: &keep)
            var block = RowBlock(measurement: query.measurement, vehicle: batch.vehicle, chunk: batch.chunk,
                                 selection: selection)
            let n = block.count
            guard n > 0 else { continue }
            if n > remaining { block = block.prefix(remaining) }
            remaining -= block.count
            return block
        }
        return nil
    }

    /// A look at a stored chunk's string filter columns alone: true when their
    /// dictionaries show no row can pass, so the other columns are never decompressed.
    /// Probing costs a second decode of those columns when rows do pass, so it goes on only
    /// while it pays: for the first chunks, while at least a quarter of probes skip, and on
    /// every 32nd chunk to notice when the data changes.
    private func probeRulesOut(_ item: ScanItem) throws -> Bool {
        guard let cols = probeColumns, case .chunk(_, let reader, let meta) = item else { return false }
        chunksSeen += 1
        guard probes < 8 || dictionarySkips * 4 >= probes || chunksSeen % 32 == 0 else { return false }
        probes += 1
        try ChunkCells.decode(reader, meta, columns: cols, into: &probe)
        guard predicate.dictionaryRulesOut(probe) else { return false }
        dictionarySkips += 1
        return true
    }

    private func expect(_ m: Measurement) throws {
        guard query.measurement.id == m.id else {
            throw QueryError(.invalidArgument, "this cursor reads \(query.measurement), not \(m)")
        }
    }

    private func nextIndex() throws -> (RowBlock, Int)? {
        while true {
            if let b = pendingRows, rowIndex < b.count {
                rowIndex += 1
                return (b, rowIndex - 1)
            }
            pendingRows = nil  // drop the old block before decoding the next (no copy-on-write)
            rowIndex = 0
            guard let b = try nextBatch() else { return nil }
            pendingRows = b
        }
    }

    /// The next row of any measurement, or nil at the end.
    public func nextRow() throws -> Row? {
        guard let (b, i) = try nextIndex() else { return nil }
        return b.row(i)
    }

    /// The next detection row (for a detections query), or nil at the end.
    public func nextDetection() throws -> DetectionRow? {
        try expect(.detections)
        guard let (b, i) = try nextIndex() else { return nil }
        return DetectionRow(vehicle: b.vehicle, time: b.time(i), objectType: b.string(column: 0, i), value: b.int(column: 1, i))
    }

    /// The next status row (for a status query), or nil at the end.
    public func nextStatus() throws -> StatusRow? {
        try expect(.status)
        guard let (b, i) = try nextIndex() else { return nil }
        return StatusRow(vehicle: b.vehicle, time: b.time(i), status: b.string(column: 0, i))
    }
}
