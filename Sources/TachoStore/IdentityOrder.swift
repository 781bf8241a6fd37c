import TachoFormat

/// Orders the rows of one vehicle by (time, identity columns, appended order) and tells
/// rows of the same identity apart: `RowComparator`'s order, specialised for buffered rows.
/// String identity columns compare by the byte order of their values (`Identity.compare`),
/// through rank tables indexed by writer string id (writer ids are byte-unique, so equal
/// ids are equal strings); float columns by `Identity.floatKey`.
struct IdentityOrder {
    enum Key {
        case int([Int64])
        case float([Double])
        case string(ids: [UInt32], rank: [UInt32])
    }
    // Bools are int keys 0/1; string lists and nullable columns are never identity columns
    // (`Catalog.validate`).

    let keys: [Key]
    /// The one string identity column of the usual schema (detections: object_type).
    let single: (ids: [UInt32], rank: [UInt32])?

    init(_ buf: StoreWriter.PartitionBuffer, strings: [String]) {
        var keys: [Key] = []
        for c in buf.measurement.identityColumns {
            let col = buf.columns[c]
            switch col.type {
            case .int64: keys.append(.int(col.ints))
            case .float64: keys.append(.float(col.doubles))
            case .string: keys.append(.string(ids: col.ids, rank: StoreWriter.byteOrderRanks(of: col.ids, strings: strings).rank))
            case .bool: keys.append(.int(col.bools.map { $0 ? 1 : 0 }))
            case .stringList: preconditionFailure("string-list identity column \(buf.measurement.columns[c].name): refused by Catalog.validate")
            }
        }
        self.keys = keys
        if keys.count == 1, case .string(let ids, let rank) = keys[0] { single = (ids, rank) } else { single = nil }
    }

    /// Sorts `order[lo..<hi]` (ascending row indexes of one vehicle).
    func sort(_ order: UnsafeMutableBufferPointer<Int32>, _ lo: Int, _ hi: Int, _ times: UnsafeBufferPointer<Int64>) {
        guard hi - lo > 1 else { return }
        if keys.isEmpty {
            Self.sortRuns(order, lo, hi, times, NoKey())
        } else if let single {
            single.ids.withUnsafeBufferPointer { ids in
                single.rank.withUnsafeBufferPointer { rank in
                    Self.sortRuns(order, lo, hi, times, RankKey(ids: ids, rank: rank))
                }
            }
        } else {
            Self.sortRuns(order, lo, hi, times, AnyKeys(order: self))
        }
    }

    /// Sorts by (time, key, index). Rows usually arrive in time order with only the rows of
    /// one event sharing a time: then an insertion sort of those runs is enough.
    private static func sortRuns<K: RowKey>(
        _ order: UnsafeMutableBufferPointer<Int32>, _ lo: Int, _ hi: Int, _ times: UnsafeBufferPointer<Int64>, _ key: K
    ) {
        @inline(__always) func less(_ a: Int32, _ b: Int32) -> Bool {
            let ta = times[Int(a)], tb = times[Int(b)]
            if ta != tb { return ta < tb }
            if key.less(a, b) { return true }
            if key.less(b, a) { return false }
            return a < b
        }
        var timeSorted = true
        var run = 1, longestRun = 1
        var prev = times[Int(order[lo])]
        for i in (lo + 1)..<hi {
            let t = times[Int(order[i])]
            if t < prev { timeSorted = false; break }
            run = t == prev ? run + 1 : 1
            if run > longestRun { longestRun = run }
            prev = t
        }
        if timeSorted && longestRun <= 64 {
            var i = lo + 1
            while i < hi {
                let x = order[i]
                var j = i - 1
                while j >= lo && less(x, order[j]) {
                    order[j + 1] = order[j]
                    j -= 1
                }
                order[j + 1] = x
                i += 1
            }
        } else {
            var part = UnsafeMutableBufferPointer(rebasing: order[lo..<hi])
            part.sort(by: less)
        }
    }

    /// Whether rows `a` and `b` have the same identity (time and identity columns).
    @inline(__always)
    func same(_ a: Int32, _ b: Int32, _ times: UnsafeBufferPointer<Int64>) -> Bool {
        guard times[Int(a)] == times[Int(b)] else { return false }
        if keys.isEmpty { return true }
        if let single { return single.ids[Int(a)] == single.ids[Int(b)] }
        return compareKeys(a, b) == 0
    }

    private func compareKeys(_ a: Int32, _ b: Int32) -> Int {
        for k in keys {
            switch k {
            case .int(let v):
                if v[Int(a)] != v[Int(b)] { return v[Int(a)] < v[Int(b)] ? -1 : 1 }
            case .float(let v):
                let x = Self.floatKey(v[Int(a)]), y = Self.floatKey(v[Int(b)])
                if x != y { return x < y ? -1 : 1 }
            case .string(let ids, let rank):
                let x = rank[Int(ids[Int(a)])], y = rank[Int(ids[Int(b)])]
                if x != y { return x < y ? -1 : 1 }
            }
        }
        return 0
    }

    /// The float identity order of every layer (`Identity.floatKey`: -0 = +0, one NaN).
    @inline(__always)
    static func floatKey(_ d: Double) -> Int64 { Identity.floatKey(d) }

    fileprivate func keyLess(_ a: Int32, _ b: Int32) -> Bool { compareKeys(a, b) < 0 }
}

/// The identity order after time, as a type so each sort loop is specialised for it.
private protocol RowKey {
    func less(_ a: Int32, _ b: Int32) -> Bool
}

/// No identity columns (status): time alone, then appended order.
private struct NoKey: RowKey {
    @inline(__always) func less(_ a: Int32, _ b: Int32) -> Bool { false }
}

/// One string identity column, by the byte-order rank of each row's string id.
private struct RankKey: RowKey {
    let ids: UnsafeBufferPointer<UInt32>
    let rank: UnsafeBufferPointer<UInt32>
    @inline(__always) func less(_ a: Int32, _ b: Int32) -> Bool { rank[Int(ids[Int(a)])] < rank[Int(ids[Int(b)])] }
}

/// Any identity columns.
private struct AnyKeys: RowKey {
    let order: IdentityOrder
    func less(_ a: Int32, _ b: Int32) -> Bool { order.keyLess(a, b) }
}
