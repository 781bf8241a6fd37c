/// Bool column (FORMAT.md §2.3.5, segment version 3 on): a constant, or one bit per row.
public enum BoolColumn: ColumnCodec {
    static let modeConstant: UInt8 = 0
    static let modePacked: UInt8 = 1

    public static var usesDictionary: Bool { false }
    public static var bufferBytesPerRow: Int { 1 }
    public static var sinceVersion: UInt16 { 3 }
    public static func reserve(_ c: inout ColumnValues, _ n: Int) { c.bools.reserveCapacity(n) }
    public static func count(_ c: ColumnValues) -> Int { c.bools.count }
    public static func appendZero(_ c: inout ColumnValues, stringID: UInt32) { c.bools.append(false) }
    public static func append(from src: ColumnValues, _ range: Range<Int>, remap: [UInt32]?, to dst: inout ColumnValues) {
        dst.bools.append(contentsOf: src.bools[range])
    }
    public static func gather(_ rows: UnsafeBufferPointer<Int32>, from src: ColumnValues, into dst: inout ColumnValues) {
        gatherArray(rows, from: src.bools, into: &dst.bools)
    }

    public static func encode(
        _ c: ColumnValues, _ range: Range<Int>, times: UnsafeBufferPointer<Int64>, dictionary: [String],
        scratch: inout StringCodec.Scratch, into w: inout ByteWriter
    ) -> ColumnStats {
        let v = c.bools[range]
        if let first = v.first, v.allSatisfy({ $0 == first }) {
            w.writeUInt8(modeConstant)
            w.writeUInt8(first ? 1 : 0)
        } else if v.isEmpty {
            w.writeUInt8(modeConstant)
            w.writeUInt8(0)
        } else {
            w.writeUInt8(modePacked)
            let base = range.lowerBound
            BitPacking.pack(v.count, width: 1, into: &w) { c.bools[base + $0] ? 1 : 0 }
        }
        var s = ColumnStats()
        for i in range where !c.isNull(i) {
            if c.bools[i] { s.trues += 1 }
            s.lastBool = c.bools[i]
        }
        return s
    }

    public static func decode(
        _ raw: UnsafeRawBufferPointer, count n: Int, version: UInt16, times: [Int64], into out: inout DecodedColumn
    ) -> Bool {
        var r = ByteReader(raw)
        out.values.bools.removeAll(keepingCapacity: true)
        guard n >= 0, let mode = r.readUInt8() else { return false }
        switch mode {
        case modeConstant:
            guard let b = r.readUInt8(), b <= 1 else { return false }
            out.values.bools.append(contentsOf: repeatElement(b == 1, count: n))
            return r.isAtEnd
        case modePacked:
            guard let packed = r.readBytes(BitPacking.packedSize(count: n, width: 1)) else { return false }
            out.values.bools.reserveCapacity(n)
            _ = BitPacking.unpack(packed, count: n, width: 1) { out.values.bools.append($0 == 1) }
            return r.isAtEnd
        default:
            return false
        }
    }

    public static func writeStats(_ s: ColumnStats, into w: inout ByteWriter) {
        w.writeVarint(UInt64(s.trues))
        w.writeUInt8(s.lastBool ? 1 : 0)
    }
    public static func readStats(_ r: inout ByteReader, rows: Int) -> ColumnStats? {
        guard let t = r.readLength(limit: rows), let last = r.readUInt8(), last <= 1 else { return nil }
        var s = ColumnStats()
        (s.trues, s.lastBool) = (t, last == 1)
        return s
    }
    public static func compare(_ a: DecodedColumn, _ i: Int, _ b: DecodedColumn, _ j: Int) -> Int {
        let x = a.values.bools[i], y = b.values.bools[j]
        return x == y ? 0 : (x ? 1 : -1)
    }
}

/// Null flags of a chunk's column in a block (FORMAT.md §2.3.7): the prefix of every block of
/// a nullable column in segment version 3.
public enum NullBitmap {
    static let none: UInt8 = 0
    static let bitmap: UInt8 = 1

    /// Writes the prefix for rows `range` of `c`.
    public static func encode(_ c: ColumnValues, _ range: Range<Int>, into w: inout ByteWriter) {
        guard c.hasNulls(in: range) else {
            w.writeUInt8(none)
            return
        }
        w.writeUInt8(bitmap)
        let base = range.lowerBound
        BitPacking.pack(range.count, width: 1, into: &w) { c.isNull(base + $0) ? 1 : 0 }
    }

    /// Reads the prefix of a block of `n` rows into `nulls` (empty: none null). Returns the rest
    /// of the block, or nil when malformed.
    public static func decode(_ raw: UnsafeRawBufferPointer, count n: Int, into nulls: inout [Bool]) -> UnsafeRawBufferPointer? {
        var r = ByteReader(raw)
        nulls.removeAll(keepingCapacity: true)
        guard let mode = r.readUInt8() else { return nil }
        switch mode {
        case none:
            break
        case bitmap:
            guard let packed = r.readBytes(BitPacking.packedSize(count: n, width: 1)) else { return nil }
            nulls.reserveCapacity(n)
            _ = BitPacking.unpack(packed, count: n, width: 1) { nulls.append($0 == 1) }
        default:
            return nil
        }
        return UnsafeRawBufferPointer(rebasing: raw[(raw.count - r.remaining)...])
    }
}
