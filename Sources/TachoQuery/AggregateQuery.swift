import TachoFormat
import TachoStore

public enum AggregateFunction: String, Sendable, Hashable, CaseIterable {
    case count, sum, min, max, avg
}

/// The group columns of an aggregate besides the bucket.
public struct AggregateGrouping: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let vehicle = AggregateGrouping(rawValue: 1)
    public static let type = AggregateGrouping(rawValue: 2)
}

public enum AggregateValue: Sendable, Hashable {
    /// count, sum, min, max.
    case int(Int64)
    /// avg.
    case double(Double)
}

/// One output group: bucket start (µs, a multiple of the width), the group columns that
/// were asked for (nil otherwise), and the value.
public struct AggregateRow: Sendable, Hashable {
    public var bucket: Int64
    public var vehicle: String?
    public var objectType: String?
    public var value: AggregateValue

    public init(bucket: Int64, vehicle: String?, objectType: String?, value: AggregateValue) {
        (self.bucket, self.vehicle, self.objectType, self.value) = (bucket, vehicle, objectType, value)
    }

    /// Strings compare by bytes (`Identity`), not by Unicode canonical equivalence.
    public static func == (a: Self, b: Self) -> Bool {
        a.bucket == b.bucket && a.value == b.value
            && a.vehicle.map { ByteString($0) } == b.vehicle.map { ByteString($0) }
            && a.objectType.map { ByteString($0) } == b.objectType.map { ByteString($0) }
    }

    public func hash(into h: inout Hasher) {
        h.combine(bucket); h.combine(vehicle.map { ByteString($0) }); h.combine(objectType.map { ByteString($0) }); h.combine(value)
    }
}

/// A time-bucketed aggregate of detection `value`s.
///
/// Buckets are `[k·width, (k+1)·width)` for integer k, aligned to the Unix epoch (UTC); k is
/// the floor of time/width, so negative times bucket the same way. Only non-empty groups are
/// returned, ordered by (bucket, vehicle, object type).
///
/// Sums are exact: they are accumulated with a carry word, so intermediate Int64 overflow
/// does no harm. `sum` throws `QueryError(.sumOverflow)` when a group's final sum does not
/// fit in Int64; `avg` is computed from the exact sum as a Double and never fails.
///
/// Chunks stored whole (no other segment overlaps them) that lie inside one bucket and
/// inside the range are answered from their footer statistics without decoding, when the
/// grouping allows (no type grouping or filter, or a chunk holding a single object type).
public struct AggregateQuery: Sendable {
    public var function: AggregateFunction
    /// Bucket width in µs, within `bucketWidthRange`.
    public var bucketWidth: Int64
    public var groupBy: AggregateGrouping
    /// nil: every vehicle. Sets match by bytes (`Identity`).
    public var vehicles: Set<ByteString>?
    public var from: Int64
    public var to: Int64
    /// nil: every object type.
    public var types: Set<ByteString>?

    /// One second to 366 days.
    public static let bucketWidthRange: ClosedRange<Int64> = 1_000_000...(366 * 86_400_000_000)

    public init(_ function: AggregateFunction, every bucketWidth: Int64, groupBy: AggregateGrouping = [],
                vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max, types: Set<ByteString>? = nil) {
        self.function = function
        self.bucketWidth = bucketWidth
        self.groupBy = groupBy
        self.vehicles = vehicles
        self.from = from
        self.to = to
        self.types = types
    }

    func validate() throws {
        try QueryError.checkRange(from: from, to: to)
        guard Self.bucketWidthRange.contains(bucketWidth) else {
            throw QueryError(.bucketWidth,
                             "bucket width \(bucketWidth) µs is out of range: it must be between 1 s and 366 days")
        }
    }

    /// Runs the aggregate. `useFooterStats: false` forces decoding every chunk (for tests).
    public func run(on snapshot: Snapshot, useFooterStats: Bool = true) throws -> [AggregateRow] {
        try explain(on: snapshot, useFooterStats: useFooterStats).rows
    }

    /// The rows and how many stored chunks were answered from footer stats alone.
    func explain(on snapshot: Snapshot, useFooterStats: Bool = true) throws -> (rows: [AggregateRow], footerChunks: Int) {
        try validate()
        var engine = AggregateEngine(query: self, snapshot: snapshot, useFooterStats: useFooterStats)
        try engine.run()
        return (try engine.rows(), engine.footerChunks)
    }
}

/// Count, exact sum (Int64 plus carry), min and max of a group.
struct Accumulator {
    var count: Int64 = 0
    var sum: Int64 = 0
    /// The true sum is `sum + carry · 2^64`.
    var carry: Int64 = 0
    var min: Int64 = .max
    var max: Int64 = .min

    @inline(__always)
    mutating func add(_ v: Int64) {
        count += 1
        let (s, o) = sum.addingReportingOverflow(v)
        sum = s
        if o { carry += v < 0 ? -1 : 1 }
        if v < min { min = v }
        if v > max { max = v }
    }

    mutating func merge(_ o: Accumulator) {
        count += o.count
        let (s, ov) = sum.addingReportingOverflow(o.sum)
        sum = s
        carry += o.carry
        if ov { carry += o.sum < 0 ? -1 : 1 }
        if o.min < min { min = o.min }
        if o.max > max { max = o.max }
    }

    var exactSum: Int64? {
        // The wrapped sum is right when carry is 0.
        carry == 0 ? sum : nil
    }

    var average: Double {
        (Double(carry) * 18_446_744_073_709_551_616.0 + Double(sum)) / Double(count)
    }
}
