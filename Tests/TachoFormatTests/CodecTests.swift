import Testing
@testable import TachoFormat
import TachoTestSupport


@Suite struct CodecTests {
    @Test func crc32cKnownVectors() {
        // RFC 3720 appendix B.4 test vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0..<32)) == 0x46DD_794E)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func varintAndZigzagRoundTrip() {
        var rng = SplitMix64(state: 1)
        var w = ByteWriter()
        var values: [Int64] = [0, 1, -1, .max, .min, 63, -64, 64]
        for _ in 0..<2000 { values.append(Int64(bitPattern: rng.next()) >> Int64.random(in: 0..<63, using: &rng)) }
        for v in values { w.writeSignedVarint(v) }
        w.bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw)
            for v in values { #expect(r.readSignedVarint() == v) }
            #expect(r.isAtEnd)
            #expect(r.readVarint() == nil)
        }
    }

    @Test(arguments: [1, 2, 3, 7, 8, 13, 31, 32, 33, 63, 64])
    func bitPackingRoundTrip(width: Int) {
        var rng = SplitMix64(state: UInt64(width))
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        for n in [0, 1, 2, 63, 64, 65, 1000] {
            let values = (0..<n).map { _ in rng.next() & mask }
            var w = ByteWriter()
            BitPacking.pack(n, width: width, into: &w) { values[$0] }
            #expect(w.count == BitPacking.packedSize(count: n, width: width))
            var out: [UInt64] = []
            let ok = w.bytes.withUnsafeBytes { BitPacking.unpack($0, count: n, width: width) { out.append($0) } }
            #expect(ok)
            #expect(out == values)
        }
    }

    @Test func timeCodecRoundTripsSortedAndWildTimes() {
        var rng = SplitMix64(state: 7)
        for trial in 0..<200 {
            let n = Int.random(in: 0...3000, using: &rng)
            var t = Int64.random(in: -10_000_000_000_000...10_000_000_000_000_000, using: &rng)
            var times: [Int64] = []
            let step = [1, 1000, 1_000_000][trial % 3]
            for _ in 0..<n {
                times.append(t)
                t += Int64(step) * Int64.random(in: trial % 2 == 0 ? 0...5000 : 0...3, using: &rng)
            }
            if trial == 0 { times = [.min, .max, 0] }
            var w = ByteWriter()
            times.withUnsafeBufferPointer { TimeCodec.encode($0, into: &w) }
            var out: [Int64] = []
            let ok = w.bytes.withUnsafeBytes { TimeCodec.decode($0, expectedCount: times.count, into: &out) }
            #expect(ok)
            #expect(out == times)
        }
    }

    // MARK: - TimeCodec mode 3 (runs; segment version 2)

    /// An independent model of FORMAT.md §2.3.1: each mode's exact encoded size for `t`
    /// (mode 3 only for non-decreasing times), from plain arithmetic on arrays.
    static func referenceSizes(_ t: [Int64]) -> [UInt8: Int] {
        func vs(_ v: UInt64) -> Int {
            var v = v, k = 1
            while v >= 0x80 { v >>= 7; k += 1 }
            return k
        }
        func zz(_ v: Int64) -> UInt64 { ZigZag.encode(v) }
        func packed(_ count: Int, _ maxMinusMin: UInt64) -> Int { (count * (64 - maxMinusMin.leadingZeroBitCount) + 7) / 8 }
        let n = t.count
        let head = 1 + vs(UInt64(n))
        guard n > 0 else { return [1: head, 2: head] }
        var g: UInt64 = 0, overflow = false
        for i in 1..<n {
            let (d, o) = t[i].subtractingReportingOverflow(t[i - 1])
            if o { overflow = true } else { g = TimeCodec.gcd(g, d.magnitude) }
        }
        let scale: UInt64 = overflow || g == 0 || g > UInt64(Int64.max) ? 1 : g
        let deltas = (1..<max(n, 1)).map { i -> Int64 in
            scale == 1 ? t[i] &- t[i - 1] : (t[i] - t[i - 1]) / Int64(scale)
        }
        let common = head + vs(zz(t[0])) + vs(scale)
        var sizes: [UInt8: Int] = [
            1: common + deltas.reduce(0) { $0 + vs(zz($1)) },
            2: common + deltas.indices.reduce(0) { $0 + vs(zz($1 == 0 ? deltas[$1] : deltas[$1] &- deltas[$1 - 1])) },
        ]
        if zip(t, t.dropFirst()).allSatisfy({ $0 <= $1 }) {
            var lens: [UInt64] = [1], gaps: [UInt64] = []
            for i in 1..<max(n, 1) {
                if t[i] == t[i - 1] {
                    lens[lens.count - 1] += 1
                } else {
                    lens.append(1)
                    gaps.append(UInt64(bitPattern: t[i] &- t[i - 1]) / scale)
                }
            }
            let lo = lens.min()!, hi = lens.max()!
            var size = common + vs(UInt64(lens.count)) + vs(lo) + 1 + packed(lens.count, hi - lo)
            if let glo = gaps.min(), let ghi = gaps.max() { size += vs(glo) + 1 + packed(gaps.count, ghi - glo) }
            sizes[3] = size
        }
        return sizes
    }

    /// Encodes, checks the block against the model (strictly smallest mode, ties to the lower
    /// mode), decodes, checks the round trip. Returns the mode and the sizes.
    @discardableResult
    static func roundTrip(_ times: [Int64], _ comment: Comment? = nil) -> (mode: UInt8, sizes: [UInt8: Int]) {
        var w = ByteWriter()
        times.withUnsafeBufferPointer { TimeCodec.encode($0, into: &w) }
        let sizes = referenceSizes(times)
        let best = sizes.min { ($0.value, $0.key) < ($1.value, $1.key) }!
        if w.bytes[0] == 4 {
            // Version 3's patched runs (Version3CodecTests): only when strictly smaller than
            // every mode of this model.
            #expect(w.count < best.value, "size; sizes \(sizes)")
            var old: [Int64] = []
            #expect(!w.bytes.withUnsafeBytes { TimeCodec.decode($0, expectedCount: times.count, version: 2, into: &old) })
        } else {
            #expect(w.bytes[0] == best.key, "mode; sizes \(sizes)")
            #expect(w.count == best.value, "size; sizes \(sizes)")
        }
        var out: [Int64] = [99]
        let ok = w.bytes.withUnsafeBytes { TimeCodec.decode($0, expectedCount: times.count, into: &out) }
        #expect(ok, comment)
        #expect(out == times, comment)
        if w.bytes[0] == 3 {
            // Mode 3 is refused in a version 1 segment.
            let v1 = w.bytes.withUnsafeBytes { TimeCodec.decode($0, expectedCount: times.count, version: 1, into: &out) }
            #expect(!v1)
        }
        return (w.bytes[0], sizes)
    }

    /// Detection-shaped times: events of 1…`maxRun` rows sharing a time, `gap` apart.
    static func events(_ rng: inout SplitMix64, start: Int64, rows: Int, maxRun: Int, gap: ClosedRange<Int64>) -> [Int64] {
        var t = start, out: [Int64] = []
        while out.count < rows {
            out.append(contentsOf: repeatElement(t, count: min(Int.random(in: 1...maxRun, using: &rng), rows - out.count)))
            t += Int64.random(in: gap, using: &rng)
        }
        return out
    }

    @Test func timeCodecRunsSmallCounts() {
        var rng = SplitMix64(state: 21)
        #expect(Self.roundTrip([]).mode == 1)
        #expect(Self.roundTrip([1_654_416_000_000_000]).mode == 1)
        for _ in 0..<200 {
            let a = Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng)
            let b = Bool.random(using: &rng) ? a : Int64(bitPattern: rng.next()) >> Int64.random(in: 0...63, using: &rng)
            Self.roundTrip([a])
            Self.roundTrip([a, b])
            Self.roundTrip([a, a, b])
        }
        // Mode 3's smallest cases, exactly: n = 2 equal or distinct cannot beat mode 1.
        #expect(Self.roundTrip([5, 5]).mode == 1)
        #expect(Self.roundTrip([5, 9]).mode == 1)
    }

    @Test func timeCodecRunsShapes() {
        var rng = SplitMix64(state: 22)
        let day: Int64 = 1_654_387_200_000_000
        for trial in 0..<40 {
            let n = Int.random(in: 8...8192, using: &rng)
            let start = day + Int64.random(in: 0..<86_400_000_000, using: &rng)
            // All equal: one run.
            let equal = Array(repeating: start, count: n)
            #expect(Self.roundTrip(equal).mode == 3)
            // Every run length 1 (strictly increasing): any mode, exact round trip.
            Self.roundTrip(Self.events(&rng, start: start, rows: n, maxRun: 1, gap: 1...5_000_000))
            // Long runs.
            Self.roundTrip(Self.events(&rng, start: start, rows: n, maxRun: 1000, gap: 1_000...60_000_000))
            // Constant gaps and constant run lengths: both widths 0.
            let k = 1 + trial % 5
            let regular = (0..<n).map { start + Int64($0 / k) * 250_000 }
            let r = Self.roundTrip(regular)
            if k > 1 { #expect(r.mode == 3) }
            // A single huge gap among small ones.
            var huge = Self.events(&rng, start: start, rows: n, maxRun: 5, gap: 500...5_000)
            let at = Int.random(in: 1..<n, using: &rng)
            for i in at..<n { huge[i] += 1 << 50 }
            Self.roundTrip(huge)
        }
    }

    @Test func timeCodecRunsDetectionShapedPicksMode3() {
        var rng = SplitMix64(state: 23)
        let day: Int64 = 1_654_387_200_000_000
        for trial in 0..<60 {
            let n = [10, 100, 1000, 8192][trial % 4]
            let start = day + Int64.random(in: 0..<86_400_000, using: &rng) * 1000
            // Millisecond times: runs of 1–5, gaps 0.5–5 s.
            let ms = Self.events(&rng, start: start, rows: n, maxRun: 5, gap: 500...5000).map {
                start + ($0 - start) * 1000
            }
            let a = Self.roundTrip(ms)
            if n >= 100 {  // in 10 rows the fixed fields can cost more than the runs save
                // Runs: mode 3, or version 3's mode 4 when patching the widest gaps saves bytes.
                #expect(a.mode == 3 || a.mode == 4)
                #expect(a.sizes[3]! < min(a.sizes[1]!, a.sizes[2]!))
            }
            if n == 8192 { #expect(Double(a.sizes[3]!) / Double(n) < 0.7) }
            // Microsecond times: the same shape at µs precision.
            let us = Self.events(&rng, start: start + 1, rows: n, maxRun: 5, gap: 500_000...5_000_000)
            let b = Self.roundTrip(us)
            if n >= 100 { #expect(b.mode == 3 || b.mode == 4) }
        }
    }

    @Test func timeCodecRunsExtremesAndUnsorted() {
        var rng = SplitMix64(state: 24)
        // Sorted times whose differences overflow i64: scale falls back to 1, runs still apply.
        Self.roundTrip([.min, .min, .min, 0, 0, .max, .max, .max, .max])
        Self.roundTrip([.min, .max])
        Self.roundTrip(Array(repeating: .min, count: 20) + Array(repeating: .max, count: 20))
        Self.roundTrip([-1_000_000, -1_000_000, -500_000, 0, 0, 0, 500_000])  // before 1970
        // Unsorted input: never mode 3, exact round trip.
        for _ in 0..<100 {
            var t = Self.events(&rng, start: 1_654_387_200_000_000, rows: Int.random(in: 3...2000, using: &rng), maxRun: 5,
                                gap: 500_000...5_000_000)
            let i = Int.random(in: 1..<t.count, using: &rng)
            t[i] = t[i - 1] - Int64.random(in: 1...10_000_000, using: &rng)
            #expect(Self.roundTrip(t).mode != 3)
        }
        #expect(Self.roundTrip([.max, .min, .max, .min]).mode != 3)
        #expect(Self.roundTrip([7, 7, 7, 7, 7, 7, 7, 7, 7, 6]).mode != 3)
    }

    /// A mode 3 block assembled field by field (FORMAT.md §2.3.1).
    static func runsBlock(
        n: UInt64, first: Int64 = 1_000_000, scale: UInt64 = 500, m: UInt64,
        lenBase: UInt64, lenWidth: UInt8, lens: [UInt64],
        gapBase: UInt64 = 1, gapWidth: UInt8 = 0, gaps: [UInt64] = [], packWidth: (len: Int, gap: Int)? = nil
    ) -> [UInt8] {
        var w = ByteWriter()
        w.writeUInt8(3)
        w.writeVarint(n)
        w.writeSignedVarint(first)
        w.writeVarint(scale)
        w.writeVarint(m)
        w.writeVarint(lenBase)
        w.writeUInt8(lenWidth)
        BitPacking.pack(lens.count, width: packWidth?.len ?? Int(lenWidth), into: &w) { lens[$0] }
        if m > 1 {
            w.writeVarint(gapBase)
            w.writeUInt8(gapWidth)
            BitPacking.pack(gaps.count, width: packWidth?.gap ?? Int(gapWidth), into: &w) { gaps[$0] }
        }
        return w.bytes
    }

    static func decodeRuns(_ block: [UInt8], n: Int, version: UInt16 = 2) -> [Int64]? {
        var out: [Int64] = []
        let ok = block.withUnsafeBytes { TimeCodec.decode($0, expectedCount: n, version: version, into: &out) }
        return ok ? out : nil
    }

    @Test func timeCodecRunsMalformedBlocksAreRejected() {
        // Runs 2, 1, 3 (lengths 1 + 1, 1 + 0, 1 + 2), gaps (1 + 0)·500, (1 + 3)·500.
        let good = Self.runsBlock(n: 6, m: 3, lenBase: 1, lenWidth: 2, lens: [1, 0, 2], gapBase: 1, gapWidth: 2, gaps: [0, 3])
        #expect(Self.decodeRuns(good, n: 6) == [1_000_000, 1_000_000, 1_000_500, 1_002_500, 1_002_500, 1_002_500])
        #expect(Self.decodeRuns(good, n: 6, version: 1) == nil)  // mode 3 in a v1 segment
        #expect(Self.decodeRuns(good, n: 5) == nil)
        #expect(Self.decodeRuns(good, n: 7) == nil)
        // Every truncation, and trailing bytes.
        for cut in 0..<good.count { #expect(Self.decodeRuns(Array(good[0..<cut]), n: 6) == nil, "cut \(cut)") }
        #expect(Self.decodeRuns(good + [0], n: 6) == nil)
        // Run lengths summing to less / more than n.
        #expect(Self.decodeRuns(Self.runsBlock(n: 6, m: 3, lenBase: 1, lenWidth: 2, lens: [1, 0, 1], gapWidth: 2, gaps: [0, 3]), n: 6) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 6, m: 3, lenBase: 1, lenWidth: 2, lens: [1, 0, 3], gapWidth: 2, gaps: [0, 3]), n: 6) == nil)
        // A sum that wraps u64 back to n: 2^63 + (2^63 + 6).
        #expect(Self.decodeRuns(Self.runsBlock(n: 6, m: 2, lenBase: 1 << 63, lenWidth: 3, lens: [0, 6], gaps: [0]), n: 6) == nil)
        // len_base + packed overflowing u64 (to 1 after wrapping).
        #expect(Self.decodeRuns(Self.runsBlock(n: 1, m: 1, lenBase: .max, lenWidth: 2, lens: [2]), n: 1) == nil)
        // gap_base + packed overflowing u64.
        #expect(Self.decodeRuns(Self.runsBlock(n: 2, m: 2, lenBase: 1, lenWidth: 0, lens: [], gapBase: .max, gapWidth: 2, gaps: [2]), n: 2) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 2, m: 2, lenBase: 1, lenWidth: 0, lens: [], gapBase: .max, gapWidth: 2, gaps: [0]), n: 2) != nil)
        // Bases 0.
        #expect(Self.decodeRuns(Self.runsBlock(n: 6, m: 3, lenBase: 0, lenWidth: 2, lens: [2, 1, 3], gapWidth: 2, gaps: [0, 3]), n: 6) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 6, m: 3, lenBase: 1, lenWidth: 2, lens: [1, 0, 2], gapBase: 0, gapWidth: 2, gaps: [1, 4]), n: 6) == nil)
        // Widths above 64 (the packed bytes as if 64).
        #expect(Self.decodeRuns(Self.runsBlock(n: 1, m: 1, lenBase: 1, lenWidth: 65, lens: [0], packWidth: (64, 0)), n: 1) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 2, m: 2, lenBase: 1, lenWidth: 0, lens: [], gapWidth: 65, gaps: [0], packWidth: (0, 64)), n: 2) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 2, m: 2, lenBase: 1, lenWidth: 0, lens: [], gapWidth: 64, gaps: [0]), n: 2) != nil)
        // m = 0, m > n.
        #expect(Self.decodeRuns(Self.runsBlock(n: 1, m: 0, lenBase: 1, lenWidth: 0, lens: []), n: 1) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 1, m: 2, lenBase: 1, lenWidth: 0, lens: [], gaps: []), n: 1) == nil)
        // A huge m with width 0 (no packed bytes to bound it) is bounded by n.
        #expect(Self.decodeRuns(Self.runsBlock(n: 4, m: 1 << 60, lenBase: 1, lenWidth: 0, lens: []), n: 4) == nil)
        // Scale 0 and 2^63 as in modes 1/2.
        #expect(Self.decodeRuns(Self.runsBlock(n: 2, scale: 0, m: 1, lenBase: 2, lenWidth: 0, lens: []), n: 2) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 2, scale: 1 << 63, m: 1, lenBase: 2, lenWidth: 0, lens: []), n: 2) == nil)
        #expect(Self.decodeRuns(Self.runsBlock(n: 2, scale: UInt64(Int64.max), m: 1, lenBase: 2, lenWidth: 0, lens: []), n: 2) == [1_000_000, 1_000_000])
        // Non-shortest varints are still accepted (§1.2): m = 1 written as 81 00.
        var padded = Self.runsBlock(n: 2, m: 1, lenBase: 2, lenWidth: 0, lens: [])
        let mAt = padded.count - 3  // m, len_base, len_width
        padded.replaceSubrange(mAt...mAt, with: [0x81, 0x00])
        #expect(Self.decodeRuns(padded, n: 2) == [1_000_000, 1_000_000])
        // Modes 0 and 4+ stay errors in every version.
        for mode: UInt8 in [0, 4, 0xFF] {
            var b = good
            b[0] = mode
            #expect(Self.decodeRuns(b, n: 6) == nil)
        }
    }

    @Test func intCodecRoundTripsEveryMode() {
        var rng = SplitMix64(state: 9)
        let shapes: [(inout SplitMix64) -> Int64] = [
            { _ in 42 },
            { Int64.random(in: 0...9, using: &$0) },
            { Int64(bitPattern: $0.next()) },
            { Int64.random(in: -3...3, using: &$0) },
        ]
        for shape in shapes {
            for n in [0, 1, 5, 1000, 8192] {
                var v = (0..<n).map { _ in shape(&rng) }
                if n == 5 { v = [.min, .max, 0, -1, 1] }
                var w = ByteWriter()
                v.withUnsafeBufferPointer { IntCodec.encode($0, into: &w) }
                var out: [Int64] = []
                let ok = w.bytes.withUnsafeBytes { IntCodec.decode($0, count: n, into: &out) }
                #expect(ok)
                #expect(out == v)
            }
        }
    }

    @Test func stringCodecRoundTripsRunsAndMixes() {
        var rng = SplitMix64(state: 11)
        let dictionary = ["pedestrians", "cars", "signs", "trucks", "obstacles", "ünïcode ✓", ""]
        for trial in 0..<100 {
            let n = Int.random(in: 1...5000, using: &rng)
            let distinct = 1 + trial % dictionary.count
            var ids: [UInt32] = []
            while ids.count < n {
                let id = UInt32.random(in: 0..<UInt32(distinct), using: &rng)
                let run = trial % 2 == 0 ? 1 : Int.random(in: 1...50, using: &rng)
                ids.append(contentsOf: repeatElement(id, count: min(run, n - ids.count)))
            }
            var w = ByteWriter()
            var scratch = StringCodec.Scratch()
            _ = ids.withUnsafeBufferPointer { StringCodec.encode($0, dictionary: dictionary, scratch: &scratch, into: &w) }
            var out = DecodedColumn(type: .string)
            let ok = w.bytes.withUnsafeBytes { StringCodec.decode($0, count: n, into: &out) }
            #expect(ok)
            #expect((0..<n).map { out.string(at: $0) } == ids.map { dictionary[Int($0)] })
        }
    }

    @Test func truncatedBlocksAreRejectedNotTrapped() {
        let ids: [UInt32] = [0, 1, 2, 1, 0, 0, 0, 2]
        var w = ByteWriter()
        var scratch = StringCodec.Scratch()
        _ = ids.withUnsafeBufferPointer { StringCodec.encode($0, dictionary: ["a", "b", "c"], scratch: &scratch, into: &w) }
        for cut in 0..<w.count {
            var out = DecodedColumn(type: .string)
            let ok = w.bytes.withUnsafeBytes { StringCodec.decode(UnsafeRawBufferPointer(rebasing: $0[0..<cut]), count: ids.count, into: &out) }
            #expect(!ok)
        }
        let times: [Int64] = [5, 10, 20, 40, 80]
        var tw = ByteWriter()
        times.withUnsafeBufferPointer { TimeCodec.encode($0, into: &tw) }
        for cut in 0..<tw.count {
            var out: [Int64] = []
            let ok = tw.bytes.withUnsafeBytes { TimeCodec.decode(UnsafeRawBufferPointer(rebasing: $0[0..<cut]), expectedCount: 5, into: &out) }
            #expect(!ok)
        }
    }
}
