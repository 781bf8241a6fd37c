import TachoFormat

/// A rollup as declared beside its measurement (docs/CONFIG.md "Rollups"): the measurement's
/// rows summarised per vehicle, per `every`-wide window aligned to the Unix epoch, and per the
/// values of the `by` columns. Every rollup keeps the row count; `fns` names what else it keeps
/// of each `of` column. Stored as the derived measurement `<measurement>:<name>` (FORMAT.md
/// "Rollups"), with its own age retention.
public struct RollupDeclaration: Sendable, Hashable {
    /// What a rollup keeps of each `of` column (the row count is always kept).
    public enum Function: String, Sendable, Hashable, CaseIterable {
        case count, sum, min, max, first, last

        /// Functions that need a numeric `of` column.
        public var needsNumber: Bool { self == .sum || self == .min || self == .max }
    }

    /// The window width in microseconds and as written (`15m`).
    public var every: Retention
    /// Default: `every` as written (`15m`); the rollup's catalog name is `<measurement>:<name>`.
    public var name: String
    /// Grouping columns beside the vehicle, in order.
    public var by: [String]
    /// The columns `sum`/`min`/`max`/`first`/`last` apply to, in order.
    public var of: [String]
    /// As declared, without duplicates (`count` is kept whether named or not).
    public var fns: [Function]
    /// Age retention of the rollup's rows (nil keeps them until the disk budget needs the space).
    public var retention: Retention?

    public init(every: Retention, name: String? = nil, by: [String] = [], of: [String] = [], fns: [Function] = [.count],
                retention: Retention? = nil) {
        self.every = every
        self.name = name ?? every.text
        self.by = by
        self.of = of
        self.fns = fns
        self.retention = retention
    }

    public func keeps(_ f: Function) -> Bool { f == .count || fns.contains(f) }

    /// `detections__15m`: the catalog name of this rollup of `measurement` (a valid catalog name,
    /// FORMAT.md §7, so stores with rollups stay readable by tachos that predate them).
    public func storedName(of measurement: String) -> String { "\(measurement)__\(name)" }

    /// `detections:15m`: how commands name it (`tacho query detections:15m`).
    public func displayName(of measurement: String) -> String { "\(measurement):\(name)" }

    /// The value functions kept per `of` column, in a fixed order (sum, min, max, first, last).
    public var valueFunctions: [Function] { [.sum, .min, .max, .first, .last].filter { fns.contains($0) } }

    /// The rollup's stored columns after vehicle and bucket time: the `by` columns, `count`,
    /// `first_time`/`last_time` when first or last is kept, then `<col>_<fn>` per `of` column.
    public var storedColumnNames: [String] {
        var out = by + ["count"]
        if keeps(.first) || keeps(.last) { out += ["first_time", "last_time"] }
        for c in of { for f in valueFunctions { out.append("\(c)_\(f.rawValue)") } }
        return out
    }

    /// The partition width (µs) of this rollup's measurement, stored in its catalog entry with
    /// its first rows and fixed from then on (FORMAT.md §7): nil (the store's width, one day)
    /// below one hour; 32 days from one hour; 384 days (12 × 32) from one day. A partition
    /// holds a few hundred windows per group and vehicle (768 hourly, 384 daily), so a
    /// vehicle's rows of it are one chunk of hundreds of rows instead of a chunk per day, and a
    /// year-long query opens 1–2 segments instead of 365 (docs/ARCHITECTURE.md "Rollups"). The
    /// bound keeps what a compaction of one partition rewrites near a day of raw rows (a
    /// fleet's hourly rollup of 32 days is ~0.4 M rows, its daily rollup of 384 days ~0.2 M).
    /// Below one hour a day already holds ≥ 24 windows per group, and a wider partition would
    /// stay open, with its commits' segments unmerged, for longer. Whole days, and 384 a
    /// multiple of 32, so partitions of either width start at UTC midnights and nest.
    public var partitionWidth: Int64? {
        let hour: Int64 = 3_600_000_000, day: Int64 = 86_400_000_000
        if every.micros < hour { return nil }
        return every.micros < day ? 32 * day : 384 * day
    }

    /// The widths a rollup may have: whole seconds that divide a day or are whole days, so
    /// every window lies inside one UTC day or is a run of whole days (docs/CONFIG.md).
    public static func widthProblem(_ micros: Int64) -> String? {
        let day: Int64 = 86_400_000_000
        if micros <= 0 { return "must be longer than 0" }
        if micros % 1_000_000 != 0 { return "must be a whole number of seconds" }
        if micros < day && day % micros != 0 { return "must divide a day (1m, 5m, 15m, 1h, 6h …) or be whole days" }
        if micros > day && micros % day != 0 { return "must divide a day (1m, 5m, 15m, 1h, 6h …) or be whole days" }
        return nil
    }
}

extension RollupDeclaration {
    /// The engine's schema of this rollup of `source` (id 0: the store's catalog gives one):
    /// the `by` columns (the identity, with vehicle and the window start as time), `count`,
    /// `first_time`/`last_time` (µs) when first or last is kept, then `<of>_<fn>` per `of`
    /// column — sums of int64 columns as int64, of float64 columns as float64; min, max, first
    /// and last in the column's type. All but the identity and `count` are nullable: a window
    /// whose rows of a group are all gone is kept as a row with `count` 0 and no values (a
    /// tombstone readers skip, FORMAT.md "Rollups").
    public func measurement(of source: MeasurementDeclaration) throws(ConfigError) -> Measurement {
        func type(_ c: String) throws(ConfigError) -> (ColumnType, Bool) {
            guard let f = source.field(named: c), let t = ColumnTypeAdapter.columnType(f.type) else {
                throw ConfigError(path: "measurement", measurement: source.name, column: c, .rollupColumn(key: "by", column: c, why: "not a field of this measurement"))
            }
            return (t, !f.required)
        }
        var cols: [ColumnSpec] = []
        for c in by {
            let (t, nullable) = try type(c)
            cols.append(ColumnSpec(c, t, identity: true, nullable: nullable))
        }
        cols.append(ColumnSpec("count", .int64))
        if keeps(.first) || keeps(.last) {
            cols.append(ColumnSpec("first_time", .int64, nullable: true))
            cols.append(ColumnSpec("last_time", .int64, nullable: true))
        }
        for c in of {
            let (t, _) = try type(c)
            for f in valueFunctions { cols.append(ColumnSpec("\(c)_\(f.rawValue)", t, nullable: true)) }
        }
        return Measurement(id: 0, name: storedName(of: source.name), columns: cols, partitionWidth: partitionWidth)
    }
}
