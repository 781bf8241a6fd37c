/// Float64 column encoding (FORMAT.md §2.3.4). The first byte is the mode:
///
/// * 0, raw: `n` little-endian IEEE 754 values (every version).
/// * 1, decimal (segment version ≥ 3): every value is `Double(i) / 10^k` bit for bit, for one
///   `k` in 0…9 and integers `i` with `|i| ≤ 2^53`; the `i`s (or their first or second
///   differences) are an int64 block (§2.3.2). GPS degrees with 6 digits, speeds with 1.
/// * 2, XOR (segment version ≥ 3): Gorilla-style, each value XORed with the previous one,
///   leading/trailing zero counts, MSB-first bit stream.
///
/// The writer encodes every applicable mode and keeps the smallest (ties: the lower mode).
/// -0.0, NaNs (any payload) and ±infinity never pass the decimal test, so they round-trip bit
/// for bit through XOR or raw.
public enum FloatCodec {
    static let modeRaw: UInt8 = 0
    static let modeDecimal: UInt8 = 1
    static let modeXOR: UInt8 = 2
    static let sinceVersion: UInt16 = 3
    /// Largest decimal scale `k`.
    static let maxScale = 9
    /// Largest `|i|` of the decimal mode: every such integer is exact as a Double.
    static let maxDecimalMagnitude: Int64 = 1 << 53
    /// 10^0 … 10^9, exact as Doubles.
    static let pow10: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    public static func encode(_ v: UnsafeBufferPointer<Double>, into w: inout ByteWriter) {
        let rawSize = 1 + 8 * v.count
        var best = ByteWriter(capacity: 0)
        if let k = decimalScale(v) {
            var ints = [Int64](repeating: 0, count: v.count)
            for j in 0..<v.count { ints[j] = Int64((v[j] * pow10[k]).rounded()) }
            // order 0: the values; 1: first differences; 2: second differences (wrapping).
            for order in 0...2 {
                var trial = ByteWriter(capacity: 16 + v.count * 2)
                trial.writeUInt8(modeDecimal)
                trial.writeUInt8(UInt8(k))
                trial.writeUInt8(UInt8(order))
                ints.withUnsafeBufferPointer { IntCodec.encode($0, into: &trial) }
                if order == 0 || trial.count < best.count { best = trial }
                if order < 2 { differentiate(&ints) }
            }
        }
        if v.count > 0 {
            var trial = ByteWriter(capacity: rawSize)
            encodeXOR(v, into: &trial)
            if trial.count < rawSize && (best.count == 0 || trial.count < best.count) { best = trial }
        }
        if best.count > 0 && best.count < rawSize {
            w.writeBytes(best.bytes)
            return
        }
        w.writeUInt8(modeRaw)
        appendRaw(&w, count: v.count * 8) { p in
            let o = UnsafeMutableRawPointer(p)
            for (i, x) in v.enumerated() { o.storeBytes(of: x.bitPattern.littleEndian, toByteOffset: i * 8, as: UInt64.self) }
        }
    }

    /// The least `k` in 0…9 with `Double(i) / 10^k == v` bit for bit for every value (each
    /// with its `i = round(v · 10^k)`, `|i| ≤ 2^53`), or nil.
    static func decimalScale(_ v: UnsafeBufferPointer<Double>) -> Int? {
        var k = 0
        for x in v {
            while !isDecimal(x, scale: k) {
                k += 1
                if k > maxScale { return nil }
            }
        }
        // A larger k found later must still hold for the values checked at a smaller one.
        for x in v where !isDecimal(x, scale: k) { return nil }
        return k
    }

    @inline(__always)
    static func isDecimal(_ x: Double, scale k: Int) -> Bool {
        let scaled = (x * pow10[k]).rounded()
        guard scaled.isFinite, scaled.magnitude <= Double(maxDecimalMagnitude) else { return false }
        return (Double(Int64(scaled)) / pow10[k]).bitPattern == x.bitPattern
    }

    /// `a[i] = a[i] − a[i−1]` from the end (wrapping); `a[0]` unchanged.
    static func differentiate(_ a: inout [Int64]) {
        var i = a.count - 1
        while i > 0 { a[i] = a[i] &- a[i - 1]; i -= 1 }
    }

    static func encodeXOR(_ v: UnsafeBufferPointer<Double>, into w: inout ByteWriter) {
        w.writeUInt8(modeXOR)
        guard let first = v.first else { return }
        w.writeUInt64(first.bitPattern)
        var bits = BitWriter()
        var prev = first.bitPattern
        var lead = -1, trail = 0  // the current window; none yet
        for x in v.dropFirst() {
            let cur = x.bitPattern
            let d = cur ^ prev
            prev = cur
            if d == 0 {
                bits.write(0, count: 1, into: &w)
                continue
            }
            let lz = min(d.leadingZeroBitCount, 31), tz = d.trailingZeroBitCount
            if lead >= 0 && lz >= lead && tz >= trail {
                bits.write(0b10, count: 2, into: &w)
                bits.write(d >> UInt64(trail), count: 64 - lead - trail, into: &w)
            } else {
                let len = 64 - lz - tz
                bits.write(0b11, count: 2, into: &w)
                bits.write(UInt64(lz), count: 5, into: &w)
                bits.write(UInt64(len & 63), count: 6, into: &w)
                bits.write(d >> UInt64(tz), count: len, into: &w)
                (lead, trail) = (lz, tz)
            }
        }
        bits.flush(into: &w)
    }

    /// Decodes into `out`. False on malformed input (FORMAT.md §2.3.4 lists the rules),
    /// including modes 1 and 2 in a segment older than version 3.
    public static func decode(
        _ raw: UnsafeRawBufferPointer, count n: Int, version: UInt16 = FormatConstants.segmentVersion,
        into out: inout [Double]
    ) -> Bool {
        var r = ByteReader(raw)
        guard n >= 0, let mode = r.readUInt8() else {
            out.removeAll(keepingCapacity: true)
            return false
        }
        switch mode {
        case modeRaw:
            guard r.remaining == n * 8 else { return false }
            resize(&out, to: n, fill: 0)
            out.withUnsafeMutableBufferPointer { o in
                for k in 0..<n {
                    o[k] = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 1 + k * 8, as: UInt64.self)))
                }
            }
            return true
        case modeDecimal where version >= sinceVersion:
            return decodeDecimal(&r, count: n, version: version, into: &out)
        case modeXOR where version >= sinceVersion:
            return decodeXOR(&r, count: n, into: &out)
        default:
            return false
        }
    }

    static func decodeDecimal(_ r: inout ByteReader, count n: Int, version: UInt16, into out: inout [Double]) -> Bool {
        guard let k = r.readUInt8(), Int(k) <= maxScale, let order = r.readUInt8(), order <= 2 else { return false }
        var ints: [Int64] = []
        let rest = UnsafeRawBufferPointer(rebasing: r.base[r.offset...])
        guard IntCodec.decode(rest, count: n, version: version, into: &ints) else { return false }
        for _ in 0..<order {
            for i in ints.indices.dropFirst() { ints[i] = ints[i] &+ ints[i - 1] }
        }
        resize(&out, to: n, fill: 0)
        let scale = pow10[Int(k)]
        for i in 0..<n {
            guard ints[i].magnitude <= UInt64(maxDecimalMagnitude) else { return false }
            out[i] = Double(ints[i]) / scale
        }
        return true
    }

    static func decodeXOR(_ r: inout ByteReader, count n: Int, into out: inout [Double]) -> Bool {
        guard n > 0 else { return r.isAtEnd }
        guard let first = r.readUInt64() else { return false }
        resize(&out, to: n, fill: 0)
        out[0] = Double(bitPattern: first)
        var bits = BitReader(UnsafeRawBufferPointer(rebasing: r.base[r.offset...]))
        var prev = first
        var lead = -1, len = 0
        for i in 1..<n {
            guard let c = bits.read(1) else { return false }
            if c == 1 {
                guard let c2 = bits.read(1) else { return false }
                if c2 == 1 {
                    guard let l = bits.read(5), let m = bits.read(6) else { return false }
                    lead = Int(l)
                    len = m == 0 ? 64 : Int(m)
                    guard lead + len <= 64 else { return false }
                } else if lead < 0 {
                    return false
                }
                guard let d = bits.read(len) else { return false }
                prev ^= d << UInt64(64 - lead - len)
            }
            out[i] = Double(bitPattern: prev)
        }
        return bits.isAtEndWithZeroPadding
    }
}

/// MSB-first bit stream writer: the first bit written is bit 7 of the first byte.
struct BitWriter {
    private var acc: UInt64 = 0
    private var used = 0  // bits in acc, ≤ 7 between calls

    /// Appends the low `count` bits of `value` (0…64), most significant first.
    mutating func write(_ value: UInt64, count: Int, into w: inout ByteWriter) {
        guard count > 0 else { return }
        if count > 32 {
            write(value >> 32, count: count - 32, into: &w)
            write(value & 0xFFFF_FFFF, count: 32, into: &w)
            return
        }
        acc = (acc << UInt64(count)) | (value & ((1 << UInt64(count)) - 1))
        used += count
        while used >= 8 {
            used -= 8
            w.writeUInt8(UInt8(truncatingIfNeeded: acc >> UInt64(used)))
        }
        acc &= (1 << UInt64(used)) - 1
    }

    /// Writes the last partial byte, padded with zero bits.
    mutating func flush(into w: inout ByteWriter) {
        if used > 0 { w.writeUInt8(UInt8(truncatingIfNeeded: acc << UInt64(8 - used))) }
        (acc, used) = (0, 0)
    }
}

/// MSB-first bit stream reader over borrowed bytes; nil past the end.
struct BitReader {
    let base: UnsafeRawBufferPointer
    private var bit = 0  // bits consumed

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    mutating func read(_ count: Int) -> UInt64? {
        guard count >= 0, bit + count <= base.count * 8 else { return nil }
        var v: UInt64 = 0
        var left = count
        while left > 0 {
            let byte = UInt64(base[bit >> 3])
            let avail = 8 - (bit & 7)
            let take = min(avail, left)
            let chunk = (byte >> UInt64(avail - take)) & ((1 << UInt64(take)) - 1)
            v = (v << UInt64(take)) | chunk
            bit += take
            left -= take
        }
        return v
    }

    /// True when only the zero bits of the last byte's padding are left.
    var isAtEndWithZeroPadding: Bool {
        let total = base.count * 8
        guard total - bit < 8 else { return false }
        guard bit < total else { return true }
        let pad = total - bit
        return UInt64(base[base.count - 1]) & ((1 << UInt64(pad)) - 1) == 0
    }
}
