/// Patched bit packing (FORMAT.md §2.7.1, segment version ≥ 3): `n` unsigned values stored as
/// their low `width` bits, packed per §1.6, plus exceptions that carry the high bits of the few
/// values that do not fit. One outlier (a vehicle offline for minutes, one huge count) then
/// costs a few bytes instead of widening every value of the chunk.
///
///     width <1b> (≤ 64) │ ⌈n·width/8⌉ packed low bits │ e <uvarint> (≤ n) │ e × (skip <uvarint>, high <uvarint>)
///
/// Exception j sits at index `i_0 = skip_0`, `i_j = i_{j−1} + 1 + skip_j` (< n), and makes that
/// value `low | high << width`, with `high ≥ 1`, `width < 64` and no bit of `high` shifted out.
enum PatchedPacking {
    /// The width with the smallest estimated size and the exact size at that width, for the
    /// `n` values given by `value(i)`. Each exception is estimated at 1 byte of skip plus the
    /// varint of its high bits; the returned size is exact.
    @inline(__always)
    static func plan(count n: Int, value: (Int) -> UInt64) -> (width: Int, size: Int) {
        // counts[b] = how many values have bit width b.
        var counts = [Int](repeating: 0, count: 65)
        counts.withUnsafeMutableBufferPointer { c in
            for i in 0..<n { c[BitPacking.bitWidth(value(i))] &+= 1 }
        }
        var maxWidth = 64
        while maxWidth > 0 && counts[maxWidth] == 0 { maxWidth -= 1 }
        var best = maxWidth, bestSize = Int.max
        // Widths from the widest down: an exception at width w costs 1 + ⌈(b − w)/7⌉ bytes.
        for w in stride(from: maxWidth, through: 0, by: -1) {
            var exceptions = 0, extra = 0
            if w < maxWidth {
                for b in (w + 1)...maxWidth where counts[b] > 0 {
                    exceptions &+= counts[b]
                    extra &+= counts[b] &* (1 &+ (b &- w &+ 6) / 7)
                }
            }
            let size = 1 + BitPacking.packedSize(count: n, width: w) + varintSize(UInt64(exceptions)) + extra
            if size < bestSize { (best, bestSize) = (w, size) }
        }
        return (best, size(count: n, width: best, value: value))
    }

    /// The exact encoded size at `width`.
    @inline(__always)
    static func size(count n: Int, width: Int, value: (Int) -> UInt64) -> Int {
        var exceptions = 0, extra = 0, last = -1
        if width < 64 {
            for i in 0..<n {
                let high = value(i) >> UInt64(width)
                if high != 0 {
                    extra &+= varintSize(UInt64(i &- last &- 1)) &+ varintSize(high)
                    exceptions &+= 1
                    last = i
                }
            }
        }
        return 1 + BitPacking.packedSize(count: n, width: width) + varintSize(UInt64(exceptions)) + extra
    }

    @inline(__always)
    static func write(count n: Int, width: Int, into w: inout ByteWriter, value: (Int) -> UInt64) {
        w.writeUInt8(UInt8(width))
        let mask: UInt64 = width >= 64 ? ~0 : (1 << UInt64(width)) &- 1
        BitPacking.pack(n, width: width, into: &w) { value($0) & mask }
        guard width < 64 else {
            w.writeVarint(0)
            return
        }
        var exceptions = 0
        for i in 0..<n where value(i) >> UInt64(width) != 0 { exceptions &+= 1 }
        w.writeVarint(UInt64(exceptions))
        var last = -1
        for i in 0..<n {
            let high = value(i) >> UInt64(width)
            guard high != 0 else { continue }
            w.writeVarint(UInt64(i &- last &- 1))
            w.writeVarint(high)
            last = i
        }
    }

    /// Reads `n` values into `out[0..<n]` as `base + value` (u64 wrapping; `checkOverflow`
    /// rejects a sum that wraps). False on any malformed field (see the type's rules).
    /// REQUIRES: `out.count ≥ n`.
    static func read(
        _ r: inout ByteReader, count n: Int, base: UInt64, checkOverflow: Bool, into out: UnsafeMutableBufferPointer<Int64>
    ) -> Bool {
        guard out.count >= n, let width = r.readUInt8(), width <= 64,
              let size = BitPacking.checkedPackedSize(count: n, width: Int(width)),
              let packed = r.readBytes(size),
              n == 0 || out.baseAddress.map({ BitPacking.unpack(packed, count: n, width: Int(width), adding: 0, into: $0) }) == true,
              let e = r.readLength(limit: n)
        else { return false }
        guard e == 0 || width < 64 else { return false }
        var index = -1
        for _ in 0..<e {
            guard let skip = r.readVarint(), skip < UInt64(n &- index &- 1),
                  let high = r.readVarint(), high != 0, high >> UInt64(64 &- Int(width)) == 0
            else { return false }
            index = index &+ 1 &+ Int(skip)
            out[index] = Int64(bitPattern: UInt64(bitPattern: out[index]) | high << UInt64(width))
        }
        for i in 0..<n {
            let (sum, o) = base.addingReportingOverflow(UInt64(bitPattern: out[i]))
            if o && checkOverflow { return false }
            out[i] = Int64(bitPattern: sum)
        }
        return true
    }
}
