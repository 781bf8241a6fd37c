import Testing
@testable import TachoFormat

/// Deterministic PRNG so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

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
            var scratch: [UInt32: UInt32] = [:]
            ids.withUnsafeBufferPointer { StringCodec.encode($0, dictionary: dictionary, scratch: &scratch, into: &w) }
            var out = DecodedColumn(type: .string)
            let ok = w.bytes.withUnsafeBytes { StringCodec.decode($0, count: n, into: &out) }
            #expect(ok)
            #expect((0..<n).map { out.string(at: $0) } == ids.map { dictionary[Int($0)] })
        }
    }

    @Test func truncatedBlocksAreRejectedNotTrapped() {
        let ids: [UInt32] = [0, 1, 2, 1, 0, 0, 0, 2]
        var w = ByteWriter()
        var scratch: [UInt32: UInt32] = [:]
        ids.withUnsafeBufferPointer { StringCodec.encode($0, dictionary: ["a", "b", "c"], scratch: &scratch, into: &w) }
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
