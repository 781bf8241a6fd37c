import TachoFormat
import TachoStore

public enum AggregateFunction: String, Sendable, Hashable, CaseIterable {
    case count, sum, min, max, avg
    /// kWh per window from power readings (docs/SEMANTICS.md "Energy").
    case energy
}

/// Which edge of its window names a bucket in the output.
public enum BucketLabel: String, Sendable, Hashable, CaseIterable {
    /// The window's start (the default).
    case left
    /// The window's end: `[4:00, 4:15)` is 4:15.
    case right
}

/// What an aggregate prints for a window without rows.
public enum FillMode: String, Sendable, Hashable, CaseIterable {
    /// Nothing: only windows with rows appear.
    case none
    /// 0 (energy: no sample means no energy used).
    case zero = "0"
    /// The group's previous window's value (null before its first).
    case previous
}

public enum AggregateValue: Sendable, Hashable {
    /// count; sum, min and max of an int64 field.
    case int(Int64)
    /// avg, energy; sum, min and max of a float64 field.
    case double(Double)
    /// `fill previous` before a group's first value; min/max of a group without values.
    case null
}

/// One output group: the bucket label (µs: the window's start, or its end with
/// `BucketLabel.right`), the vehicle when grouped by it, the values of the grouping string
/// columns (in the order asked), and the value.
public struct AggregateRow: Sendable, Hashable {
    public var bucket: Int64
    public var vehicle: String?
    public var groups: [String]
    public var value: AggregateValue

    public init(bucket: Int64, vehicle: String?, groups: [String] = [], value: AggregateValue) {
        (self.bucket, self.vehicle, self.groups, self.value) = (bucket, vehicle, groups, value)
    }

    /// Strings compare by bytes (`Identity`), not by Unicode canonical equivalence.
    public static func == (a: Self, b: Self) -> Bool {
        a.bucket == b.bucket && a.value == b.value
            && a.vehicle.map { ByteString($0) } == b.vehicle.map { ByteString($0) }
            && a.groups.map { ByteString($0) } == b.groups.map { ByteString($0) }
    }

    public func hash(into h: inout Hasher) {
        h.combine(bucket); h.combine(vehicle.map { ByteString($0) }); h.combine(groups.map { ByteString($0) }); h.combine(value)
    }
}

/// A time-bucketed aggregate of one numeric column (`field`) of any measurement.
///
/// Buckets are `[k·width, (k+1)·width)` for integer k, aligned to the Unix epoch (UTC); k is
/// the floor of time/width, so negative times bucket the same way. Groups are the bucket
/// plus, as asked in `groupBy`, `vehicle` and string columns (`type` aliases `object_type`).
/// Without `fill` only non-empty groups are returned; with it every window of `[from, to)`
/// (of the data's span when unbounded) appears for every group seen. Rows are ordered by
/// (bucket, vehicle, group strings by bytes).
///
/// Sums of int64 fields are exact (an Int64 plus a carry word); `sum` throws
/// `QueryError(.sumOverflow)` when a final sum does not fit in Int64. `energy` reads the
/// string column `units`: a window's kWh = mean of its kW samples × window hours + sum of
/// its kWh readings (other units count for nothing).
///
/// Chunks stored whole (no other segment overlaps them) that lie inside one bucket and
/// inside the range are answered from their footer statistics without decoding, when the
/// footer settles the filters and each grouping column holds a single value in the chunk.
public struct AggregateQuery: Sendable {
    public var measurement: Measurement
    public var function: AggregateFunction
    /// The numeric column; nil: the measurement's only numeric column (not needed by count).
    public var field: String?
    /// Bucket width in µs, within `bucketWidthRange`.
    public var bucketWidth: Int64
    /// `vehicle` (or `vehicle_id`) and string column names.
    public var groupBy: [String]
    /// nil: every vehicle. Sets match by bytes (`Identity`).
    public var vehicles: Set<ByteString>?
    public var from: Int64
    public var to: Int64
    public var filters: [ColumnFilter]
    public var label: BucketLabel
    public var fill: FillMode
    /// Rollups of `measurement` the query may read instead of raw rows (`tierPlan`); empty:
    /// raw rows only.
    public var rollups: [RollupTier] = []

    /// One second to 366 days.
    public static let bucketWidthRange: ClosedRange<Int64> = 1_000_000...(366 * 86_400_000_000)
    /// The most rows `fill` may produce (windows × groups).
    public static let maxFilledRows = 10_000_000
    /// The string column `energy` reads units from.
    public static let unitsColumn = "units"

    /// An aggregate of detections (their `value`).
    public init(_ function: AggregateFunction, every bucketWidth: Int64, groupBy: [String] = [],
                vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max, filters: [ColumnFilter] = []) {
        self.init(.detections, function, every: bucketWidth, groupBy: groupBy, vehicles: vehicles, from: from, to: to,
                  filters: filters)
    }

    public init(_ measurement: Measurement, _ function: AggregateFunction, field: String? = nil,
                every bucketWidth: Int64, groupBy: [String] = [], vehicles: Set<ByteString>? = nil,
                from: Int64 = .min, to: Int64 = .max, filters: [ColumnFilter] = [],
                label: BucketLabel = .left, fill: FillMode = .none) {
        self.measurement = measurement
        self.function = function
        self.field = field
        self.bucketWidth = bucketWidth
        self.groupBy = groupBy
        self.vehicles = vehicles
        self.from = from
        self.to = to
        self.filters = filters
        self.label = label
        self.fill = fill
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

    /// The rows and which tier (raw rows or a rollup) answered which part of the range.
    public func answer(on snapshot: Snapshot, useFooterStats: Bool = true) throws -> AggregateAnswer {
        let (rows, _, tiers) = try run(on: snapshot, useFooterStats: useFooterStats)
        return AggregateAnswer(rows: rows, tiers: tiers)
    }

    /// The rows and how many stored chunks were answered from footer stats alone.
    func explain(on snapshot: Snapshot, useFooterStats: Bool = true) throws -> (rows: [AggregateRow], footerChunks: Int) {
        let (rows, footerChunks, _) = try run(on: snapshot, useFooterStats: useFooterStats)
        return (rows, footerChunks)
    }

    private func run(on snapshot: Snapshot, useFooterStats: Bool) throws -> ([AggregateRow], Int, [TierRange]) {
        try validate()
        let plan = try AggregatePlan(self)
        var engine = try AggregateEngine(query: self, plan: plan, snapshot: snapshot, useFooterStats: useFooterStats)
        let tiers = tierPlan(snapshot, plan)
        for (tier, range) in tiers {
            if let tier {
                try engine.runRollup(tier, from: range.from, to: range.to)
            } else {
                try engine.run(from: range.from, to: range.to)
            }
        }
        return (try engine.rows(), engine.footerChunks, tiers.map(\.range))
    }
}

/// An `AggregateQuery`'s names resolved against its measurement.
struct AggregatePlan {
    enum Mode { case count, int, double, energy }

    let mode: Mode
    /// The value column (nil for count).
    let field: Int?
    let fieldKind: CellKind?
    /// The `units` column of energy.
    let units: Int?
    let byVehicle: Bool
    /// String columns grouped by, in the order asked.
    let groupColumns: [Int]
    let predicate: RowPredicate

    init(_ q: AggregateQuery) throws {
        let m = q.measurement
        var byVehicle = false
        var cols: [Int] = []
        for name in q.groupBy {
            if name == "vehicle" || name == "vehicle_id" { byVehicle = true; continue }
            let c = try MeasurementLookup.column(name, of: m)
            guard ChunkCells.kind(m, c) == .string else {
                throw QueryError(.invalidArgument, "cannot group by \(m.name).\(m.columns[c].name) (\(m.columns[c].type)): "
                                 + "only vehicle and string columns group")
            }
            if !cols.contains(c) { cols.append(c) }
        }
        (self.byVehicle, groupColumns) = (byVehicle, cols)
        let numeric = m.columns.indices.filter { ChunkCells.kind(m, $0).isNumeric }
        var field: Int?
        if let f = q.field {
            field = try MeasurementLookup.column(f, of: m)
        } else if q.function != .count {
            guard numeric.count == 1 else {
                throw QueryError(.invalidArgument, "\(q.function.rawValue) of \(m.name) needs a field: one of "
                                 + (numeric.isEmpty ? "(none: it has no numeric column)" : numeric.map { m.columns[$0].name }.joined(separator: ", ")))
            }
            field = numeric[0]
        }
        if let f = field, !ChunkCells.kind(m, f).isNumeric {
            throw QueryError(.invalidArgument, "field \(m.name).\(m.columns[f].name) is \(m.columns[f].type), not a number; "
                             + "numeric columns: \(numeric.map { m.columns[$0].name }.joined(separator: ", "))")
        }
        self.field = field
        fieldKind = field.map { ChunkCells.kind(m, $0) }
        if q.function == .energy {
            guard let u = m.columnIndex(named: AggregateQuery.unitsColumn), ChunkCells.kind(m, u) == .string else {
                throw QueryError(.invalidArgument, "energy needs a string column \"units\" (kW or kWh); \(m.name) has: "
                                 + MeasurementLookup.describeColumns(m))
            }
            units = u
            mode = .energy
        } else {
            units = nil
            mode = q.function == .count ? .count : (fieldKind == .int ? .int : .double)
        }
        predicate = try RowPredicate(q.filters, in: m)
    }

    /// Schema columns the engine decodes.
    func columns(_ m: Measurement) -> [Bool] {
        var want = Set(groupColumns).union(predicate.columns)
        if mode != .count, let field { want.insert(field) }
        if let units { want.insert(units) }
        return m.columns.indices.map { want.contains($0) }
    }
}
