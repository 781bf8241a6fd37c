import TachoFormat
import TachoStore
import TachoTime

/// A rollup an `AggregateQuery` may answer from (docs/ARCHITECTURE.md "Rollups: reading
/// them"): the stored rows of a declared rollup (FORMAT.md §8) — one per vehicle, window of
/// `width` and value of the `by` columns, with `count` and the kept `<column>_<fn>` cells.
/// The CLI builds these from the declarations; the query engine knows nothing of TOML.
public struct RollupTier: Sendable, Hashable {
    /// How `--explain` names it (`detections:15m`).
    public var name: String
    /// The rollup's measurement as the snapshot's catalog has it.
    public var stored: Measurement
    /// The window width, µs (windows aligned to the Unix epoch, as `AggregateQuery` buckets are).
    public var width: Int64
    /// The raw measurement's columns the rollup groups by (beside the vehicle).
    public var by: [String]
    /// The stored column of each kept (raw column, function): `["value": ["sum": "value_sum"]]`;
    /// functions `sum`, `min`, `max`.
    public var kept: [String: [String: String]]

    public init(name: String, stored: Measurement, width: Int64, by: [String], kept: [String: [String: String]]) {
        (self.name, self.stored, self.width, self.by, self.kept) = (name, stored, width, by, kept)
    }

    /// Why this rollup cannot answer `q`, or nil when it can: the bucket is a multiple of its
    /// width, the grouping and filter columns are among its `by` columns, and the function is
    /// one it keeps what is needed for (avg: sum and count; energy: sum by `units`). Counts and
    /// averages need a field without nulls, since the rollup's count is of rows, not of values.
    func cannotAnswer(_ q: AggregateQuery, _ plan: AggregatePlan) -> String? {
        let m = q.measurement
        guard width > 0, q.bucketWidth % width == 0 else { return "the bucket is not a multiple of its width" }
        guard stored.columnIndex(named: "count") != nil else { return "it stores no count" }
        func grouped(_ c: Int) -> Bool { by.contains(m.columns[c].name) && stored.columnIndex(named: m.columns[c].name) != nil }
        for c in plan.groupColumns where !grouped(c) || m.columns[c].isNullable {
            return "it is not grouped by \(m.columns[c].name)"
        }
        for f in plan.predicate.columns where !grouped(f) { return "a filter reads \(m.columns[f].name), which it is not grouped by" }
        guard let f = plan.field else { return nil }
        let name = m.columns[f].name
        func keeps(_ fn: String) -> Bool { kept[name]?[fn].map { stored.columnIndex(named: $0) != nil } ?? false }
        switch q.function {
        case .count, .avg, .energy:
            if m.columns[f].isNullable { return "\(name) may be null and the rollup counts rows, not values" }
        default: break
        }
        switch q.function {
        case .count: return nil
        case .sum, .avg: return keeps("sum") ? nil : "it keeps no sum of \(name)"
        case .min: return keeps("min") ? nil : "it keeps no min of \(name)"
        case .max: return keeps("max") ? nil : "it keeps no max of \(name)"
        case .energy:
            guard let u = plan.units, grouped(u) else { return "it is not grouped by units" }
            return keeps("sum") ? nil : "it keeps no sum of \(name)"
        }
    }

    /// Whether the rollup's answer equals the raw rows' to the bit: float sums (sum, avg and
    /// energy of a float64 field, energy of any) add in another order, so they are read from a
    /// rollup only where the raw rows are gone.
    static func isExact(_ q: AggregateQuery, _ plan: AggregatePlan) -> Bool {
        switch plan.mode {
        case .count, .int: true
        case .energy: false
        case .double: q.function == .min || q.function == .max || q.function == .count
        }
    }
}

/// Which tier answered which part of an aggregate's range (`tacho agg --explain`).
public struct TierRange: Sendable, Hashable, CustomStringConvertible {
    /// The rollup's name, nil for the raw rows.
    public var rollup: String?
    /// `[from, to)`, µs (`Int64.min`/`.max`: unbounded).
    public var from: Int64
    public var to: Int64
    /// Why the tier was chosen or what it lacks, for the operator.
    public var note: String

    public var description: String {
        func t(_ x: Int64) -> String { x == .min ? "-∞" : x == .max ? "+∞" : Timestamp.format(x) }
        return "[\(t(from)), \(t(to))) \(rollup.map { "rollup \($0)" } ?? "raw")\(note.isEmpty ? "" : ": \(note)")"
    }
}

/// The aggregate's rows and how they were answered.
public struct AggregateAnswer: Sendable {
    public var rows: [AggregateRow]
    /// In time order; they partition the query's range.
    public var tiers: [TierRange]
}

enum TierMath {
    /// The first multiple of `w` at or after `x` (`.min` stays; `.max` when none fits).
    static func ceil(_ x: Int64, _ w: Int64) -> Int64 {
        if x == .min || x == .max { return x }
        let (s, o) = CivilDate.floorDiv(x, w).multipliedReportingOverflow(by: w)
        if o { return .min }
        if s == x { return x }
        let (n, o2) = s.addingReportingOverflow(w)
        return o2 ? .max : n
    }

    /// The last multiple of `w` at or before `x` (`.max` stays; `.min` when none fits).
    static func floor(_ x: Int64, _ w: Int64) -> Int64 {
        if x == .max || x == .min { return x }
        let (s, o) = CivilDate.floorDiv(x, w).multipliedReportingOverflow(by: w)
        return o ? .min : s
    }
}

extension AggregateQuery {
    /// The parts of `[from, to)` and who answers each: the widest rollup that can answer the
    /// query answers the whole windows of its width inside the range and above its own
    /// retention watermark (for inexact functions, `RollupTier.isExact`, only those below the
    /// raw rows' watermark); the raw rows answer the rest, partial windows at the edges included.
    func tierPlan(_ snapshot: Snapshot, _ plan: AggregatePlan) -> [(tier: RollupTier?, range: TierRange)] {
        let rawWatermark = snapshot.manifest.watermarks[measurement.id] ?? .min
        func raw(_ a: Int64, _ b: Int64, _ why: String) -> (tier: RollupTier?, range: TierRange) {
            var note = why
            if rawWatermark > a {
                note += (note.isEmpty ? "" : "; ") + "raw rows before \(Timestamp.format(rawWatermark)) have expired"
            }
            return (nil, TierRange(rollup: nil, from: a, to: b, note: note))
        }
        let usable = rollups.filter { $0.cannotAnswer(self, plan) == nil }
        guard let tier = usable.max(by: { $0.width < $1.width }) else {
            let why = rollups.isEmpty ? "" : "no rollup answers: " + rollups.map { "\($0.name): \($0.cannotAnswer(self, plan) ?? "")" }.joined(separator: "; ")
            return [raw(from, to, why)]
        }
        let w = tier.width
        let rollupWatermark = snapshot.manifest.watermarks[tier.stored.id] ?? .min
        let a = TierMath.ceil(Swift.max(from, rollupWatermark), w)
        let whole = TierMath.floor(to, w)
        var b = whole
        var note = "whole \(tier.name) windows"
        if !RollupTier.isExact(self, plan) {
            b = Swift.min(b, TierMath.ceil(rawWatermark, w))
            note += " where raw rows have expired (a float sum adds in another order than the raw rows')"
        }
        guard a < b else {
            return [raw(from, to, b < whole ? "a float sum of \(tier.name) is read only where raw rows expired" : "no whole \(tier.name) window to read")]
        }
        var out: [(tier: RollupTier?, range: TierRange)] = []
        if from < a { out.append(raw(from, a, "partial window or outside \(tier.name)")) }
        out.append((tier, TierRange(rollup: tier.name, from: a, to: b, note: note)))
        if b < to { out.append(raw(b, to, b < whole ? "raw rows kept: a float sum is read from them" : "partial window or outside \(tier.name)")) }
        return out
    }
}
