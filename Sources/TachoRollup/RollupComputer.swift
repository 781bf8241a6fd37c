import TachoFormat
import TachoSchema
import TachoStore

/// Computes the rows of one rollup from a snapshot's raw rows (identity replacement as the
/// scan applies it), for chosen windows of one vehicle.
struct RollupComputer {
    let rollup: RollupDeclaration
    /// The raw measurement as the snapshot's catalog has it.
    let source: Measurement
    let byIndex: [Int]
    let ofIndex: [Int]

    init?(rollup: RollupDeclaration, source: Measurement) {
        var by: [Int] = [], of: [Int] = []
        for c in rollup.by { guard let i = source.columnIndex(named: c) else { return nil }; by.append(i) }
        for c in rollup.of { guard let i = source.columnIndex(named: c) else { return nil }; of.append(i) }
        self.rollup = rollup
        self.source = source
        byIndex = by
        ofIndex = of
    }

    var width: Int64 { rollup.every.micros }

    /// The accumulated rows of `vehicle` in the windows starting at `starts` (sorted), read
    /// from `snapshot`.
    func compute(_ snapshot: Snapshot, vehicle: String, starts: [Int64]) throws -> [RollupKey: RollupAccumulator] {
        try compute(snapshot, vehicles: [ByteString(vehicle)], starts: starts)
    }

    /// The accumulated rows of `vehicles` (nil: every vehicle) in the windows starting at
    /// `starts` (sorted), read from `snapshot`: the maintainer's recomputation, and the
    /// backfill's (`RollupBackfill`).
    func compute(_ snapshot: Snapshot, vehicles: Set<ByteString>?, starts: [Int64]) throws -> [RollupKey: RollupAccumulator] {
        var out: [RollupKey: RollupAccumulator] = [:]
        var wanted = [Bool](repeating: false, count: source.columns.count)
        for i in byIndex + ofIndex { wanted[i] = true }
        var cells: [ColumnValue?] = []  // one row's `of` values, reused row after row
        cells.reserveCapacity(ofIndex.count)
        for range in Self.runs(starts, width: width) {
            let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(source, vehicles: vehicles, from: range.lowerBound, to: range.upperBound, columns: wanted))
            while let b = try cursor.next() {
                let cols = b.chunk.columns
                for i in b.range {
                    let t = b.chunk.times[i]
                    let group = byIndex.map { ColumnValue.at(i, of: cols[$0].values, dictionary: cols[$0].dictionary) }
                    cells.removeAll(keepingCapacity: true)
                    for c in ofIndex { cells.append(ColumnValue.at(i, of: cols[c].values, dictionary: cols[c].dictionary)) }
                    let key = RollupKey(vehicle: b.vehicle, start: windowStart(t, width: width), group: group)
                    out[key, default: RollupAccumulator(columns: ofIndex.count)].add(time: t, cells)
                }
            }
        }
        return out
    }

    /// The keys of the stored rollup rows of `vehicle` in the windows `starts` (tombstones
    /// excluded), read with `stored`, the rollup measurement of the snapshot's catalog.
    func storedKeys(_ snapshot: Snapshot, stored: Measurement, vehicle: String, starts: [Int64]) throws -> Set<RollupKey> {
        try storedKeys(snapshot, stored: stored, vehicles: [ByteString(vehicle)], starts: starts)
    }

    /// The same for `vehicles` (nil: every vehicle).
    func storedKeys(_ snapshot: Snapshot, stored: Measurement, vehicles: Set<ByteString>?, starts: [Int64]) throws -> Set<RollupKey> {
        guard let countIndex = stored.columnIndex(named: "count") else { return [] }
        let by = rollup.by.compactMap { stored.columnIndex(named: $0) }
        var wanted = [Bool](repeating: false, count: stored.columns.count)
        for i in by + [countIndex] { wanted[i] = true }
        var out = Set<RollupKey>()
        for range in Self.runs(starts, width: width) {
            let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(stored, vehicles: vehicles, from: range.lowerBound, to: range.upperBound, columns: wanted))
            while let b = try cursor.next() {
                let cols = b.chunk.columns
                for i in b.range where cols[countIndex].values.ints[i] > 0 {
                    let group = by.map { ColumnValue.at(i, of: cols[$0].values, dictionary: cols[$0].dictionary) }
                    out.insert(RollupKey(vehicle: b.vehicle, start: b.chunk.times[i], group: group))
                }
            }
        }
        return out
    }

    /// The stored rollup rows of `windows` (of this rollup, several vehicles) as accumulators
    /// to merge new rows into, read with `stored` in one scan; tombstones are no groups. Every
    /// window asked for is in the answer (empty when the store holds no row of it).
    func storedGroups(_ snapshot: Snapshot, stored: Measurement, windows: [WindowKey]) throws -> [WindowKey: WindowGroups] {
        var out: [WindowKey: WindowGroups] = [:]
        var lo = Int64.max, hi = Int64.min
        var vehicles = Set<ByteString>()
        for k in windows {
            out[k] = [:]
            lo = min(lo, k.start)
            hi = max(hi, k.start &+ width)
            vehicles.insert(ByteString(k.vehicle))
        }
        guard let first = windows.first, let countIndex = stored.columnIndex(named: "count") else { return out }
        let by = rollup.by.map { stored.columnIndex(named: $0) }
        let firstTime = stored.columnIndex(named: "first_time"), lastTime = stored.columnIndex(named: "last_time")
        // Per `of` column: where its sum, min, max, first and last are stored (nil: not kept).
        let value = rollup.of.map { c in ["sum", "min", "max", "first", "last"].map { stored.columnIndex(named: "\(c)_\($0)") } }
        let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(stored, vehicles: vehicles, from: lo, to: hi))
        var key = first
        while let b = try cursor.next() {
            let cols = b.chunk.columns
            func cell(_ k: Int?, _ i: Int) -> ColumnValue? {
                guard let k else { return nil }
                return ColumnValue.at(i, of: cols[k].values, dictionary: cols[k].dictionary)
            }
            for i in b.range {
                key.vehicle = b.vehicle
                key.start = b.chunk.times[i]
                guard out[key] != nil, case .int(let n)? = cell(countIndex, i), n > 0 else { continue }
                var acc = RollupAccumulator(columns: rollup.of.count)
                acc.count = n
                if case .int(let t)? = cell(firstTime, i) { acc.firstTime = t }
                if case .int(let t)? = cell(lastTime, i) { acc.lastTime = t }
                for (k, slots) in value.enumerated() {
                    let sum = cell(slots[0], i), mn = cell(slots[1], i), mx = cell(slots[2], i)
                    switch sum {
                    case .int(let x)?: acc.values[k].intSum = x
                    case .double(let d)?: acc.values[k].doubleSum = d
                    default: break
                    }
                    acc.values[k].seen = sum != nil || mn != nil || mx != nil
                    acc.values[k].min = mn
                    acc.values[k].max = mx
                    acc.values[k].first = cell(slots[3], i)
                    acc.values[k].last = cell(slots[4], i)
                }
                out[key]?[by.map { cell($0, i) }] = acc
            }
        }
        return out
    }

    /// A code for row `i`'s value of one grouping column, equal for equal values within one
    /// decoded chunk (a string's dictionary id), nil for a null or a type without one.
    @inline(__always) static func code(_ i: Int, of c: ColumnValues) -> UInt64? {
        guard !c.isNull(i) else { return nil }
        switch c.type {
        case .string: return UInt64(c.ids[i])
        case .int64: return UInt64(bitPattern: c.ints[i])
        case .bool: return c.bools[i] ? 1 : 0
        case .float64, .stringList: return nil
        }
    }

    /// Sorted window starts → ranges of consecutive windows.
    static func runs(_ starts: [Int64], width: Int64) -> [Range<Int64>] {
        var out: [Range<Int64>] = []
        for s in starts {
            if let last = out.last, last.upperBound == s {
                out[out.count - 1] = last.lowerBound..<(s + width)
            } else {
                out.append(s..<(s + width))
            }
        }
        return out
    }

    /// The rows as a batch of `stored` (the rollup measurement of the catalog, whose column
    /// order may differ from the declaration's): `nil` accumulators are tombstones. Appends to
    /// the batch's columns directly (`RowBatch.append` boxes and checks every cell).
    func batch(_ rows: [(RollupKey, RollupAccumulator?)], stored: Measurement) -> RowBatch {
        var batch = RowBatch(stored, capacity: rows.count)
        let fns = rollup.valueFunctions
        enum Role { case by(Int), count, firstTime, lastTime, value(Int, RollupDeclaration.Function), none }
        // What each of `stored`'s columns holds, looked up once, not per row.
        let roles: [Role] = stored.columns.map { c in
            if let k = rollup.by.firstIndex(of: c.name) { return .by(k) }
            if c.name == "count" { return .count }
            if c.name == "first_time" { return .firstTime }
            if c.name == "last_time" { return .lastTime }
            for (k, o) in rollup.of.enumerated() {
                for f in fns where c.name == "\(o)_\(f.rawValue)" { return .value(k, f) }
            }
            return .none
        }
        let keepsTimes = rollup.keeps(.first) || rollup.keeps(.last)
        let ofTypes = ofIndex.map { source.columns[$0].type }
        let dictionaryColumn = stored.columns.map { $0.type.codec.usesDictionary }
        var lastVehicle: String?
        var vehicleID: UInt32 = 0
        for (key, acc) in rows {
            if key.vehicle != lastVehicle {
                vehicleID = batch.intern(key.vehicle)
                lastVehicle = key.vehicle
            }
            batch.vehicles.append(vehicleID)
            batch.times.append(key.start)
            for (i, role) in roles.enumerated() {
                let cell: ColumnValue?
                switch role {
                case .by(let k): cell = key.group[k]
                case .count: cell = .int(acc?.count ?? 0)
                case .firstTime: cell = keepsTimes ? acc.map { .int($0.firstTime) } : nil
                case .lastTime: cell = keepsTimes ? acc.map { .int($0.lastTime) } : nil
                case .value(let k, let f):
                    guard let v = acc?.values[k] else { cell = nil; break }
                    switch f {
                    case .sum: cell = v.seen ? (ofTypes[k] == .int64 ? .int(v.intSum) : .double(v.doubleSum)) : nil
                    case .min: cell = v.min
                    case .max: cell = v.max
                    case .first: cell = v.first
                    case .last: cell = v.last
                    case .count: cell = nil
                    }
                case .none: cell = nil
                }
                switch cell {
                case nil: batch.columns[i].appendNull(zeroStringID: dictionaryColumn[i] ? batch.intern("") : 0)
                case .int(let x)?: batch.columns[i].ints.append(x)
                case .double(let x)?: batch.columns[i].doubles.append(x)
                case .string(let s)?: batch.columns[i].ids.append(batch.intern(s))
                case .bool(let x)?: batch.columns[i].bools.append(x)
                case .strings(let l)?: batch.columns[i].appendList(l.map { batch.intern($0) })
                }
            }
        }
        return batch
    }
}
