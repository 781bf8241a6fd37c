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
        return a.group.description < b.group.description
    }
}

/// The start of the window of width `w` holding `time` (negative times included).
@inline(__always) func windowStart(_ time: Int64, width w: Int64) -> Int64 {
    CivilDate.floorDiv(time, w) * w
}
