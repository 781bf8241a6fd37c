/// One column of values in memory, as concrete typed arrays: exactly the arrays its type's
/// codec (`ColumnType.codec`, ColumnCodec.swift) uses are filled, so hot paths append to
/// `ints`/`doubles`/`ids` directly with no per-row boxing. (A struct rather than an enum with
/// payloads so appends mutate in place without copies.)
///
/// * int64: `ints`; float64: `doubles`; bool: `bools`.
/// * string: `ids`, one per row, into a dictionary that travels beside the column.
/// * stringList: `ids` holds every row's strings one after another and `listEnds[i]` is where
///   row `i`'s strings end in `ids` (row `i` is `ids[listEnds[i-1] ..< listEnds[i]]`).
/// * Nulls: `nulls[i]` is true when row `i` has no value. Rows at or past `nulls.count` are
///   not null, so a column without nulls never touches `nulls` (`appendNull` pads it). A null
///   row still holds its type's zero value (0, +0.0, false, string id `nullStringID`… see
///   `ColumnCodec.appendZero`) so every array keeps one entry per row.
public struct ColumnValues: Sendable {
    public let type: ColumnType
    public var ints: [Int64] = []
    public var doubles: [Double] = []
    public var ids: [UInt32] = []
    public var bools: [Bool] = []
    public var listEnds: [UInt32] = []
    public var nulls: [Bool] = []

    public init(type: ColumnType, capacity: Int = 0) {
        self.type = type
        if capacity > 0 { type.codec.reserve(&self, capacity) }
    }

    public var count: Int { type.codec.count(self) }

    /// Whether row `i` is null.
    @inlinable @inline(__always)
    public func isNull(_ i: Int) -> Bool { i < nulls.count && nulls[i] }

    /// Whether any row of `range` is null.
    public func hasNulls(in range: Range<Int>) -> Bool {
        let hi = min(range.upperBound, nulls.count)
        guard range.lowerBound < hi else { return false }
        return nulls[range.lowerBound..<hi].contains(true)
    }

    /// Appends a null row (its type's zero value; a string column's zero is id `zeroStringID`,
    /// which the caller interned as "").
    public mutating func appendNull(zeroStringID: UInt32 = 0) {
        let n = count
        if nulls.count < n { nulls.append(contentsOf: repeatElement(false, count: n - nulls.count)) }
        nulls.append(true)
        type.codec.appendZero(&self, stringID: zeroStringID)
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        ints.removeAll(keepingCapacity: keepingCapacity)
        doubles.removeAll(keepingCapacity: keepingCapacity)
        ids.removeAll(keepingCapacity: keepingCapacity)
        bools.removeAll(keepingCapacity: keepingCapacity)
        listEnds.removeAll(keepingCapacity: keepingCapacity)
        nulls.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Row `i` of a stringList column: the range of its strings in `ids`.
    @inlinable
    public func listRange(_ i: Int) -> Range<Int> {
        (i == 0 ? 0 : Int(listEnds[i - 1]))..<Int(listEnds[i])
    }

    /// Appends one stringList row of string ids.
    public mutating func appendList(_ items: some Sequence<UInt32>) {
        ids.append(contentsOf: items)
        listEnds.append(UInt32(ids.count))
    }

    /// Appends rows `range` of `src` (same type): values through the type's codec, string ids
    /// through `remap` (source id → id here) when given, null flags as they are.
    public mutating func append(from src: ColumnValues, _ range: Range<Int>, remap: [UInt32]? = nil) {
        guard !range.isEmpty else { return }
        let before = count
        type.codec.append(from: src, range, remap: remap, to: &self)
        if src.hasNulls(in: range) {
            if nulls.count < before { nulls.append(contentsOf: repeatElement(false, count: before - nulls.count)) }
            for i in range { nulls.append(src.isNull(i)) }
        }
    }
}

/// A decoded column of one chunk: values plus, for strings and string lists, the chunk's
/// dictionary. The accessors (`ints`, `doubles`, `ids`, `bools`, `listEnds`, `nulls`) are
/// those of `ColumnValues` (`values`).
public struct DecodedColumn: Sendable {
    public var values: ColumnValues
    public var dictionary: [String] = []

    public init(type: ColumnType) { values = ColumnValues(type: type) }

    public var type: ColumnType { values.type }
    public var ints: [Int64] { get { values.ints } _modify { yield &values.ints } set { values.ints = newValue } }
    public var doubles: [Double] { get { values.doubles } _modify { yield &values.doubles } set { values.doubles = newValue } }
    public var ids: [UInt32] { get { values.ids } _modify { yield &values.ids } set { values.ids = newValue } }
    public var bools: [Bool] { get { values.bools } _modify { yield &values.bools } set { values.bools = newValue } }
    public var listEnds: [UInt32] {
        get { values.listEnds } _modify { yield &values.listEnds } set { values.listEnds = newValue }
    }
    public var nulls: [Bool] { get { values.nulls } _modify { yield &values.nulls } set { values.nulls = newValue } }

    @inlinable public func isNull(_ row: Int) -> Bool { values.isNull(row) }
    public func string(at row: Int) -> String { dictionary[Int(values.ids[row])] }
    /// The strings of a stringList row.
    public func strings(at row: Int) -> [String] { values.listRange(row).map { dictionary[Int(values.ids[$0])] } }

    /// Empties every array (a column not wanted by a decode).
    mutating func clear() {
        values.removeAll(keepingCapacity: true)
        dictionary.removeAll(keepingCapacity: true)
    }
}

/// A decoded chunk: one vehicle's rows, sorted by (time, identity columns).
public struct DecodedChunk: Sendable {
    public var times: [Int64] = []
    public var columns: [DecodedColumn]

    public init(measurement: Measurement) {
        columns = measurement.columns.map { DecodedColumn(type: $0.type) }
    }

    public var count: Int { times.count }
}
