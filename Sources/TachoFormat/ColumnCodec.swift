/// Everything the engine does with a column of one type, in one place per type (Prometheus'
/// chunkenc does the same): how its values live in memory (`ColumnValues`), how a chunk's
/// values become a block (FORMAT.md §2.3) and back, its footer stats (§2.4.2), and its identity
/// order (§2.5). Layers above never switch on a column's type: they call `type.codec`.
///
/// A new type is one file (its `ColumnCodec`) plus one registration: a case in `ColumnType`
/// and its line in `ColumnType.codec` below.
public protocol ColumnCodec {
    /// Whether the values are ids into a dictionary (string, stringList).
    static var usesDictionary: Bool { get }
    /// What a row costs in a writer's buffer, for its memory budget (an estimate).
    static var bufferBytesPerRow: Int { get }
    /// First segment version that may hold a column of this type.
    static var sinceVersion: UInt16 { get }

    static func reserve(_ c: inout ColumnValues, _ n: Int)
    static func count(_ c: ColumnValues) -> Int
    /// Appends the type's zero value (what a null row holds): 0, +0.0, false, the empty list,
    /// or string id `stringID` (an id of "").
    static func appendZero(_ c: inout ColumnValues, stringID: UInt32)
    /// Appends the values of rows `range` of `src`, string ids mapped through `remap`.
    static func append(from src: ColumnValues, _ range: Range<Int>, remap: [UInt32]?, to dst: inout ColumnValues)
    /// `dst` = the values of rows `rows` of `src`, in that order (reusing `dst`'s storage).
    /// REQUIRES: `rows` not empty.
    static func gather(_ rows: UnsafeBufferPointer<Int32>, from src: ColumnValues, into dst: inout ColumnValues)

    /// Encodes the values of rows `range` (§2.3) and returns their stats (§2.4.2) over the
    /// rows that are not null. String ids index `dictionary`; `times` are the rows' times
    /// (an identity string column may be stored as one set per time, §2.7).
    static func encode(
        _ c: ColumnValues, _ range: Range<Int>, times: UnsafeBufferPointer<Int64>, dictionary: [String],
        scratch: inout StringCodec.Scratch, into w: inout ByteWriter
    ) -> ColumnStats
    /// Decodes a block of `count` values of a segment of `version` into `out` (values and
    /// dictionary), given the chunk's decoded `times`. False when malformed.
    static func decode(
        _ raw: UnsafeRawBufferPointer, count: Int, version: UInt16, times: [Int64], into out: inout DecodedColumn
    ) -> Bool

    static func writeStats(_ s: ColumnStats, into w: inout ByteWriter)
    static func readStats(_ r: inout ByteReader, rows: Int) -> ColumnStats?

    /// -1, 0 or 1 as row `i` of `a` sorts before, equals or sorts after row `j` of `b`
    /// (neither null) in the identity order (FORMAT.md §2.5).
    static func compare(_ a: DecodedColumn, _ i: Int, _ b: DecodedColumn, _ j: Int) -> Int
}

extension ColumnType {
    /// The registry: the one switch over column types.
    @inlinable
    public var codec: any ColumnCodec.Type {
        switch self {
        case .int64: Int64Column.self
        case .float64: Float64Column.self
        case .string: StringColumn.self
        case .bool: BoolColumn.self
        case .stringList: StringListColumn.self
        }
    }
}

/// `dst = rows.map { src[$0] }`, reusing `dst`'s storage. REQUIRES: `rows` not empty.
func gatherArray<T>(_ rows: UnsafeBufferPointer<Int32>, from src: [T], into dst: inout [T]) {
    src.withUnsafeBufferPointer { s in
        let fill = s[Int(rows[0])]
        if dst.count > rows.count { dst.removeLast(dst.count - rows.count) }
        if dst.count < rows.count { dst.append(contentsOf: repeatElement(fill, count: rows.count - dst.count)) }
        dst.withUnsafeMutableBufferPointer { d in
            for k in 0..<rows.count { d[k] = s[Int(rows[k])] }
        }
    }
}

/// The values of `range` with the null rows left out, or all of them when none is null.
@inline(__always)
func nonNull<T>(_ v: UnsafeBufferPointer<T>, _ c: ColumnValues, _ range: Range<Int>) -> [T]? {
    guard c.hasNulls(in: range) else { return nil }
    var out: [T] = []
    for (k, i) in range.enumerated() where !c.isNull(i) { out.append(v[k]) }
    return out
}

public enum Int64Column: ColumnCodec {
    public static var usesDictionary: Bool { false }
    public static var bufferBytesPerRow: Int { 8 }
    public static var sinceVersion: UInt16 { 1 }
    public static func reserve(_ c: inout ColumnValues, _ n: Int) { c.ints.reserveCapacity(n) }
    public static func count(_ c: ColumnValues) -> Int { c.ints.count }
    public static func appendZero(_ c: inout ColumnValues, stringID: UInt32) { c.ints.append(0) }
    public static func append(from src: ColumnValues, _ range: Range<Int>, remap: [UInt32]?, to dst: inout ColumnValues) {
        dst.ints.append(contentsOf: src.ints[range])
    }
    public static func gather(_ rows: UnsafeBufferPointer<Int32>, from src: ColumnValues, into dst: inout ColumnValues) {
        gatherArray(rows, from: src.ints, into: &dst.ints)
    }
    public static func encode(
        _ c: ColumnValues, _ range: Range<Int>, times: UnsafeBufferPointer<Int64>, dictionary: [String],
        scratch: inout StringCodec.Scratch, into w: inout ByteWriter
    ) -> ColumnStats {
        var s = ColumnStats()
        c.ints.withUnsafeBufferPointer { buf in
            let all = UnsafeBufferPointer(rebasing: buf[range])
            IntCodec.encode(all, into: &w)
            func stats(_ v: UnsafeBufferPointer<Int64>) {
                s.minInt = v.min() ?? 0
                s.maxInt = v.max() ?? 0
                for x in v {
                    let (sum, o) = s.sumInt.addingReportingOverflow(x)
                    s.sumInt = sum
                    s.sumOverflow = s.sumOverflow || o
                }
                s.lastInt = v.last ?? 0
            }
            if let some = nonNull(all, c, range) { some.withUnsafeBufferPointer(stats) } else { stats(all) }
        }
        return s
    }
    public static func decode(
        _ raw: UnsafeRawBufferPointer, count: Int, version: UInt16, times: [Int64], into out: inout DecodedColumn
    ) -> Bool {
        IntCodec.decode(raw, count: count, version: version, into: &out.values.ints)
    }
    public static func writeStats(_ s: ColumnStats, into w: inout ByteWriter) {
        w.writeSignedVarint(s.minInt)
        w.writeSignedVarint(s.maxInt)
        w.writeUInt8(s.sumOverflow ? 1 : 0)
        w.writeSignedVarint(s.sumInt)
        w.writeSignedVarint(s.lastInt)
    }
    public static func readStats(_ r: inout ByteReader, rows: Int) -> ColumnStats? {
        guard let a = r.readSignedVarint(), let b = r.readSignedVarint(), let o = r.readUInt8(), o <= 1,
              let sum = r.readSignedVarint(), let last = r.readSignedVarint()
        else { return nil }
        var s = ColumnStats()
        (s.minInt, s.maxInt, s.sumOverflow, s.sumInt, s.lastInt) = (a, b, o == 1, sum, last)
        return s
    }
    public static func compare(_ a: DecodedColumn, _ i: Int, _ b: DecodedColumn, _ j: Int) -> Int {
        Identity.compare(a.values.ints[i], b.values.ints[j])
    }
}

public enum Float64Column: ColumnCodec {
    public static var usesDictionary: Bool { false }
    public static var bufferBytesPerRow: Int { 8 }
    public static var sinceVersion: UInt16 { 1 }
    public static func reserve(_ c: inout ColumnValues, _ n: Int) { c.doubles.reserveCapacity(n) }
    public static func count(_ c: ColumnValues) -> Int { c.doubles.count }
    public static func appendZero(_ c: inout ColumnValues, stringID: UInt32) { c.doubles.append(0) }
    public static func append(from src: ColumnValues, _ range: Range<Int>, remap: [UInt32]?, to dst: inout ColumnValues) {
        dst.doubles.append(contentsOf: src.doubles[range])
    }
    public static func gather(_ rows: UnsafeBufferPointer<Int32>, from src: ColumnValues, into dst: inout ColumnValues) {
        gatherArray(rows, from: src.doubles, into: &dst.doubles)
    }
    public static func encode(
        _ c: ColumnValues, _ range: Range<Int>, times: UnsafeBufferPointer<Int64>, dictionary: [String],
        scratch: inout StringCodec.Scratch, into w: inout ByteWriter
    ) -> ColumnStats {
        var s = ColumnStats()
        c.doubles.withUnsafeBufferPointer { buf in
            let all = UnsafeBufferPointer(rebasing: buf[range])
            FloatCodec.encode(all, into: &w)
            func stats(_ v: UnsafeBufferPointer<Double>) {
                s.minDouble = v.min() ?? 0
                s.maxDouble = v.max() ?? 0
                s.sumDouble = v.reduce(0, +)
                s.lastDouble = v.last ?? 0
            }
            if let some = nonNull(all, c, range) { some.withUnsafeBufferPointer(stats) } else { stats(all) }
        }
        return s
    }
    public static func decode(
        _ raw: UnsafeRawBufferPointer, count: Int, version: UInt16, times: [Int64], into out: inout DecodedColumn
    ) -> Bool {
        FloatCodec.decode(raw, count: count, version: version, into: &out.values.doubles)
    }
    public static func writeStats(_ s: ColumnStats, into w: inout ByteWriter) {
        w.writeDouble(s.minDouble)
        w.writeDouble(s.maxDouble)
        w.writeDouble(s.sumDouble)
        w.writeDouble(s.lastDouble)
    }
    public static func readStats(_ r: inout ByteReader, rows: Int) -> ColumnStats? {
        guard let a = r.readDouble(), let b = r.readDouble(), let sum = r.readDouble(), let last = r.readDouble()
        else { return nil }
        var s = ColumnStats()
        (s.minDouble, s.maxDouble, s.sumDouble, s.lastDouble) = (a, b, sum, last)
        return s
    }
    public static func compare(_ a: DecodedColumn, _ i: Int, _ b: DecodedColumn, _ j: Int) -> Int {
        Identity.compare(a.values.doubles[i], b.values.doubles[j])
    }
}

public enum StringColumn: ColumnCodec {
    public static var usesDictionary: Bool { true }
    public static var bufferBytesPerRow: Int { 4 }
    public static var sinceVersion: UInt16 { 1 }
    public static func reserve(_ c: inout ColumnValues, _ n: Int) { c.ids.reserveCapacity(n) }
    public static func count(_ c: ColumnValues) -> Int { c.ids.count }
    public static func appendZero(_ c: inout ColumnValues, stringID: UInt32) { c.ids.append(stringID) }
    public static func append(from src: ColumnValues, _ range: Range<Int>, remap: [UInt32]?, to dst: inout ColumnValues) {
        if let remap {
            dst.ids.append(contentsOf: src.ids[range].lazy.map { remap[Int($0)] })
        } else {
            dst.ids.append(contentsOf: src.ids[range])
        }
    }
    public static func gather(_ rows: UnsafeBufferPointer<Int32>, from src: ColumnValues, into dst: inout ColumnValues) {
        gatherArray(rows, from: src.ids, into: &dst.ids)
    }
    public static func encode(
        _ c: ColumnValues, _ range: Range<Int>, times: UnsafeBufferPointer<Int64>, dictionary: [String],
        scratch: inout StringCodec.Scratch, into w: inout ByteWriter
    ) -> ColumnStats {
        var s = ColumnStats()
        c.ids.withUnsafeBufferPointer { buf in
            let v = UnsafeBufferPointer(rebasing: buf[range])
            s.distinct = StringCodec.encode(v, dictionary: dictionary, times: times, scratch: &scratch, into: &w)
            if let last = range.reversed().first(where: { !c.isNull($0) }) { s.lastString = dictionary[Int(c.ids[last])] }
        }
        return s
    }
    public static func decode(
        _ raw: UnsafeRawBufferPointer, count: Int, version: UInt16, times: [Int64], into out: inout DecodedColumn
    ) -> Bool {
        StringCodec.decode(raw, count: count, times: times, version: version, into: &out)
    }
    public static func writeStats(_ s: ColumnStats, into w: inout ByteWriter) {
        w.writeVarint(UInt64(s.distinct))
        w.writeString(s.lastString)
    }
    public static func readStats(_ r: inout ByteReader, rows: Int) -> ColumnStats? {
        guard let d = r.readLength(limit: rows), let last = r.readString(limit: StringCodec.maxStringBytes) else { return nil }
        var s = ColumnStats()
        (s.distinct, s.lastString) = (d, last)
        return s
    }
    public static func compare(_ a: DecodedColumn, _ i: Int, _ b: DecodedColumn, _ j: Int) -> Int {
        // Equal ids of one chunk's dictionary are equal strings (its entries are unique).
        Identity.compare(a.dictionary[Int(a.values.ids[i])], b.dictionary[Int(b.values.ids[j])])
    }
}
