import TachoFormat
import TachoStore

/// Keep only rows whose string column `column` holds one of `values`.
public struct StringFilter: Sendable, Hashable {
    public var column: Int
    /// Matched by bytes (`Identity`).
    public var values: Set<ByteString>

    public init(column: Int, values: Set<ByteString>) {
        self.column = column
        self.values = values
    }
}

/// Rows of one measurement for a vehicle set and a time range `[from, to)`, optionally
/// filtered on a string column and capped at `limit` rows. Rows come out ordered by
/// (vehicle, time, identity columns) — for detections (vehicle_id, time, object_type) — with
/// every identity once (the last ingested copy), as SEMANTICS §2 requires.
public struct RangeQuery: Sendable {
    public var measurement: Measurement
    /// nil: every vehicle.
    public var vehicles: Set<ByteString>?
    public var from: Int64
    public var to: Int64
    public var filter: StringFilter?
    /// nil: no limit.
    public var limit: Int?

    public init(_ measurement: Measurement, vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max,
                filter: StringFilter? = nil, limit: Int? = nil) {
        self.measurement = measurement
        self.vehicles = vehicles
        self.from = from
        self.to = to
        self.filter = filter
        self.limit = limit
    }

    /// Detections, optionally only of the object types in `types`.
    public static func detections(vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max,
                                  types: Set<ByteString>? = nil, limit: Int? = nil) -> RangeQuery {
        RangeQuery(.detections, vehicles: vehicles, from: from, to: to,
                   filter: types.map { StringFilter(column: 0, values: $0) }, limit: limit)
    }

    /// Status reports, optionally only those whose status is in `statuses`.
    public static func status(vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max,
                              statuses: Set<ByteString>? = nil, limit: Int? = nil) -> RangeQuery {
        RangeQuery(.status, vehicles: vehicles, from: from, to: to,
                   filter: statuses.map { StringFilter(column: 0, values: $0) }, limit: limit)
    }

    func validate() throws {
        try QueryError.checkRange(from: from, to: to)
        if let limit, limit < 0 { throw QueryError(.invalidArgument, "limit must not be negative (got \(limit))") }
        if let f = filter {
            guard measurement.columns.indices.contains(f.column), measurement.columns[f.column].type == .string else {
                throw QueryError(.invalidArgument, "filter column \(f.column) of \(measurement) is not a string column")
            }
        }
    }
}

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
    public func string(column: Int, _ i: Int) -> String { chunk.columns[column].string(at: chunkRow(i)) }
    public func int(column: Int, _ i: Int) -> Int64 { chunk.columns[column].ints[chunkRow(i)] }
    public func double(column: Int, _ i: Int) -> Double { chunk.columns[column].doubles[chunkRow(i)] }

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
/// borrows its snapshot: use both from one thread at a time.
public final class RowCursor {
    public let query: RangeQuery
    private let scan: ScanCursor
    private var remaining: Int
    /// Per chunk-dictionary entry: does the filter keep it? Reused across chunks.
    private var keep: [Bool] = []
    private var pendingRows: RowBlock?
    private var rowIndex = 0

    public init(snapshot: Snapshot, query: RangeQuery) throws {
        try query.validate()
        self.query = query
        remaining = query.limit ?? .max
        scan = try ScanCursor(snapshot: snapshot, spec: ScanSpec(
            query.measurement, vehicles: query.vehicles, from: query.from, to: query.to))
    }

    /// The next block of rows, or nil at the end. A block is never empty.
    public func nextBatch() throws -> RowBlock? {
        while remaining > 0, let item = try scan.nextItem() {
            if let f = query.filter, case .chunk(_, _, let meta) = item {
                // A chunk holding one value of the filter column is kept or dropped whole.
                let s = meta.stats[f.column]
                if s.distinct == 1 && !f.values.contains(bytesOf: s.lastString) { continue }
            }
            let batch = try scan.decode(item)
            guard !batch.range.isEmpty else { continue }
            var block = RowBlock(measurement: query.measurement, vehicle: batch.vehicle, chunk: batch.chunk,
                                 selection: select(batch))
            let n = block.count
            guard n > 0 else { continue }
            if n > remaining { block = block.prefix(remaining) }
            remaining -= block.count
            return block
        }
        return nil
    }

    /// Applies the filter: strings are compared once per chunk dictionary entry, rows by id.
    private func select(_ batch: ScanBatch) -> RowSelection {
        guard let f = query.filter else { return .range(batch.range) }
        let col = batch.chunk.columns[f.column]
        keep.removeAll(keepingCapacity: true)
        var kept = 0
        for s in col.dictionary {
            let k = f.values.contains(bytesOf: s)
            keep.append(k)
            if k { kept += 1 }
        }
        if kept == 0 { return .indexes([]) }
        if kept == col.dictionary.count { return .range(batch.range) }
        var rows: [Int] = []
        keep.withUnsafeBufferPointer { keep in
            col.ids.withUnsafeBufferPointer { ids in
                for i in batch.range where keep[Int(ids[i])] { rows.append(i) }
            }
        }
        return .indexes(rows)
    }

    private func expect(_ m: Measurement) throws {
        guard query.measurement.id == m.id else {
            throw QueryError(.invalidArgument, "this cursor reads \(query.measurement), not \(m)")
        }
    }

    private func nextRow() throws -> (RowBlock, Int)? {
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

    /// The next detection row (for a detections query), or nil at the end.
    public func nextDetection() throws -> DetectionRow? {
        try expect(.detections)
        guard let (b, i) = try nextRow() else { return nil }
        let r = b.chunkRow(i)
        return DetectionRow(vehicle: b.vehicle, time: b.chunk.times[r], objectType: b.chunk.columns[0].string(at: r),
                            value: b.chunk.columns[1].ints[r])
    }

    /// The next status row (for a status query), or nil at the end.
    public func nextStatus() throws -> StatusRow? {
        try expect(.status)
        guard let (b, i) = try nextRow() else { return nil }
        let r = b.chunkRow(i)
        return StatusRow(vehicle: b.vehicle, time: b.chunk.times[r], status: b.chunk.columns[0].string(at: r))
    }
}
