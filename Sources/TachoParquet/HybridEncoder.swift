/// Parquet's RLE/bit-packed hybrid (parquet-format Encodings.md, "RLE"): the encoding of
/// definition and repetition levels and of dictionary indices. A run is a varint header
/// then its body: `count << 1` and the value in ceil(width / 8) little-endian bytes (an RLE
/// run), or `groups << 1 | 1` and `groups × 8` values packed `width` bits each, least
/// significant bit first (a bit-packed run). Only the last run may hold padding values past
/// the real count; readers stop at the count the page header gives.
enum HybridEncoder {
    /// Bits needed for values up to `maxValue`.
    static func bitWidth(_ maxValue: UInt64) -> Int { maxValue == 0 ? 0 : 64 - maxValue.leadingZeroBitCount }

    /// Appends the hybrid encoding of `values` (each < 2^width) to `out`.
    static func encode(_ values: UnsafeBufferPointer<UInt32>, width: Int, into out: inout [UInt8]) {
        let n = values.count
        var i = 0
        while i < n {
            let run = runLength(values, at: i)
            if run >= 8 {
                writeVarint(UInt64(run) << 1, into: &out)
                let v = values[i]
                for b in 0..<((width + 7) / 8) { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(b)))) }
                i += run
                continue
            }
            // Bit-packed groups of 8 until a run of 8 equal values starts at a group boundary.
            let start = i
            var groups = 0
            repeat {
                i += 8
                groups += 1
            } while i < n && groups < 63 && runLength(values, at: i, atLeast: 8) < 8
            writeVarint(UInt64(groups) << 1 | 1, into: &out)
            packBits(values, start, count: groups * 8, width: width, into: &out)
        }
    }

    /// Equal values from `at`, counting no further than `atLeast` when given.
    @inline(__always)
    private static func runLength(_ v: UnsafeBufferPointer<UInt32>, at i: Int, atLeast cap: Int = .max) -> Int {
        let x = v[i]
        var j = i + 1
        while j < v.count && v[j] == x && j - i < cap { j += 1 }
        return j - i
    }

    /// Packs `count` values from `start` (zeros past the end of `v`), `width` bits each, LSB first.
    static func packBits(_ v: UnsafeBufferPointer<UInt32>, _ start: Int, count: Int, width: Int, into out: inout [UInt8]) {
        guard width > 0 else { return }
        var acc: UInt64 = 0
        var bits = 0
        for k in start..<(start + count) {
            let x = k < v.count ? UInt64(v[k]) : 0
            acc |= x << UInt64(bits)
            bits += width
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc)) }
    }

    /// Appends the hybrid encoding of `values` prefixed by its length as 4 little-endian bytes
    /// (how data page v1 stores levels).
    static func encodeLevels(_ values: UnsafeBufferPointer<UInt32>, width: Int, into out: inout [UInt8]) {
        let at = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        encode(values, width: width, into: &out)
        let len = UInt32(out.count - at - 4)
        for b in 0..<4 { out[at + b] = UInt8(truncatingIfNeeded: len >> (8 * UInt32(b))) }
    }
}

@inline(__always)
func writeVarint(_ v: UInt64, into out: inout [UInt8]) {
    var v = v
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}
