/// DELTA_BINARY_PACKED (parquet-format Encodings.md): a header — block size in values (128),
/// miniblocks per block (4), total value count, first value (zigzag varint) — then per block of
/// 128 deltas: the block's minimum delta (zigzag varint), one bit-width byte per miniblock, and
/// each miniblock's 32 `delta − min` values bit-packed LSB first. Deltas wrap (two's
/// complement), so any Int64 sequence encodes. Miniblocks past the last value are left out
/// (their width bytes are 0); the last one present is padded with zeros.
enum DeltaBinaryPacked {
    static let blockSize = 128
    static let miniblocks = 4
    static let miniblockSize = 32

    static func encode(_ values: UnsafeBufferPointer<Int64>, into out: inout [UInt8]) {
        writeVarint(UInt64(blockSize), into: &out)
        writeVarint(UInt64(miniblocks), into: &out)
        writeVarint(UInt64(values.count), into: &out)
        writeVarint(zigzag(values.first ?? 0), into: &out)
        guard values.count > 1 else { return }
        var deltas = [Int64](repeating: 0, count: blockSize)
        var packed = [UInt64](repeating: 0, count: blockSize)
        var i = 1
        while i < values.count {
            let n = min(blockSize, values.count - i)
            var minDelta = Int64.max
            for k in 0..<n {
                let d = values[i + k] &- values[i + k - 1]
                deltas[k] = d
                if d < minDelta { minDelta = d }
            }
            writeVarint(zigzag(minDelta), into: &out)
            var widths = [Int](repeating: 0, count: miniblocks)
            for k in 0..<n { packed[k] = UInt64(bitPattern: deltas[k] &- minDelta) }
            for k in n..<blockSize { packed[k] = 0 }
            let used = (n + miniblockSize - 1) / miniblockSize
            for m in 0..<used {
                var or: UInt64 = 0
                for k in (m * miniblockSize)..<((m + 1) * miniblockSize) { or |= packed[k] }
                widths[m] = HybridEncoder.bitWidth(or)
            }
            for m in 0..<miniblocks { out.append(UInt8(widths[m])) }
            for m in 0..<used {
                pack64(packed, m * miniblockSize, count: miniblockSize, width: widths[m], into: &out)
            }
            i += n
        }
    }

    /// Packs `count` values of `v` from `start`, `width` (0…64) bits each, LSB first.
    private static func pack64(_ v: [UInt64], _ start: Int, count: Int, width: Int, into out: inout [UInt8]) {
        guard width > 0 else { return }
        var acc: UInt64 = 0  // bits not yet written, low `bits` of them valid
        var bits = 0
        for k in start..<(start + count) {
            let x = v[k]
            acc |= x << UInt64(bits)
            let total = bits + width
            if total >= 64 {
                // `acc` is full: write it, keep the high bits of x that did not fit.
                appendLE(acc, 8, into: &out)
                acc = bits == 0 ? 0 : x >> UInt64(64 - bits)
                bits = total - 64
            } else {
                bits = total
            }
        }
        // count (32) × width is a multiple of 8 bits: whole bytes remain.
        appendLE(acc, bits / 8, into: &out)
    }

    @inline(__always)
    private static func appendLE(_ x: UInt64, _ n: Int, into out: inout [UInt8]) {
        for b in 0..<n { out.append(UInt8(truncatingIfNeeded: x >> UInt64(8 * b))) }
    }
}
