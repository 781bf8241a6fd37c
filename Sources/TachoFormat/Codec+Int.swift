/// Int64 column encoding (FORMAT.md §2.3.2): a constant, frame-of-reference bit packing,
/// zigzag varint deltas, or — segment version 3 on — frame of reference with patched packing
/// (§2.7.2) — whichever is shortest before zstd.
public enum IntCodec {
    static let modeConstant: UInt8 = 0
    static let modeFOR: UInt8 = 1
    static let modeDelta: UInt8 = 2
    /// Frame of reference, patched (segment version ≥ 3).
    static let modePatchedFOR: UInt8 = 3
    static let patchedSinceVersion: UInt16 = 3

    public static func encode(_ v: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        let n = v.count
        guard n > 0 else { w.writeUInt8(modeConstant); w.writeSignedVarint(0); return }
        var lo = v[0], hi = v[0]
        var deltaBytes = varintSize(ZigZag.encode(v[0]))
        for i in 1..<n {
            let x = v[i]
            if x < lo { lo = x }
            if x > hi { hi = x }
            deltaBytes &+= varintSize(ZigZag.encode(x &- v[i - 1]))
        }
        if lo == hi {
            w.writeUInt8(modeConstant)
            w.writeSignedVarint(lo)
            return
        }
        let range = UInt64(bitPattern: hi) &- UInt64(bitPattern: lo)
        let width = BitPacking.bitWidth(range)
        let forBytes = BitPacking.packedSize(count: n, width: width) + 1
        let base = UInt64(bitPattern: lo)
        // Patched FOR when strictly smaller than both (it repeats FOR's base) and at least 2
        // bits narrower than FOR: a 1-bit saving is usually lost after zstd, which finds more
        // in FOR's wider, byte-friendlier values (measured on tools/gen data: +7 % bytes).
        let patched = PatchedPacking.plan(count: n) { UInt64(bitPattern: v[$0]) &- base }
        if patched.width + 2 <= width, patched.size < min(forBytes, deltaBytes &- varintSize(ZigZag.encode(lo))) {
            w.writeUInt8(modePatchedFOR)
            w.writeSignedVarint(lo)
            PatchedPacking.write(count: n, width: patched.width, into: &w) { UInt64(bitPattern: v[$0]) &- base }
            return
        }
        if forBytes <= deltaBytes {
            w.writeUInt8(modeFOR)
            w.writeSignedVarint(lo)
            w.writeUInt8(UInt8(width))
            BitPacking.pack(n, width: width, into: &w) { UInt64(bitPattern: v[$0]) &- base }
        } else {
            w.writeUInt8(modeDelta)
            appendRaw(&w, count: deltaBytes) { p in
                var at = 0
                var prev: Int64 = 0
                for x in v {
                    putVarint(p, &at, ZigZag.encode(x &- prev))
                    prev = x
                }
            }
        }
    }

    /// Decodes into `out`. False on malformed input, including mode 3 in a segment older than
    /// version 3.
    public static func decode(
        _ raw: UnsafeRawBufferPointer, count n: Int, version: UInt16 = FormatConstants.segmentVersion,
        into out: inout [Int64]
    ) -> Bool {
        var r = ByteReader(raw)
        guard n >= 0, let mode = r.readUInt8() else {
            out.removeAll(keepingCapacity: true)
            return false
        }
        switch mode {
        case modeConstant:
            guard let c = r.readSignedVarint() else { return false }
            out.removeAll(keepingCapacity: true)
            out.append(contentsOf: repeatElement(c, count: n))
            return r.isAtEnd
        case modeFOR:
            guard let lo = r.readSignedVarint(), let width = r.readUInt8(), width <= 64,
                  let packed = r.readBytes(BitPacking.packedSize(count: n, width: Int(width)))
            else { return false }
            resize(&out, to: n, fill: 0)
            let ok = out.withUnsafeMutableBufferPointer { o in
                n == 0 || BitPacking.unpack(packed, count: n, width: Int(width), adding: lo, into: o.baseAddress!)
            }
            return ok && r.isAtEnd
        case modeDelta:
            resize(&out, to: n, fill: 0)
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return n == 0 }
            var i = r.offset
            let end = raw.count
            let ok = out.withUnsafeMutableBufferPointer { o -> Bool in
                var prev: Int64 = 0
                for k in 0..<n {
                    guard let d = readVarint(base, end, &i) else { return false }
                    prev = prev &+ ZigZag.decode(d)
                    o[k] = prev
                }
                return true
            }
            return ok && i >= end
        case modePatchedFOR where version >= patchedSinceVersion:
            guard let lo = r.readSignedVarint() else { return false }
            resize(&out, to: n, fill: 0)
            let ok = out.withUnsafeMutableBufferPointer { o in
                PatchedPacking.read(&r, count: n, base: UInt64(bitPattern: lo), checkOverflow: false, into: o)
            }
            return ok && r.isAtEnd
        default:
            return false
        }
    }
}
