import Testing
import TachoTestSupport
@testable import TachoFormat

/// Segment version 3's encodings (docs/FORMAT.md §2.7): patched packing, int mode 3, time
/// mode 4, string mode 3 (sets per time). The worked examples of §2.7 byte for byte, every
/// rule a reader checks, round trips over random data, and the v3 golden segment.
@Suite struct Version3CodecTests {
    // MARK: - helpers

    static func decodeInt(_ b: [UInt8], n: Int, version: UInt16 = 3) -> [Int64]? {
        var out: [Int64] = []
        return b.withUnsafeBytes { IntCodec.decode($0, count: n, version: version, into: &out) } ? out : nil
    }

    static func decodeTime(_ b: [UInt8], n: Int, version: UInt16 = 3) -> [Int64]? {
        var out: [Int64] = []
        return b.withUnsafeBytes { TimeCodec.decode($0, expectedCount: n, version: version, into: &out) } ? out : nil
    }

    static func decodeStrings(_ b: [UInt8], times: [Int64]?, n: Int, version: UInt16 = 3) -> [String]? {
        var out = DecodedColumn(type: .string)
        let ok = b.withUnsafeBytes { StringCodec.decode($0, count: n, times: times, version: version, into: &out) }
        return ok ? out.ids.map { out.dictionary[Int($0)] } : nil
    }

    static func encodeStrings(_ values: [String], times: [Int64]) -> [UInt8] {
        var dictionary: [String] = []
        let ids = values.map { v -> UInt32 in
            if let i = dictionary.firstIndex(of: v) { return UInt32(i) }
            dictionary.append(v)
            return UInt32(dictionary.count - 1)
        }
        var w = ByteWriter()
        var scratch = StringCodec.Scratch()
        ids.withUnsafeBufferPointer { i in
            times.withUnsafeBufferPointer { t in
                _ = StringCodec.encode(i, dictionary: dictionary, times: t, scratch: &scratch, into: &w)
            }
        }
        return w.bytes
    }

    /// The mode byte of a string block: after the dictionary (count, then length + bytes each).
    static func stringMode(_ b: [UInt8]) -> UInt8 {
        var at = 1
        for _ in 0..<b[0] { at += 1 + Int(b[at]) }
        return b[at]
    }

    // MARK: - worked examples (FORMAT.md §2.7.2–§2.7.4)

    /// §2.7.2: int mode 3, base 7, width 2, one exception (index 3, high 75): 10 8 9 307 7.
    static let intExample: [UInt8] = [0x03, 0x0E, 0x02, 0x27, 0x00, 0x01, 0x03, 0x4B]

    @Test func intPatchedExampleDecodes() {
        #expect(Self.decodeInt(Self.intExample, n: 5) == [10, 8, 9, 307, 7])
        #expect(Self.decodeInt(Self.intExample, n: 5, version: 2) == nil)  // mode 3 is new in v3
    }

    /// §2.7.3: time mode 4, runs 2 1 2 1, gaps 1 300 1 seconds.
    static let timeExample: [UInt8] = [
        0x04, 0x06, 0x00, 0xC0, 0x84, 0x3D, 0x04, 0x01, 0x01, 0x05, 0x00, 0x01, 0x00, 0x01, 0x01, 0xAB, 0x02,
    ]

    @Test func timePatchedRunsExampleDecodes() {
        #expect(Self.decodeTime(Self.timeExample, n: 6) == [0, 0, 1_000_000, 301_000_000, 301_000_000, 302_000_000])
        #expect(Self.decodeTime(Self.timeExample, n: 6, version: 2) == nil)
    }

    /// §2.7.4: sets. Times t0 t0 t1 t2 t2 t2, kinds {car, sign} {person} {car, person, sign}.
    static let setsTimes: [Int64] = [5, 5, 9, 12, 12, 12]
    static let setsKinds = ["car", "sign", "person", "car", "person", "sign"]
    static let setsExample: [UInt8] = [
        0x03, 0x03, 0x63, 0x61, 0x72, 0x06, 0x70, 0x65, 0x72, 0x73, 0x6F, 0x6E, 0x04, 0x73, 0x69, 0x67, 0x6E, 0x03, 0x05,
    ]

    @Test func setsExampleIsWhatTheWriterWritesAndDecodes() {
        #expect(Self.encodeStrings(Self.setsKinds, times: Self.setsTimes) == Self.setsExample)
        #expect(Self.decodeStrings(Self.setsExample, times: Self.setsTimes, n: 6) == Self.setsKinds)
        #expect(Self.decodeStrings(Self.setsExample, times: Self.setsTimes, n: 6, version: 2) == nil)
        #expect(Self.decodeStrings(Self.setsExample, times: nil, n: 6) == nil)  // sets need the times
    }

    // MARK: - every reader rule

    @Test func patchedIntMalformedBlocksAreRejected() {
        let good = Self.intExample
        for cut in 0..<good.count { #expect(Self.decodeInt(Array(good[0..<cut]), n: 5) == nil, "cut \(cut)") }
        #expect(Self.decodeInt(good + [0], n: 5) == nil)  // trailing byte
        var b = good
        b[2] = 65  // width above 64
        #expect(Self.decodeInt(b, n: 5) == nil)
        b = good
        b[5] = 6  // more exceptions than values
        #expect(Self.decodeInt(b, n: 5) == nil)
        b = good
        b[6] = 5  // skip past the last value (index 5 of 5)
        #expect(Self.decodeInt(b, n: 5) == nil)
        b = good
        b[6] = 4  // the last index is fine
        #expect(Self.decodeInt(b, n: 5) == [10, 8, 9, 7, 307])
        b = good
        b[7] = 0  // high 0
        #expect(Self.decodeInt(b, n: 5) == nil)
        // width 63 and high 2: a bit shifted out. width 64 with an exception.
        #expect(Self.decodeInt([0x03, 0x00, 63] + [UInt8](repeating: 0, count: 8) + [0x01, 0x00, 0x02], n: 1) == nil)
        #expect(Self.decodeInt([0x03, 0x00, 63] + [UInt8](repeating: 0, count: 8) + [0x01, 0x00, 0x01], n: 1) == [Int64.min])
        #expect(Self.decodeInt([0x03, 0x00, 64] + [UInt8](repeating: 0, count: 8) + [0x01, 0x00, 0x01], n: 1) == nil)
        // n = 0: width and no exceptions.
        #expect(Self.decodeInt([0x03, 0x00, 0x00, 0x00], n: 0) == [])
    }

    @Test func patchedRunsMalformedBlocksAreRejected() {
        let good = Self.timeExample
        for cut in 0..<good.count { #expect(Self.decodeTime(Array(good[0..<cut]), n: 6) == nil, "cut \(cut)") }
        #expect(Self.decodeTime(good + [0], n: 6) == nil)
        #expect(Self.decodeTime(good, n: 5) == nil)
        func damaged(_ at: Int, _ v: UInt8) -> [Int64]? {
            var b = good
            b[at] = v
            return Self.decodeTime(b, n: 6)
        }
        #expect(damaged(6, 0) == nil)  // m 0
        #expect(damaged(6, 7) == nil)  // m above n
        #expect(damaged(7, 0) == nil)  // len_base 0
        #expect(damaged(9, 0x04) == nil)  // lengths 1 1 2 1: sum 5
        #expect(damaged(9, 0x0D) == nil)  // lengths 2 1 2 2: sum 7
        #expect(damaged(11, 0) == nil)  // gap_base 0
        #expect(damaged(12, 65) == nil)  // gap width above 64
        #expect(damaged(14, 3) == nil)  // gap exception past the end
        // A length base + value that overflows u64 (then wraps to a plausible sum).
        var w = ByteWriter()
        for b: UInt8 in [0x04, 0x02, 0x00, 0x01, 0x02] { w.writeUInt8(b) }
        w.writeVarint(UInt64.max)  // len_base
        w.writeUInt8(2)  // width 2
        w.writeUInt8(0b1011)  // values 3, 2: lengths 2^64 + 2, 2^64 + 1 wrap to 2, 1... sum 3
        w.writeVarint(0)
        w.writeVarint(1)  // gap_base
        w.writeUInt8(0)
        w.writeVarint(0)
        #expect(Self.decodeTime(w.bytes, n: 2) == nil)
    }

    @Test func setsMalformedBlocksAreRejected() {
        let good = Self.setsExample, t = Self.setsTimes
        for cut in 0..<good.count { #expect(Self.decodeStrings(Array(good[0..<cut]), times: t, n: 6) == nil, "cut \(cut)") }
        #expect(Self.decodeStrings(good + [0], times: t, n: 6) == nil)  // a byte past the stream
        // Dictionary not strictly ascending: "sign" first, or an entry twice.
        let unsorted: [UInt8] = [0x03, 0x04, 0x73, 0x69, 0x67, 0x6E, 0x03, 0x63, 0x61, 0x72, 0x06, 0x70, 0x65, 0x72, 0x73, 0x6F, 0x6E, 0x03, 0x05]
        #expect(Self.decodeStrings(unsorted, times: t, n: 6) == nil)
        let twice: [UInt8] = [0x02, 0x03, 0x63, 0x61, 0x72, 0x03, 0x63, 0x61, 0x72, 0x03, 0x00]
        #expect(Self.decodeStrings(twice, times: [1, 2], n: 2) == nil)
        // One entry: sets need d ≥ 2.
        #expect(Self.decodeStrings([0x01, 0x01, 0x61, 0x03], times: [1], n: 1) == nil)
        // A group of 4 rows over 3 entries.
        #expect(Self.decodeStrings(good, times: [5, 5, 5, 5, 9, 9], n: 6) == nil)
        // Rank ≥ C(d, k): group 1 (k = 2, C(3, 2) = 3) with rank 3.
        var b = good
        b[18] = 0x07
        #expect(Self.decodeStrings(b, times: t, n: 6) == nil)
        // Times that make the stream longer than the block: every row its own group (6 × 2 bits).
        #expect(Self.decodeStrings(good, times: [1, 2, 3, 4, 5, 6], n: 6) == nil)
        // More than 64 entries.
        var w = ByteWriter()
        w.writeVarint(65)
        for i in 0..<65 { w.writeString(String(UnicodeScalar(UInt8(0x30 + i)))) }
        w.writeUInt8(3)
        #expect(Self.decodeStrings(w.bytes, times: (0..<65).map(Int64.init), n: 65) == nil)
    }

    // MARK: - round trips over random data

    /// Random chunks shaped like detections of the harder profile (events of 1–5 of up to 8
    /// types, jittered periods, offline gaps, heavy-tailed values) and anything else: every
    /// codec decodes exactly what it encoded, and the new modes are chosen where they win.
    @Test(arguments: 0..<8)
    func randomChunksRoundTrip(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x5E75 ^ seed)
        let types = ["pedestrians", "cars", "signs", "trucks", "obstacles", "bicycles", "motorcycles", "animals", "Zebra", "ärger"]
        var used: [UInt8: Int] = [:], timeModes: [UInt8: Int] = [:], intModes: [UInt8: Int] = [:]
        for _ in 0..<40 {
            var times: [Int64] = [], kinds: [String] = [], values: [Int64] = []
            var t = Int64.random(in: -1 << 50...1 << 50, using: &rng)
            let period = Int64.random(in: 1...5000, using: &rng) * 1000
            let d = Int.random(in: 1...types.count, using: &rng)
            let style = Int.random(in: 0..<4, using: &rng)
            for _ in 0..<Int.random(in: 1...400, using: &rng) {
                let k = Int.random(in: 1...min(5, d), using: &rng)
                for kind in types[0..<d].shuffled(using: &rng).prefix(k).sorted(by: byteLess) {
                    times.append(t)
                    kinds.append(kind)
                    switch style {
                    case 0: values.append(Int64.random(in: 0...3, using: &rng))
                    case 1: values.append(rng.next() % 16 == 0 ? Int64.random(in: 1 << 20...1 << 40, using: &rng) : Int64.random(in: 0...5, using: &rng))
                    case 2: values.append(Int64(bitPattern: rng.next()))
                    default: values.append(42)
                    }
                }
                t += period / 2 + Int64.random(in: 0...period, using: &rng)
                if rng.next() % 50 == 0 { t += Int64.random(in: 60...1200, using: &rng) * 1_000_000 }
            }
            let n = times.count
            var w = ByteWriter()
            times.withUnsafeBufferPointer { TimeCodec.encode($0, into: &w) }
            timeModes[w.bytes[0], default: 0] += 1
            #expect(Self.decodeTime(w.bytes, n: n) == times)
            w = ByteWriter()
            values.withUnsafeBufferPointer { IntCodec.encode($0, into: &w) }
            intModes[w.bytes[0], default: 0] += 1
            #expect(Self.decodeInt(w.bytes, n: n) == values)
            let block = Self.encodeStrings(kinds, times: times)
            used[Self.stringMode(block), default: 0] += 1
            #expect(Self.decodeStrings(block, times: times, n: n) == kinds)
        }
        // The new modes are used (so these round trips exercise them).
        #expect(used[3, default: 0] > 0, "\(used)")
        #expect(timeModes[4, default: 0] > 0, "\(timeModes)")
        #expect(intModes[3, default: 0] > 0, "\(intModes)")
    }

    /// Sets mode applies only where every time's values are strictly ascending by bytes: a
    /// repeated value (not an identity) or an unsorted group keeps the old modes, and decodes.
    @Test func setsAreOnlyChosenForSortedDistinctGroups() {
        let times: [Int64] = [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5]
        let sorted = ["a", "b", "c", "a", "c", "a", "b", "c", "b", "c", "a", "b", "c"]
        #expect(Self.stringMode(Self.encodeStrings(sorted, times: times)) == 3)
        var repeated = sorted
        repeated[1] = "a"
        var unsorted = sorted
        unsorted.swapAt(0, 2)
        for values in [repeated, unsorted] {
            let block = Self.encodeStrings(values, times: times)
            #expect(Self.stringMode(block) != 3)
            #expect(Self.decodeStrings(block, times: times, n: values.count) == values)
        }
    }

    /// Combinatorial ranks: every k-subset of d ≤ 10 entries ranks below C(d, k), distinct
    /// subsets rank differently, and decoding the rank gives the subset back.
    @Test func ranksAreABijection() {
        for d in 2...10 {
            var seen = Set<[Int]>()
            for mask in 1..<(1 << d) {
                let subset = (0..<d).filter { mask & (1 << $0) != 0 }
                let times = [Int64](repeating: 7, count: subset.count)
                var w = ByteWriter()
                let positions = subset.map(UInt8.init)
                times.withUnsafeBufferPointer { t in
                    positions.withUnsafeBufferPointer { StringSets.write(times: t, d: d, positions: $0, into: &w) }
                }
                var ids = [UInt32](repeating: 0, count: subset.count)
                let ok = w.bytes.withUnsafeBytes { raw in
                    times.withUnsafeBufferPointer { t in ids.withUnsafeMutableBufferPointer { StringSets.decode(raw, times: t, d: d, into: $0) } }
                }
                #expect(ok && ids.map(Int.init) == subset, "d \(d) subset \(subset)")
                seen.insert(subset)
            }
            #expect(seen.count == (1 << d) - 1)
        }
    }

    // MARK: - golden v3

    /// segment-v3.tseg: v2's rows plus zug-6, decoded by today's reader to the definitions,
    /// with zug-6 using time mode 4, int mode 3 and string mode 3, and zug-4's kinds sets.
    @Test func goldenV3DecodesAndUsesTheNewModes() throws {
        let bytes = try GoldenFormatTests.load(GoldenFormatTests.segmentFile(3))
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "segment-v3.tseg")
        #expect(r.version == 3)
        #expect(Array(bytes[0..<8]) == [0x54, 0x53, 0x45, 0x47, 3, 0x00, 0xF0, 0x00])
        let rows = GoldenFormatTests.goldenRows(3)
        #expect(r.footer.vehicles.map(\.vehicle) == rows.map(\.vehicle))
        let d = try GoldenFormatTests.decodeAll(r)
        for row in rows {
            let chunks = try #require(d[row.vehicle])
            #expect(chunks.flatMap(\.times) == row.times, "\(row.vehicle)")
            #expect(chunks.flatMap { GoldenFormatTests.strings($0.columns[0]) } == row.kind, "\(row.vehicle)")
            #expect(chunks.flatMap(\.columns[1].ints) == row.value, "\(row.vehicle)")
            #expect(chunks.flatMap(\.columns[2].doubles).map(\.bitPattern) == row.reading.map(\.bitPattern), "\(row.vehicle)")
            #expect(chunks.flatMap { GoldenFormatTests.strings($0.columns[3]) } == row.status, "\(row.vehicle)")
        }
        let zug6 = try #require(r.footer.vehicles.last?.chunks.first)
        #expect(try GoldenFormatTests.rawBlock(bytes, zug6.blocks[0])[0] == 4)
        #expect(try GoldenFormatTests.rawBlock(bytes, zug6.blocks[2])[0] == 3)
        #expect(Self.stringMode(try GoldenFormatTests.rawBlock(bytes, zug6.blocks[1])) == 3)
        let zug4 = try #require(r.footer.vehicles[3].chunks.first)
        #expect(Self.stringMode(try GoldenFormatTests.rawBlock(bytes, zug4.blocks[1])) == 3)
        // The sets' dictionary is in byte order, not first appearance.
        #expect(d["zug-4"]?.first?.columns[0].dictionary == ["car", "person", "sign"])
    }

    /// `bytes` (a version 3 segment without nullable columns) with its footer in the version 2
    /// layout (FORMAT.md §2.4: no column ids, an identity byte for the flags), footer length,
    /// CRC and trailer fixed up: the blocks are untouched.
    static func withVersion2Footer(_ bytes: [UInt8]) -> [UInt8] {
        let trailer = bytes.count - 24
        let footerAt = (0..<8).reduce(0) { $0 | Int(bytes[trailer + $1]) << (8 * $1) }
        var at = footerAt
        func varint() -> Int {
            var v = 0, shift = 0
            while true {
                let b = bytes[at]
                at += 1
                v |= Int(b & 0x7f) << shift
                shift += 7
                if b < 0x80 { return v }
            }
        }
        var footer: [UInt8] = [bytes[at]]
        at += 1
        let nameStart = at
        at += varint()
        footer += bytes[nameStart..<at]
        let ncolsStart = at
        let ncols = varint()
        footer += bytes[ncolsStart..<at]
        for _ in 0..<ncols {
            _ = varint()  // column id
            let colStart = at
            at += varint()  // name
            at += 2  // type, flags (identity only: the same byte as v2's identity)
            footer += bytes[colStart..<at]
        }
        footer += bytes[at..<trailer]
        var out = Array(bytes[..<footerAt]) + footer
        out += bytes[trailer..<(trailer + 8)]
        out += withUnsafeBytes(of: UInt32(footer.count).littleEndian, Array.init)
        out += withUnsafeBytes(of: CRC32C.checksum(footer).littleEndian, Array.init)
        out += bytes[(trailer + 16)...]
        return out
    }

    /// A v3 segment relabelled as version 2 still opens; every block that uses a v3 mode is
    /// rejected as malformed, naming the file and the block.
    @Test func version3ModesInAVersion2SegmentAreRejected() throws {
        let v3 = try GoldenFormatTests.load(GoldenFormatTests.segmentFile(3))
        let bytes = GoldenFormatTests.relabel(Self.withVersion2Footer(v3), header: 2, trailer: 2)
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "relabelled.tseg")
        var chunk = DecodedChunk(measurement: r.footer.measurement)
        var rejected: [String] = []
        for v in r.footer.vehicles {
            for c in v.chunks {
                let blocks = try c.blocks.map { try GoldenFormatTests.rawBlock(v3, $0) }
                let usesV3 = blocks[0][0] == 4 || blocks[2][0] == 3 || Self.stringMode(blocks[1]) == 3
                    || Self.stringMode(blocks[4]) == 3 || blocks[3][0] != 0  // float modes 1, 2 (§2.3.4)
                do {
                    try r.decode(c, into: &chunk)
                    #expect(!usesV3, "a v3 mode decoded in a v2 segment (\(v.vehicle))")
                } catch let e as SegmentError {
                    #expect(usesV3, "\(e)")
                    #expect(e.path == "relabelled.tseg")
                    #expect(c.blocks.contains { $0.offset == e.offset })
                    rejected.append(v.vehicle)
                }
            }
        }
        #expect(rejected.contains("zug-4") && rejected.contains("zug-6"), "\(rejected)")
        // bus-7 (-0.5) and zug-5 (0, 1, … 19) use no v3 mode but float mode 1, decimal (§2.3.4).
        #expect(rejected.contains("bus-7") && rejected.contains("zug-5"), "\(rejected)")
    }
}
