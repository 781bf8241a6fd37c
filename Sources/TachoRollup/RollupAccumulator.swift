import TachoFormat

/// One rollup row being computed: the rows of one vehicle, window and group, fed in scan
/// order (time, then identity). Sums add in that order, so a float sum is the same whichever
/// commit recomputes the window.
struct RollupAccumulator {
    var count: Int64 = 0
    var firstTime: Int64 = 0
    var lastTime: Int64 = 0
    /// Per `of` column: sum, min, max, first, last.
    var values: [ValueState]

    struct ValueState {
        var intSum: Int64 = 0
        var doubleSum: Double = 0
        var seen = false
        var min: ColumnValue?
        var max: ColumnValue?
        var first: ColumnValue?
        var last: ColumnValue?
    }

    init(columns: Int) { values = Array(repeating: ValueState(), count: columns) }

    /// Adds a row at `time` whose `of` values are `cells` (nil: null). A null adds to no sum,
    /// min or max; first and last are the values of the first and last rows, null or not.
    /// Rows come in scan order (time, then identity), or — when the maintainer merges a
    /// transaction's rows into a stored window — in scan order among themselves and at times
    /// no row already added has: a row earlier than every row so far becomes the first, one
    /// at or after the last so far the last. A float sum adds in the order rows come, so it
    /// equals the scan-order sum only when they come in scan order (the maintainer merges
    /// such a sum only when the new rows follow every stored row of the window).
    mutating func add(time: Int64, _ cells: [ColumnValue?]) {
        let isFirst = count == 0 || time < firstTime
        let isLast = count == 0 || time >= lastTime
        if isFirst { firstTime = time }
        if isLast { lastTime = time }
        for (k, cell) in cells.enumerated() {
            if isFirst { values[k].first = cell }
            if isLast { values[k].last = cell }
            guard let cell else { continue }
            switch cell {
            case .int(let x): values[k].intSum &+= x
            case .double(let d): values[k].doubleSum += d
            default: break
            }
            if !values[k].seen || Self.less(cell, values[k].min) { values[k].min = cell }
            if !values[k].seen || Self.less(values[k].max, cell) { values[k].max = cell }
            values[k].seen = true
        }
        count += 1
    }

    static func less(_ a: ColumnValue?, _ b: ColumnValue?) -> Bool {
        switch (a, b) {
        case (.int(let x)?, .int(let y)?): x < y
        case (.double(let x)?, .double(let y)?): x < y
        case (.bool(let x)?, .bool(let y)?): !x && y
        case (.string(let x)?, .string(let y)?): Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        default: false
        }
    }
}
