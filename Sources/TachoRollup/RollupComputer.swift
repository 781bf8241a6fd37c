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
        var out: [RollupKey: RollupAccumulator] = [:]
        var wanted = [Bool](repeating: false, count: source.columns.count)
        for i in byIndex + ofIndex { wanted[i] = true }
        var cells: [ColumnValue?] = []  // one row's `of` values, reused row after row
        cells.reserveCapacity(ofIndex.count)
        for range in Self.runs(starts, width: width) {
            let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(source, vehicles: [ByteString(vehicle)], from: range.lowerBound, to: range.upperBound, columns: wanted))
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
        guard let countIndex = stored.columnIndex(named: "count") else { return [] }
        let by = rollup.by.compactMap { stored.columnIndex(named: $0) }
        var wanted = [Bool](repeating: false, count: stored.columns.count)
        for i in by + [countIndex] { wanted[i] = true }
        var out = Set<RollupKey>()
        for range in Self.runs(starts, width: width) {
            let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(stored, vehicles: [ByteString(vehicle)], from: range.lowerBound, to: range.upperBound, columns: wanted))
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
    /// order may differ from the declaration's): `nil` accumulators are tombstones.
    func batch(_ rows: [(RollupKey, RollupAccumulator?)], stored: Measurement) -> RowBatch {
        var batch = RowBatch(stored, capacity: rows.count)
        let fns = rollup.valueFunctions
        // Where each named cell goes in `stored`'s columns, looked up once, not per row.
        var slot: [String: Int] = [:]
        for (i, c) in stored.columns.enumerated() { slot[c.name] = i }
        let bySlots = rollup.by.map { slot[$0] }
        let countSlot = slot["count"], firstTimeSlot = slot["first_time"], lastTimeSlot = slot["last_time"]
        let valueSlots = rollup.of.map { c in fns.map { slot["\(c)_\($0.rawValue)"] } }
        let keepsTimes = rollup.keeps(.first) || rollup.keeps(.last)
        for (key, acc) in rows {
            var cells = [ColumnValue?](repeating: nil, count: stored.columns.count)
            func put(_ s: Int?, _ v: ColumnValue?) { if let s { cells[s] = v } }
            for (k, s) in bySlots.enumerated() { put(s, key.group[k]) }
            put(countSlot, ColumnValue.int(acc?.count ?? 0))
            if let acc {
                if keepsTimes {
                    put(firstTimeSlot, ColumnValue.int(acc.firstTime))
                    put(lastTimeSlot, ColumnValue.int(acc.lastTime))
                }
                for k in rollup.of.indices {
                    let v = acc.values[k]
                    let type = source.columns[ofIndex[k]].type
                    for (j, f) in fns.enumerated() {
                        let cell: ColumnValue? = switch f {
                        case .sum: v.seen ? (type == .int64 ? ColumnValue.int(v.intSum) : ColumnValue.double(v.doubleSum)) : nil
                        case .min: v.min
                        case .max: v.max
                        case .first: v.first
                        case .last: v.last
                        case .count: nil
                        }
                        put(valueSlots[k][j], cell)
                    }
                }
            }
            batch.append(vehicle: key.vehicle, time: key.start, cells)
        }
        return batch
    }
}
