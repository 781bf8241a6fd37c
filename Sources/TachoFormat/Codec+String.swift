/// String column encoding (FORMAT.md §2.3.3): a chunk-local dictionary in order of first
/// appearance, then the ids as a constant, run-length pairs, or bit-packed — whichever is
/// shortest before zstd.
public enum StringCodec {
    static let modeConstant: UInt8 = 0
    static let modeRLE: UInt8 = 1
    static let modePacked: UInt8 = 2
    /// Limit on one dictionary entry when decoding (BRIEF: ids ≤ 128 bytes, labels ≤ 64).
    public static let maxStringBytes = 1 << 16

    /// `ids` index into `dictionary` (a writer-wide table); only the entries used are stored.
    public static func encode(
        _ ids: UnsafeBufferPointer<UInt32>, dictionary: [String],
        scratch local: inout [UInt32: UInt32], into w: inout ByteWriter
    ) {
        local.removeAll(keepingCapacity: true)
        var order: [UInt32] = []
        var runs = 0
        var prev: UInt32 = .max
        for id in ids {
            if local[id] == nil {
                local[id] = UInt32(order.count)
                order.append(id)
            }
            if id != prev { runs += 1; prev = id }
        }
        w.writeVarint(UInt64(order.count))
        for id in order { w.writeString(dictionary[Int(id)]) }
        if order.count <= 1 {
            w.writeUInt8(modeConstant)
            return
        }
        let width = BitPacking.bitWidth(UInt64(order.count - 1))
        let packedBytes = BitPacking.packedSize(count: ids.count, width: width)
        var rleBytes = varintSize(UInt64(runs))
        var i = 0
        while i < ids.count {
            var j = i + 1
            while j < ids.count && ids[j] == ids[i] { j += 1 }
            rleBytes += varintSize(UInt64(local[ids[i]] ?? 0)) + varintSize(UInt64(j - i))
            i = j
        }
        if rleBytes < packedBytes {
            w.writeUInt8(modeRLE)
            w.writeVarint(UInt64(runs))
            i = 0
            while i < ids.count {
                var j = i + 1
                while j < ids.count && ids[j] == ids[i] { j += 1 }
                w.writeVarint(UInt64(local[ids[i]] ?? 0))
                w.writeVarint(UInt64(j - i))
                i = j
            }
        } else {
            w.writeUInt8(modePacked)
            BitPacking.pack(ids.count, width: width, into: &w) { UInt64(local[ids[$0]] ?? 0) }
        }
    }

    /// Decodes into `out.ids` / `out.dictionary`. False on malformed input.
    public static func decode(_ raw: UnsafeRawBufferPointer, count n: Int, into out: inout DecodedColumn) -> Bool {
        var r = ByteReader(raw)
        out.ids.removeAll(keepingCapacity: true)
        out.dictionary.removeAll(keepingCapacity: true)
        guard let dictCount = r.readLength(limit: max(n, 1)) else { return false }
        for _ in 0..<dictCount {
            guard let s = r.readString(limit: maxStringBytes) else { return false }
            out.dictionary.append(s)
        }
        guard let mode = r.readUInt8() else { return false }
        out.ids.reserveCapacity(n)
        switch mode {
        case modeConstant:
            guard dictCount == 1 || (dictCount == 0 && n == 0) else { return false }
            out.ids.append(contentsOf: repeatElement(0, count: n))
            return r.isAtEnd
        case modeRLE:
            guard let runs = r.readLength(limit: n) else { return false }
            for _ in 0..<runs {
                guard let id = r.readVarint(), id < UInt64(dictCount),
                      let len = r.readLength(limit: n - out.ids.count)
                else { return false }
                out.ids.append(contentsOf: repeatElement(UInt32(id), count: len))
            }
            return out.ids.count == n && r.isAtEnd
        case modePacked:
            guard dictCount >= 2 else { return false }
            let width = BitPacking.bitWidth(UInt64(dictCount - 1))
            guard let packed = r.readBytes(BitPacking.packedSize(count: n, width: width)) else { return false }
            var bad = false
            let limit = UInt64(dictCount)
            let ok = BitPacking.unpack(packed, count: n, width: width) { v in
                if v >= limit { bad = true }
                out.ids.append(UInt32(truncatingIfNeeded: v))
            }
            return ok && !bad && r.isAtEnd
        default:
            return false
        }
    }
}
