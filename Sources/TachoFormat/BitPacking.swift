/// Little-endian bit packing of unsigned values of a fixed width (FORMAT.md §1):
/// value i occupies bits [i·w, (i+1)·w) of the byte stream, least significant bit first.
public enum BitPacking {
    public static func bitWidth(_ maxValue: UInt64) -> Int { 64 - maxValue.leadingZeroBitCount }

    public static func packedSize(count: Int, width: Int) -> Int { (count * width + 7) / 8 }

    /// `packedSize` for counts read from a file: nil when `count` or `width` is out of range
    /// or the size does not fit an `Int`, instead of trapping.
    public static func checkedPackedSize(count: Int, width: Int) -> Int? {
        guard count >= 0, width >= 0, width <= 64 else { return nil }
        let (bits, o) = count.multipliedReportingOverflow(by: width)
        guard !o, bits <= Int.max - 7 else { return nil }
        return (bits + 7) / 8
    }

    /// Appends `values.count` values of `width` bits (0…64) each.
    @inline(__always)
    public static func pack(_ count: Int, width: Int, into w: inout ByteWriter, value: (Int) -> UInt64) {
        guard width > 0, count > 0 else { return }
        let size = packedSize(count: count, width: width)
        let start = w.bytes.count
        // Whole 8-byte words are stored, then trimmed to `size`: reserve the overshoot.
        w.bytes.append(contentsOf: repeatElement(0, count: size + 8))
        w.bytes.withUnsafeMutableBytes { out in
            let o = out.baseAddress! + start
            var acc: UInt64 = 0
            var bits = 0
            var at = 0
            for i in 0..<count {
                let v = value(i)
                acc |= v << UInt64(bits)
                let used = 64 - bits
                if width >= used {
                    // acc is full: flush 8 bytes, keep the high part of v.
                    o.storeBytes(of: acc.littleEndian, toByteOffset: at, as: UInt64.self)
                    at += 8
                    acc = used == 64 ? 0 : (width == used ? 0 : v >> UInt64(used))
                    bits = width - used
                } else {
                    bits += width
                }
            }
            if bits > 0 { o.storeBytes(of: acc.littleEndian, toByteOffset: at, as: UInt64.self) }
        }
        w.bytes.removeLast(w.bytes.count - start - size)
    }

    /// Reads `count` values of `width` bits; calls `emit` for each. False if `raw` is short.
    @inline(__always)
    public static func unpack(_ raw: UnsafeRawBufferPointer, count: Int, width: Int, emit: (UInt64) -> Void) -> Bool {
        guard width >= 0, width <= 64, raw.count >= packedSize(count: count, width: width) else { return false }
        forEachValue(raw, count: count, width: width) { _, v in emit(v) }
        return true
    }

    /// Unpacks `count` values of `width` bits into `out[0..<count]`, adding `base` (wrapping).
    /// False if `raw` is short.
    public static func unpack(
        _ raw: UnsafeRawBufferPointer, count: Int, width: Int, adding base: Int64, into out: UnsafeMutablePointer<Int64>
    ) -> Bool {
        guard width >= 0, width <= 64, raw.count >= packedSize(count: count, width: width) else { return false }
        let b = UInt64(bitPattern: base)
        switch width {
        // The usual widths get their own copy of the loop, with shift and mask constant.
        case 1: forEachValue(raw, count: count, width: 1) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        case 2: forEachValue(raw, count: count, width: 2) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        case 3: forEachValue(raw, count: count, width: 3) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        case 4: forEachValue(raw, count: count, width: 4) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        case 5: forEachValue(raw, count: count, width: 5) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        case 6: forEachValue(raw, count: count, width: 6) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        case 7: forEachValue(raw, count: count, width: 7) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        case 8: forEachValue(raw, count: count, width: 8) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        default: forEachValue(raw, count: count, width: width) { i, v in out[i] = Int64(bitPattern: b &+ v) }
        }
        return true
    }

    /// Unpacks `count` ids of `width` bits into `out[0..<count]`. False if `raw` is short or
    /// an id is ≥ `limit`.
    public static func unpackIDs(
        _ raw: UnsafeRawBufferPointer, count: Int, width: Int, limit: UInt64, into out: UnsafeMutablePointer<UInt32>
    ) -> Bool {
        guard width >= 0, width <= 64, raw.count >= packedSize(count: count, width: width) else { return false }
        var high: UInt64 = 0
        switch width {
        case 1: forEachValue(raw, count: count, width: 1) { i, v in out[i] = UInt32(truncatingIfNeeded: v); high |= v }
        case 2: forEachValue(raw, count: count, width: 2) { i, v in out[i] = UInt32(truncatingIfNeeded: v); high = max(high, v) }
        case 3: forEachValue(raw, count: count, width: 3) { i, v in out[i] = UInt32(truncatingIfNeeded: v); high = max(high, v) }
        case 4: forEachValue(raw, count: count, width: 4) { i, v in out[i] = UInt32(truncatingIfNeeded: v); high = max(high, v) }
        default: forEachValue(raw, count: count, width: width) { i, v in out[i] = UInt32(truncatingIfNeeded: v); high = max(high, v) }
        }
        return count == 0 || high < limit
    }

    /// Calls `body(i, value)` for each of `count` values. REQUIRES: 0 ≤ width ≤ 64 and `raw`
    /// holds at least `packedSize(count:width:)` bytes.
    @inline(__always)
    static func forEachValue(_ raw: UnsafeRawBufferPointer, count: Int, width: Int, _ body: (Int, UInt64) -> Void) {
        guard width > 0 else {
            for i in 0..<count { body(i, 0) }
            return
        }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) &- 1
        var i = 0
        if let p = raw.baseAddress, raw.count >= 8, width <= 57 {
            // Value i starts in byte (i·w)/8 at bit (i·w)%8 ≤ 7, so with w ≤ 57 it lies inside
            // the 8 bytes loaded there; those bytes exist while the byte offset ≤ count − 8.
            let fast = min(count, ((raw.count - 7) * 8 - 1) / width + 1)
            var bitPos = 0
            while i < fast {
                let word = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: bitPos &>> 3, as: UInt64.self))
                body(i, (word &>> UInt64(bitPos & 7)) & mask)
                bitPos &+= width
                i &+= 1
            }
        }
        // The tail (and widths above 57): assemble each value byte by byte.
        while i < count {
            let bitPos = i * width
            var byte = bitPos >> 3
            let shift = bitPos & 7
            var v: UInt64 = 0
            var got = -shift
            while got < width {
                let b = UInt64(raw[byte])
                v |= got >= 0 ? b << UInt64(got) : b >> UInt64(-got)
                got += 8
                byte += 1
            }
            body(i, v & mask)
            i += 1
        }
    }
}
