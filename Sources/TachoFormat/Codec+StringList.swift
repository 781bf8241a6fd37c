/// String-list column (FORMAT.md §2.3.6, segment version 3 on): 0…n strings per row, e.g. an
/// alarm's video files. Stored as the rows' lengths (an int64 block, §2.3.2) and then every
/// row's strings one after another (a string block, §2.3.3, over all of them).
public enum StringListColumn: ColumnCodec {
    /// Most strings in one chunk's lists (a reader limit, FORMAT.md §6).
    public static let maxItems = 1 << 24

    public static var usesDictionary: Bool { true }
    public static var bufferBytesPerRow: Int { 12 }
    public static var sinceVersion: UInt16 { 3 }
    public static func reserve(_ c: inout ColumnValues, _ n: Int) { c.listEnds.reserveCapacity(n) }
    public static func count(_ c: ColumnValues) -> Int { c.listEnds.count }
    public static func appendZero(_ c: inout ColumnValues, stringID: UInt32) { c.listEnds.append(UInt32(c.ids.count)) }

    public static func append(from src: ColumnValues, _ range: Range<Int>, remap: [UInt32]?, to dst: inout ColumnValues) {
        for i in range {
            let items = src.ids[src.listRange(i)]
            if let remap { dst.ids.append(contentsOf: items.lazy.map { remap[Int($0)] }) } else { dst.ids.append(contentsOf: items) }
            dst.listEnds.append(UInt32(dst.ids.count))
        }
    }

    public static func gather(_ rows: UnsafeBufferPointer<Int32>, from src: ColumnValues, into dst: inout ColumnValues) {
        dst.ids.removeAll(keepingCapacity: true)
        dst.listEnds.removeAll(keepingCapacity: true)
        for r in rows {
            dst.ids.append(contentsOf: src.ids[src.listRange(Int(r))])
            dst.listEnds.append(UInt32(dst.ids.count))
        }
    }

    public static func encode(
        _ c: ColumnValues, _ range: Range<Int>, times: UnsafeBufferPointer<Int64>, dictionary: [String],
        scratch: inout StringCodec.Scratch, into w: inout ByteWriter
    ) -> ColumnStats {
        let lo = range.isEmpty ? 0 : c.listRange(range.lowerBound).lowerBound
        let hi = range.isEmpty ? 0 : Int(c.listEnds[range.upperBound - 1])
        var lengths = [Int64]()
        lengths.reserveCapacity(range.count)
        for i in range { lengths.append(Int64(c.listRange(i).count)) }
        w.writeVarint(UInt64(hi - lo))
        var lw = ByteWriter(capacity: 16)
        lengths.withUnsafeBufferPointer { IntCodec.encode($0, into: &lw) }
        w.writeVarint(UInt64(lw.count))
        w.writeBytes(lw.bytes)
        c.ids.withUnsafeBufferPointer { ids in
            // The items are not one per row: no times, so never stored as sets per time.
            _ = StringCodec.encode(UnsafeBufferPointer(rebasing: ids[lo..<hi]), dictionary: dictionary, scratch: &scratch, into: &w)
        }
        return ColumnStats()
    }

    public static func decode(
        _ raw: UnsafeRawBufferPointer, count n: Int, version: UInt16, times: [Int64], into out: inout DecodedColumn
    ) -> Bool {
        var r = ByteReader(raw)
        out.values.listEnds.removeAll(keepingCapacity: true)
        guard n >= 0, let total = r.readLength(limit: maxItems), let lengthBytes = r.readLength(limit: r.remaining),
              let lengthBlock = r.readBytes(lengthBytes)
        else { return false }
        var lengths: [Int64] = []
        guard IntCodec.decode(lengthBlock, count: n, version: version, into: &lengths) else { return false }
        var end: Int64 = 0
        out.values.listEnds.reserveCapacity(n)
        for l in lengths {
            guard l >= 0, l <= Int64(total) - end else { return false }
            end += l
            out.values.listEnds.append(UInt32(end))
        }
        guard end == Int64(total) else { return false }
        let items = UnsafeRawBufferPointer(rebasing: raw[r.offset...])
        return StringCodec.decode(items, count: total, times: nil, version: version, into: &out)
    }

    /// No stats (FORMAT.md §2.4.2): nothing a query could answer from them yet.
    public static func writeStats(_ s: ColumnStats, into w: inout ByteWriter) {}
    public static func readStats(_ r: inout ByteReader, rows: Int) -> ColumnStats? { ColumnStats() }

    /// Lists compare string by string (byte order), a shorter prefix first.
    public static func compare(_ a: DecodedColumn, _ i: Int, _ b: DecodedColumn, _ j: Int) -> Int {
        let ra = a.values.listRange(i), rb = b.values.listRange(j)
        for k in 0..<min(ra.count, rb.count) {
            let c = Identity.compare(a.dictionary[Int(a.values.ids[ra.lowerBound + k])], b.dictionary[Int(b.values.ids[rb.lowerBound + k])])
            if c != 0 { return c }
        }
        return ra.count == rb.count ? 0 : (ra.count < rb.count ? -1 : 1)
    }
}
