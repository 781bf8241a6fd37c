/// One column's values for the row group being built: typed arrays the caller appends to,
/// encoded into pages when the row group is flushed (`ColumnChunkEncoder`). Nulls take no
/// value slot: `defined` holds one definition flag per row of a nullable column.
///
/// * timestampMicros, int64: `ints`; double: `doubles`; boolean: `bools`.
/// * string: `ids`, one per non-null row, into `dictionary` (the row group's distinct strings).
/// * stringList: `ids` holds every non-null row's strings one after another; `listEnds[r]` is
///   where non-null row r's strings end.
public final class ColumnBuffer {
    public let column: ParquetColumn
    public private(set) var rows = 0
    public var ints: [Int64] = []
    public var doubles: [Double] = []
    public var bools: [Bool] = []
    public var ids: [UInt32] = []
    public var listEnds: [UInt32] = []
    /// Nullable columns: 1 per row with a value, 0 per null.
    public var defined: [UInt8] = []
    public var dictionary = StringDictionary()

    init(_ column: ParquetColumn) { self.column = column }

    /// Rows appended through the typed arrays directly must be counted here.
    @inline(__always)
    public func didAppend(_ n: Int) {
        rows += n
        if column.nullable { defined.append(contentsOf: repeatElement(1, count: n)) }
    }

    public func appendNull() throws {
        guard column.nullable else { throw ParquetError.nullInRequiredColumn(column: column.name) }
        rows += 1
        defined.append(0)
    }

    public func append(_ v: Int64) { ints.append(v); didAppend(1) }
    public func append(_ v: Double) { doubles.append(v); didAppend(1) }
    public func append(_ v: Bool) { bools.append(v); didAppend(1) }
    public func append(_ v: UnsafeBufferPointer<Int64>) { ints.append(contentsOf: v); didAppend(v.count) }
    public func append(_ v: UnsafeBufferPointer<Double>) { doubles.append(contentsOf: v); didAppend(v.count) }

    /// The row group's id of `s` (adding it when new).
    public func intern(_ s: String) -> UInt32 { dictionary.intern(s) }

    /// One string row by its id from `intern`.
    public func append(stringID id: UInt32) { ids.append(id); didAppend(1) }
    /// `n` rows of one string id.
    public func append(stringID id: UInt32, count n: Int) { ids.append(contentsOf: repeatElement(id, count: n)); didAppend(n) }
    public func append(string s: String) { append(stringID: intern(s)) }

    /// One string-list row of ids from `intern`.
    public func append(listIDs: some Sequence<UInt32>) {
        ids.append(contentsOf: listIDs)
        listEnds.append(UInt32(ids.count))
        didAppend(1)
    }

    public func append(list: [String]) { append(listIDs: list.map { intern($0) }) }

    /// Empties the buffer for the next row group (capacity kept).
    func reset() {
        rows = 0
        ints.removeAll(keepingCapacity: true)
        doubles.removeAll(keepingCapacity: true)
        bools.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        listEnds.removeAll(keepingCapacity: true)
        defined.removeAll(keepingCapacity: true)
        dictionary = StringDictionary()
    }
}

/// Distinct strings keyed by their UTF-8 bytes ("é" and "e\u{301}" are two entries), stored
/// back to back.
public struct StringDictionary: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Entry i is bytes[ends[i-1] ..< ends[i]].
    public private(set) var ends: [Int] = []
    private var lookup: [Key: UInt32] = [:]

    public var count: Int { ends.count }

    public mutating func intern(_ s: String) -> UInt32 {
        let key = Key(s)
        if let id = lookup[key] { return id }
        let id = UInt32(ends.count)
        bytes.append(contentsOf: s.utf8)
        ends.append(bytes.count)
        lookup[key] = id
        return id
    }

    @inline(__always)
    func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }

    struct Key: Hashable, Sendable {
        let s: String
        init(_ s: String) { self.s = s }
        static func == (a: Key, b: Key) -> Bool { a.s.utf8.elementsEqual(b.s.utf8) }
        func hash(into h: inout Hasher) {
            var s = s
            s.withUTF8 { h.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }
}
