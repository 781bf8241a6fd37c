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
                scale = gcd(scale, d.magnitude)
                if scale == 1 { break }
            }
        }
        if overflow || scale == 0 || scale > UInt64(Int64.max) { scale = 1 }
        let s = Int64(scale)
        // Size both candidates without writing them.
        var deltaBytes = 0, dodBytes = 0
        var prevDelta: Int64 = 0
        if n > 1 {
            for i in 1..<n {
                let d = (times[i] &- times[i - 1]) / s
                deltaBytes += varintSize(ZigZag.encode(d))
                dodBytes += varintSize(ZigZag.encode(i == 1 ? d : d &- prevDelta))
                prevDelta = d
            }
        }
        let mode = dodBytes < deltaBytes ? modeDeltaOfDelta : modeDelta
        w.writeUInt8(mode)
        w.writeVarint(UInt64(n))
        guard n > 0 else { return }
        w.writeSignedVarint(times[0])
        w.writeVarint(scale)
        prevDelta = 0
        for i in 1..<n {
            let d = (times[i] &- times[i - 1]) / s
            w.writeSignedVarint(mode == modeDelta || i == 1 ? d : d &- prevDelta)
            prevDelta = d
        }
    }

    /// Decodes into `out` (replacing its contents). Returns false on malformed input.
    public static func decode(_ raw: UnsafeRawBufferPointer, expectedCount: Int, into out: inout [Int64]) -> Bool {
        var r = ByteReader(raw)
        out.removeAll(keepingCapacity: true)
        guard let mode = r.readUInt8(), mode == modeDelta || mode == modeDeltaOfDelta,
              let n = r.readLength(limit: expectedCount), n == expectedCount
        else { return false }
        guard n > 0 else { return r.isAtEnd }
        guard let first = r.readSignedVarint(), let scaleU = r.readVarint(), scaleU >= 1,
              scaleU <= UInt64(Int64.max)
        else { return false }
        let scale = Int64(scaleU)
        out.reserveCapacity(n)
        out.append(first)
        var t = first
        var delta: Int64 = 0
        let dod = mode == modeDeltaOfDelta
        for i in 1..<n {
            guard let v = r.readSignedVarint() else { return false }
            delta = (dod && i > 1) ? delta &+ v : v
            t = t &+ delta &* scale
            out.append(t)
        }
        return r.isAtEnd
    }

    static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}

@inlinable func varintSize(_ v: UInt64) -> Int {
    v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7
}
