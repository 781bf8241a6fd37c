/// Timestamp column encoding (FORMAT.md §2.3.1): sorted microsecond times as a first value,
/// a common scale (the GCD of the deltas, so millisecond data costs no bits for the µs
/// digits), then zigzag varint deltas or deltas-of-deltas, whichever is shorter.
public enum TimeCodec {
    static let modeDelta: UInt8 = 1
    static let modeDeltaOfDelta: UInt8 = 2

    public static func encode(_ times: UnsafeBufferPointer<Int64>, into w: inout ByteWriter) {
        let n = times.count
        var scale: UInt64 = 0
        var overflow = false
        if n > 1 {
            for i in 1..<n {
                let (d, o) = times[i].subtractingReportingOverflow(times[i - 1])
                if o { overflow = true; break }
                let m = d.magnitude
                // gcd(s, 0) = s, and gcd(s, m) = s when s divides m: no division needed.
                if m == 0 || (scale != 0 && m % scale == 0) { continue }
                scale = gcd(scale, m)
                if scale == 1 { break }
            }
        }
        if overflow || scale == 0 || scale > UInt64(Int64.max) { scale = 1 }
        // Every delta is a multiple of the scale: divide exactly by a shift and a multiply
        // with the inverse of its odd part (mod 2^64) instead of a 64-bit division.
        let shift = UInt64(scale.trailingZeroBitCount)
        let inverse = inverseMod64(scale >> shift)
        @inline(__always) func scaled(_ i: Int) -> Int64 {
            Int64(bitPattern: UInt64(bitPattern: (times[i] &- times[i - 1]) >> shift) &* inverse)
        }
        // Size both candidates without writing them.
        var deltaBytes = 0, dodBytes = 0
        var prevDelta: Int64 = 0
        if n > 1 {
            for i in 1..<n {
                let d = scaled(i)
                deltaBytes &+= varintSize(ZigZag.encode(d))
                dodBytes &+= varintSize(ZigZag.encode(i == 1 ? d : d &- prevDelta))
                prevDelta = d
            }
        }
        let mode = dodBytes < deltaBytes ? modeDeltaOfDelta : modeDelta
        w.writeUInt8(mode)
        w.writeVarint(UInt64(n))
        guard n > 0 else { return }
        w.writeSignedVarint(times[0])
        w.writeVarint(scale)
        guard n > 1 else { return }
        appendRaw(&w, count: mode == modeDelta ? deltaBytes : dodBytes) { p in
            var at = 0
            var prevDelta: Int64 = 0
            if mode == modeDelta {
                for i in 1..<n { putVarint(p, &at, ZigZag.encode(scaled(i))) }
            } else {
                for i in 1..<n {
                    let d = scaled(i)
                    putVarint(p, &at, ZigZag.encode(i == 1 ? d : d &- prevDelta))
                    prevDelta = d
                }
            }
        }
    }

    /// Decodes into `out` (replacing its contents). Returns false on malformed input.
    public static func decode(_ raw: UnsafeRawBufferPointer, expectedCount: Int, into out: inout [Int64]) -> Bool {
        var r = ByteReader(raw)
        guard let mode = r.readUInt8(), mode == modeDelta || mode == modeDeltaOfDelta,
              let n = r.readLength(limit: expectedCount), n == expectedCount
        else {
            out.removeAll(keepingCapacity: true)
            return false
        }
        guard n > 0 else {
            out.removeAll(keepingCapacity: true)
            return r.isAtEnd
        }
        guard let first = r.readSignedVarint(), let scaleU = r.readVarint(), scaleU >= 1,
              scaleU <= UInt64(Int64.max)
        else { return false }
        let scale = Int64(scaleU)
        resize(&out, to: n, fill: 0)
        guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        var i = r.offset
        let end = raw.count
        let dod = mode == modeDeltaOfDelta
        let ok = out.withUnsafeMutableBufferPointer { o -> Bool in
            o[0] = first
            var t = first
            var delta: Int64 = 0
            var k = 1
            if dod && n > 1 {
                guard let v = readVarint(base, end, &i) else { return false }
                delta = ZigZag.decode(v)
                t = t &+ delta &* scale
                o[1] = t
                k = 2
            }
            if dod {
                while k < n {
                    guard let v = readVarint(base, end, &i) else { return false }
                    delta = delta &+ ZigZag.decode(v)
                    t = t &+ delta &* scale
                    o[k] = t
                    k &+= 1
                }
            } else {
                while k < n {
                    guard let v = readVarint(base, end, &i) else { return false }
                    t = t &+ ZigZag.decode(v) &* scale
                    o[k] = t
                    k &+= 1
                }
            }
            return true
        }
        return ok && i >= end
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// The inverse of odd `a` modulo 2^64 (Newton's iteration; each step doubles the bits).
    static func inverseMod64(_ a: UInt64) -> UInt64 {
        var x = a  // correct to 3 bits: a·a ≡ 1 (mod 8) for odd a
        for _ in 0..<5 { x = x &* (2 &- a &* x) }
        return x
    }
}
