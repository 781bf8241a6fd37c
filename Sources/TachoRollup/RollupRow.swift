import TachoFormat
import TachoTime

/// A rollup row's key: vehicle, window start and the values of the `by` columns.
struct RollupKey: Hashable, Comparable {
    var vehicle: String
    var start: Int64
    var group: [ColumnValue?]

    static func < (a: RollupKey, b: RollupKey) -> Bool {
        if a.vehicle != b.vehicle { return Array(a.vehicle.utf8).lexicographicallyPrecedes(Array(b.vehicle.utf8)) }
        if a.start != b.start { return a.start < b.start }
        return groupLess(a.group, b.group)
    }

    /// Orders group values by their values (not by formatting them: that was most of a
    /// commit's cost).
    static func groupLess(_ a: [ColumnValue?], _ b: [ColumnValue?]) -> Bool {
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (nil, nil): continue
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if x == y { continue }
                if RollupAccumulator.less(x, y) { return true }
                if RollupAccumulator.less(y, x) { return false }
                return x.description < y.description  // values of different types (never in one column)
            }
        }
        return a.count < b.count
    }
}

/// The start of the window of width `w` holding `time` (negative times included).
@inline(__always) func windowStart(_ time: Int64, width w: Int64) -> Int64 {
    CivilDate.floorDiv(time, w) * w
}
