/// Timestamp column encoding (FORMAT.md §2.3.1): sorted microsecond times as a first value,
/// a common scale (the GCD of the deltas, so millisecond data costs no bits for the µs
/// digits), then zigzag varint deltas (mode 1), deltas-of-deltas (mode 2), or — segment
/// version 2 on — runs of equal times with bit-packed run lengths and gaps (mode 3),
/// whichever is shortest.
public enum TimeCodec {
    static let modeDelta: UInt8 = 1
    static let modeDeltaOfDelta: UInt8 = 2
    /// Runs of equal times, frame-of-reference packed (segment version ≥ 2).
    static let modeRuns: UInt8 = 3
    /// The first segment version whose time blocks may use mode 3.
    static let runsSinceVersion: UInt16 = 2
    /// Runs with patched lengths and gaps (segment version ≥ 3, Codec+TimePatched.swift).
    static let modePatchedRuns: UInt8 = 4
    static let patchedRunsSinceVersion: UInt16 = 3

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
        // with the inverse of its odd part (mod 2^64) instead of a 64-bit division. (A
        // difference that overflows i64 forces scale 1: shift 0, inverse 1, and the wrapped
        // difference's bit pattern is then its exact unsigned value.)
        let shift = UInt64(scale.trailingZeroBitCount)
        let inverse = inverseMod64(scale >> shift)
        @inline(__always) func scaled(_ i: Int) -> Int64 {
            Int64(bitPattern: UInt64(bitPattern: (times[i] &- times[i - 1]) >> shift) &* inverse)
        }
        // Size all three candidates without writing them. Mode 3 needs the number of runs
        // of equal times, the least and greatest run length, and the least and greatest gap
        // (distinct-time difference / scale); it applies only to non-decreasing times.
        var deltaBytes = 0, dodBytes = 0
        var prevDelta: Int64 = 0
        var sorted = n > 0
        var runs = 1, runLen: UInt64 = 1
        var minLen = UInt64.max, maxLen: UInt64 = 0, minGap = UInt64.max, maxGap: UInt64 = 0
        if n > 1 {
            for i in 1..<n {
                let d = scaled(i)
                deltaBytes &+= varintSize(ZigZag.encode(d))
                dodBytes &+= varintSize(ZigZag.encode(i == 1 ? d : d &- prevDelta))
                prevDelta = d
                if d == 0 {
                    runLen &+= 1
                    continue
                }
                sorted = sorted && times[i] > times[i - 1]
                minLen = min(minLen, runLen)
                maxLen = max(maxLen, runLen)
                runLen = 1
                let gap = UInt64(bitPattern: d)
                minGap = min(minGap, gap)
                maxGap = max(maxGap, gap)
                runs &+= 1
            }
        }
        minLen = min(minLen, runLen)
        maxLen = max(maxLen, runLen)
        let lenWidth = BitPacking.bitWidth(maxLen &- minLen)
        let gapWidth = runs > 1 ? BitPacking.bitWidth(maxGap &- minGap) : 0
        var runBytes = Int.max
        if sorted {
            runBytes = varintSize(UInt64(runs)) + varintSize(minLen) + 1
                + BitPacking.packedSize(count: runs, width: lenWidth)
            if runs > 1 {
                runBytes += varintSize(minGap) + 1 + BitPacking.packedSize(count: runs - 1, width: gapWidth)
            }
        }
        // Version 3: the runs again, with patched lengths and gaps (mode 4, Codec+TimePatched).
        // Chosen only when strictly smaller than modes 1–3.
        if sorted && runs > 1 {
            let done = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * runs) { buf -> Bool in
                fillRuns(buf, runs: runs, count: n, scaled: scaled)
                let plan = PatchedRunsPlan(buf, runs: runs, minLen: minLen, minGap: minGap)
                guard plan.size < min(runBytes, deltaBytes, dodBytes) else { return false }
                w.writeUInt8(modePatchedRuns)
                w.writeVarint(UInt64(n))
                w.writeSignedVarint(times[0])
                w.writeVarint(scale)
                plan.write(buf, runs: runs, minLen: minLen, minGap: minGap, into: &w)
                return true
            }
            if done { return }
        }
        // The strictly smallest; ties go to the lower mode.
        let mode =
            runBytes < min(deltaBytes, dodBytes) ? modeRuns : dodBytes < deltaBytes ? modeDeltaOfDelta : modeDelta
        w.writeUInt8(mode)
        w.writeVarint(UInt64(n))
        guard n > 0 else { return }
        w.writeSignedVarint(times[0])
        w.writeVarint(scale)
        if mode == modeRuns {
            w.writeVarint(UInt64(runs))
            w.writeVarint(minLen)
            w.writeUInt8(UInt8(lenWidth))
            // Run lengths at [0, runs), gaps at [runs, 2·runs − 1).
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2 * runs) { buf in
                fillRuns(buf, runs: runs, count: n, scaled: scaled)
                BitPacking.pack(runs, width: lenWidth, into: &w) { buf[$0] &- minLen }
                guard runs > 1 else { return }
                w.writeVarint(minGap)
                w.writeUInt8(UInt8(gapWidth))
                BitPacking.pack(runs - 1, width: gapWidth, into: &w) { buf[runs + $0] &- minGap }
            }
            return
        }
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

    /// Decodes into `out` (replacing its contents). Returns false on malformed input,
    /// including mode 3 in a block of a segment older than version 2.
    public static func decode(
        _ raw: UnsafeRawBufferPointer, expectedCount: Int, version: UInt16 = FormatConstants.segmentVersion,
        into out: inout [Int64]
    ) -> Bool {
        var r = ByteReader(raw)
        guard let mode = r.readUInt8(),
              mode == modeDelta || mode == modeDeltaOfDelta || (mode == modeRuns && version >= runsSinceVersion)
                || (mode == modePatchedRuns && version >= patchedRunsSinceVersion),
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
        if mode == modeRuns { return decodeRuns(&r, count: n, first: first, scale: scale, into: &out) }
        if mode == modePatchedRuns { return decodePatchedRuns(&r, count: n, first: first, scale: scale, into: &out) }
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

    /// Run lengths into `buf[0..<runs]`, gaps (scaled distinct-time differences) into
    /// `buf[runs..<2·runs − 1]`. REQUIRES: `runs` is the number of runs of equal times, n ≥ 1.
    @inline(__always)
    static func fillRuns(_ buf: UnsafeMutableBufferPointer<UInt64>, runs: Int, count n: Int, scaled: (Int) -> Int64) {
        var j = 0
        var len: UInt64 = 1
        for i in 1..<max(n, 1) {
            let d = scaled(i)
            if d == 0 {
                len &+= 1
            } else {
                buf[j] = len
                buf[runs + j] = UInt64(bitPattern: d)
                j &+= 1
                len = 1
            }
        }
        buf[j] = len
    }

    /// Mode 3 after `first` and `scale`: m, the packed run lengths, the packed gaps. Every
    /// field is checked before `out` is touched; the run lengths are checked against `n`
    /// as they are expanded, so a sum that overflows or misses `n` never writes out of bounds.
    private static func decodeRuns(
        _ r: inout ByteReader, count n: Int, first: Int64, scale: Int64, into out: inout [Int64]
    ) -> Bool {
        guard let m = r.readLength(limit: n), m >= 1,
              let lenBase = r.readVarint(), lenBase >= 1,
              let lenWidth = r.readUInt8(), lenWidth <= 64,
              let lenSize = BitPacking.checkedPackedSize(count: m, width: Int(lenWidth)),
              let lens = r.readBytes(lenSize)
        else { return false }
        var gapBase: UInt64 = 0
        var gapWidth: UInt8 = 0
        var gaps = UnsafeRawBufferPointer(start: nil, count: 0)
        if m > 1 {
            guard let b = r.readVarint(), b >= 1, let gw = r.readUInt8(), gw <= 64,
                  let gapSize = BitPacking.checkedPackedSize(count: m - 1, width: Int(gw)),
                  let g = r.readBytes(gapSize)
            else { return false }
            (gapBase, gapWidth, gaps) = (b, gw, g)
        }
        guard r.isAtEnd else { return false }
        resize(&out, to: n, fill: 0)
        // Run lengths at [0, m), gaps at [m, 2m − 1), each base + packed value (wrapping: a
        // result below its base means the addition overflowed u64).
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2 * m) { tmp -> Bool in
            guard let p = tmp.baseAddress,
                  BitPacking.unpack(lens, count: m, width: Int(lenWidth), adding: Int64(bitPattern: lenBase), into: p),
                  BitPacking.unpack(gaps, count: m - 1, width: Int(gapWidth), adding: Int64(bitPattern: gapBase), into: p + m)
            else { return false }
            return out.withUnsafeMutableBufferPointer { o -> Bool in
                guard let dst = o.baseAddress else { return false }
                var at = 0
                var t = first
                for j in 0..<m {
                    if j > 0 {
                        let gap = UInt64(bitPattern: p[m &+ j &- 1])
                        guard gap >= gapBase else { return false }
                        t = t &+ Int64(bitPattern: gap) &* scale
                    }
                    let len = UInt64(bitPattern: p[j])
                    guard len >= lenBase, len <= UInt64(n &- at) else { return false }
                    let k = Int(len)
                    if k <= 8 && at &+ 8 <= n {
                        // Short runs (the usual 1–5 rows) store 8 copies, a fixed count that
                        // compiles to vector stores with no branch on the run length. The
                        // copies past this run lie inside `out` and later runs overwrite them:
                        // each run starts where the previous one ends.
                        for x in 0..<8 { dst[at &+ x] = t }
                    } else {
                        (dst + at).update(repeating: t, count: k)
                    }
                    at &+= k
                }
                return at == n
            }
        }
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
