/// Little-endian bit packing of unsigned values of a fixed width (FORMAT.md §1):
/// value i occupies bits [i·w, (i+1)·w) of the byte stream, least significant bit first.
public enum BitPacking {
    public static func bitWidth(_ maxValue: UInt64) -> Int { 64 - maxValue.leadingZeroBitCount }

    public static func packedSize(count: Int, width: Int) -> Int { (count * width + 7) / 8 }

    /// Appends `values.count` values of `width` bits (0…64) each.
    public static func pack(_ count: Int, width: Int, into w: inout ByteWriter, value: (Int) -> UInt64) {
        guard width > 0 else { return }
        var acc: UInt64 = 0
        var bits = 0
        for i in 0..<count {
            let v = value(i)
            acc |= v << UInt64(bits)
            let used = 64 - bits
            if width >= used {
                // acc is full: flush 8 bytes, keep the high part of v.
                w.writeUInt64(acc)
                acc = used == 64 ? 0 : (width == used ? 0 : v >> UInt64(used))
                bits = width - used
            } else {
                bits += width
            }
        }
        var b = bits
        while b > 0 {
            w.writeUInt8(UInt8(truncatingIfNeeded: acc))
            acc >>= 8
            b -= 8
        }
    }

    /// Reads `count` values of `width` bits; calls `emit` for each. False if `raw` is short.
    @inline(__always)
    public static func unpack(_ raw: UnsafeRawBufferPointer, count: Int, width: Int, emit: (UInt64) -> Void) -> Bool {
        guard width > 0 else {
            for _ in 0..<count { emit(0) }
            return true
        }
        guard width <= 64, raw.count >= packedSize(count: count, width: width) else { return false }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        var bitPos = 0
        let fastEnd = raw.count - 8
        for _ in 0..<count {
            let byte = bitPos >> 3
            let shift = UInt64(bitPos & 7)
            var word: UInt64
            if byte <= fastEnd {
                word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: byte, as: UInt64.self))
            } else {
                word = 0
                for k in 0..<(raw.count - byte) { word |= UInt64(raw[byte + k]) << UInt64(8 * k) }
            }
            var v = word >> shift
            if Int(shift) + width > 64 {
                // Straddles 9 bytes: take the top bits from the next byte.
                let next = byte + 8 < raw.count ? UInt64(raw[byte + 8]) : 0
                v |= next << (64 - shift)
            }
            emit(v & mask)
            bitPos += width
        }
        return true
    }
}
