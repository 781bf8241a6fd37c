/// A column chunk's Statistics: null_count, and min_value/max_value in the column's
/// TYPE_DEFINED_ORDER — signed for INT64 and timestamps, numeric for DOUBLE (NaN left out; a
/// zero minimum written as −0.0 and a zero maximum as +0.0, as the spec asks), false < true for
/// BOOLEAN, unsigned byte order for strings (and the strings of lists). No min/max when the chunk
/// holds no value. For a list, null_count counts the level entries without a string (null and
/// empty lists), as pyarrow's writer does.
enum ColumnStatistics {
    static func of(_ c: ColumnBuffer) -> Statistics {
        let col = c.column
        var nulls = 0
        if col.nullable { for d in c.defined where d == 0 { nulls += 1 } }
        if col.kind == .stringList {
            var present = 0
            var empty = 0
            var last: UInt32 = 0
            for e in c.listEnds {
                if e == last { empty += 1 }
                last = e
                present += 1
            }
            nulls += empty
        }
        var s = Statistics(nullCount: Int64(nulls))
        switch col.kind {
        case .timestampMicros, .int64:
            guard var lo = c.ints.first else { break }
            var hi = lo
            for v in c.ints {
                if v < lo { lo = v }
                if v > hi { hi = v }
            }
            (s.minValue, s.maxValue) = (le(UInt64(bitPattern: lo)), le(UInt64(bitPattern: hi)))
        case .double:
            var lo = Double.infinity, hi = -Double.infinity, any = false
            for v in c.doubles where !v.isNaN {
                any = true
                if v < lo { lo = v }
                if v > hi { hi = v }
            }
            guard any else { break }
            if lo == 0 { lo = -0.0 }
            if hi == 0 { hi = 0.0 }
            (s.minValue, s.maxValue) = (le(lo.bitPattern), le(hi.bitPattern))
        case .boolean:
            guard !c.bools.isEmpty else { break }
            let anyFalse = c.bools.contains(false), anyTrue = c.bools.contains(true)
            (s.minValue, s.maxValue) = ([anyFalse ? 0 : 1], [anyTrue ? 1 : 0])
        case .string, .stringList:
            guard !c.ids.isEmpty else { break }
            var used = [Bool](repeating: false, count: c.dictionary.count)
            for id in c.ids { used[Int(id)] = true }
            let d = c.dictionary
            var lo = -1, hi = -1
            d.bytes.withUnsafeBufferPointer { b in
                func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: b[d.range(i)]) }
                for i in used.indices where used[i] {
                    if lo < 0 || lessBytes(bytes(i), bytes(lo)) { lo = i }
                    if hi < 0 || lessBytes(bytes(hi), bytes(i)) { hi = i }
                }
            }
            (s.minValue, s.maxValue) = (Array(d.bytes[d.range(lo)]), Array(d.bytes[d.range(hi)]))
        }
        return s
    }

    private static func le(_ x: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: x >> (8 * UInt64($0))) } }
}

/// Unsigned lexicographic byte order (a prefix sorts first).
func lessBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = min(a.count, b.count)
    for i in 0..<n where a[i] != b[i] { return a[i] < b[i] }
    return a.count < b.count
}
