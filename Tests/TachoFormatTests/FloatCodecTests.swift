import Testing
import TachoTestSupport
@testable import TachoFormat

/// Float64 column modes of segment version 3 (docs/FORMAT.md §2.3.4): decimal-scaled integers
/// and Gorilla XOR. The worked examples byte for byte, bit-exact round trips over random
/// doubles, decimals, GPS tracks and specials, and every rule a reader checks.
@Suite struct FloatCodecTests {
    static func encode(_ v: [Double]) -> [UInt8] {
        var w = ByteWriter()
        v.withUnsafeBufferPointer { FloatCodec.encode($0, into: &w) }
        return w.bytes
    }

    static func decode(_ b: [UInt8], n: Int, version: UInt16 = 3) -> [Double]? {
        var out: [Double] = []
        return b.withUnsafeBytes { FloatCodec.decode($0, count: n, version: version, into: &out) } ? out : nil
    }

    /// Encodes, decodes, and checks every value's bit pattern; returns the block.
    @discardableResult
    static func roundTrip(_ v: [Double], sourceLocation: SourceLocation = #_sourceLocation) -> [UInt8] {
        let b = encode(v)
        let back = decode(b, n: v.count)
        #expect(back?.map(\.bitPattern) == v.map(\.bitPattern), "mode \(b.first ?? 0xFF)", sourceLocation: sourceLocation)
        #expect(b.count <= 1 + 8 * v.count, sourceLocation: sourceLocation)
        return b
    }

    // MARK: - worked examples (FORMAT.md §2.3.4)

    /// Speeds 54.2 54.2 55.0 53.9: k = 1, the integers themselves (order 0) as int mode 1,
    /// base 539, width 4, packed 3 3 11 0.
    static let decimalExample: [UInt8] = [0x01, 0x01, 0x00, 0x01, 0xB6, 0x08, 0x04, 0x33, 0x0B]
    static let decimalValues = [54.2, 54.2, 55.0, 53.9]

    /// 1.0 1.0 1.5 −0.0: the first value raw, then '0', a new window (12, 1 bit), a new
    /// window (0, 13 bits), 7 padding bits.
    static let xorExample: [UInt8] = [0x02, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x6C, 0x07, 0x80, 0xDB, 0xFF, 0x80]
    static let xorValues = [1.0, 1.0, 1.5, -0.0]

    @Test func decimalExampleIsWhatTheWriterWritesAndDecodes() {
        #expect(Self.encode(Self.decimalValues) == Self.decimalExample)
        #expect(Self.decode(Self.decimalExample, n: 4)?.map(\.bitPattern) == Self.decimalValues.map(\.bitPattern))
        #expect(Self.decode(Self.decimalExample, n: 4, version: 2) == nil)  // mode 1 is new in v3
    }

    @Test func xorExampleIsWhatTheWriterWritesAndDecodes() {
        #expect(Self.encode(Self.xorValues) == Self.xorExample)
        #expect(Self.decode(Self.xorExample, n: 4)?.map(\.bitPattern) == Self.xorValues.map(\.bitPattern))
        #expect(Self.decode(Self.xorExample, n: 4, version: 2) == nil)  // mode 2 is new in v3
    }

    @Test func emptyAndRawBlocks() {
        #expect(Self.encode([]) == [0x00])
        #expect(Self.decode([0x00], n: 0) == [])
        // Version 1 and 2 blocks (mode 0) still decode under every version.
        let raw: [UInt8] = [0x00] + (1.5).bitPattern.littleEndianBytes
        #expect(Self.decode(raw, n: 1, version: 1) == [1.5])
        #expect(Self.decode(raw, n: 1, version: 3) == [1.5])
    }

    // MARK: - property round trips

    @Test func randomBitPatternsRoundTrip() {
        var rng = SplitMix64(seed: 0xF10A7)
        for _ in 0..<300 {
            let n = Int.random(in: 0...200, using: &rng)
            let v = (0..<n).map { _ in Double(bitPattern: rng.next()) }
            let b = Self.roundTrip(v)
            if n > 3 { #expect(b[0] != 1) }  // NaNs and huge values are not decimals
        }
    }

    @Test func decimalLookingValuesRoundTripAsDecimals() {
        var rng = SplitMix64(seed: 0xDEC1)
        for round in 0..<400 {
            let digits = round % 10
            let n = Int.random(in: 1...150, using: &rng)
            // The text a device sends, parsed as the ingest does: the nearest double.
            let v: [Double] = (0..<n).map { _ in
                let whole = Int64.random(in: -99_999...99_999, using: &rng)
                var text = "\(whole)"
                if digits > 0 {
                    text += "." + String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
                }
                return Double(text) ?? .nan
            }
            let b = Self.roundTrip(v)
            // A handful of values may be smaller raw (9 bytes for one value).
            if n >= 8 || b[0] != 0 {
                #expect(b[0] == 1)
                #expect(Int(b[1]) <= digits)  // trailing zeros may make k smaller
            }
        }
    }

    @Test func gpsTracksRoundTripInFewBytes() {
        var rng = SplitMix64(seed: 0x6B5)
        for _ in 0..<50 {
            let n = Int.random(in: 100...1440, using: &rng)
            var lat = Int64.random(in: 47_900_000...48_300_000, using: &rng)
            var speed = Int64.random(in: 0...900, using: &rng)
            var step = Int64.random(in: -20_000...20_000, using: &rng)
            var lats: [Double] = [], speeds: [Double] = []
            for _ in 0..<n {
                step += Int64.random(in: -1_200...1_200, using: &rng)
                step = max(-20_000, min(20_000, step))
                lat += step
                speed = max(0, min(1300, speed + Int64.random(in: -80...80, using: &rng)))
                lats.append(Double(Self.fixed(lat, 6)) ?? .nan)
                speeds.append(Double(Self.fixed(speed, 1)) ?? .nan)
            }
            let a = Self.roundTrip(lats), s = Self.roundTrip(speeds)
            #expect(a[0] == 1 && a[1] == 6)
            #expect(s[0] == 1 && s[1] == 1)
            #expect(a.count < n * 3)  // 8 bytes raw; about 12 bits as delta-of-delta
            #expect(s.count < n * 2)
        }
    }

    @Test func specialsRoundTripBitExactly() {
        var rng = SplitMix64(seed: 0x5BEC)
        let specials: [Double] = [
            -0.0, 0.0, .infinity, -.infinity, .nan, -.nan, .signalingNaN,
            Double(nan: 0x1234, signaling: false), Double(bitPattern: 0x7FF0_0000_0000_0001),
            Double(bitPattern: 0xFFFF_FFFF_FFFF_FFFF), .leastNonzeroMagnitude, -.leastNormalMagnitude,
            .greatestFiniteMagnitude, 9_007_199_254_740_992, 1e-10, 0.1, 12.5,
        ]
        for s in specials { Self.roundTrip([s]) }
        for _ in 0..<300 {
            let n = Int.random(in: 1...80, using: &rng)
            let v = (0..<n).map { _ in
                Bool.random(using: &rng) ? specials.randomElement(using: &rng)! : Double(Int.random(in: -500...500, using: &rng)) / 10
            }
            let b = Self.roundTrip(v)
            if v.contains(where: { $0.isNaN || $0.isInfinite || $0.bitPattern == (-0.0).bitPattern }) { #expect(b[0] != 1) }
        }
        // -0.0 alone is not the decimal 0: decoding i = 0 would give +0.0.
        #expect(Self.encode([-0.0, -0.0])[0] == 2)
    }

    // MARK: - reader rules (FORMAT.md §2.3.4)

    @Test(arguments: [
        "unknown mode", "raw short", "raw long",
        "decimal k 10", "decimal order 3", "decimal no int block", "decimal int block truncated",
        "decimal trailing byte", "decimal above 2^53", "decimal sum above 2^53",
        "xor first value short", "xor empty with bytes", "xor window before any", "xor lead + len > 64",
        "xor stream short", "xor padding not zero", "xor trailing byte",
    ])
    func malformedBlockIsRejected(damage: String) {
        var b: [UInt8]
        var n = 4
        let xor = Self.xorExample, dec = Self.decimalExample
        switch damage {
        case "unknown mode": b = dec; b[0] = 3
        case "raw short": b = [0x00] + Array(repeating: 0, count: 31)
        case "raw long": b = [0x00] + Array(repeating: 0, count: 33)
        case "decimal k 10": b = dec; b[1] = 10
        case "decimal order 3": b = dec; b[2] = 3
        case "decimal no int block": b = Array(dec[0..<3])
        case "decimal int block truncated": b = Array(dec.dropLast())
        case "decimal trailing byte": b = dec + [0x00]
        case "decimal above 2^53":
            // Int constant 2^53 + 1 (svarint 2^54 + 2 = 8 varint bytes).
            var w = ByteWriter()
            w.writeSignedVarint((1 << 53) + 1)
            b = [0x01, 0x00, 0x00, 0x00] + w.bytes
        case "decimal sum above 2^53":
            // Order 1, constant 2^52 + 1: the prefix sums pass 2^53 at the second value.
            var w = ByteWriter()
            w.writeSignedVarint((1 << 52) + 1)
            b = [0x01, 0x00, 0x01, 0x00] + w.bytes
            n = 2
        case "xor first value short": b = Array(xor[0..<5])
        case "xor empty with bytes": b = [0x02, 0x00]; n = 0
        case "xor window before any": b = Array(xor[0..<9]) + [0b1000_0000]; n = 2  // '10' first
        case "xor lead + len > 64": b = Array(xor[0..<9]) + [0b1111_1111, 0b1100_0000, 0, 0, 0, 0, 0, 0, 0, 0]; n = 2  // lead 31, len 56
        case "xor stream short": b = Array(xor.dropLast())
        case "xor padding not zero": b = xor; b[b.count - 1] |= 1
        case "xor trailing byte": b = xor + [0x00]
        default: Issue.record("unknown damage \(damage)"); return
        }
        #expect(Self.decode(b, n: n) == nil, "\(damage)")
    }

    /// A float block whose checksum is valid but which breaks a rule is a SegmentError naming
    /// the file, the block's offset and its column; the undamaged segment round-trips with its
    /// stats.
    @Test func malformedFloatBlockInASegmentIsReportedWithOffsetAndColumn() throws {
        let m = Measurement(id: 3, name: "locations", columns: [
            ColumnSpec("lat", .float64), ColumnSpec("lon", .float64), ColumnSpec("speed_kmh", .float64),
        ])
        var b = SegmentBuilder(measurement: m, partitionStart: 0, seq: 1)
        let n = 6  // blocks this small stay raw (zstd's frame would not be smaller)
        let times = (0..<n).map { Int64($0) * 60_000_000_000 }
        var rng = SplitMix64(seed: 0x10C)
        var lat = ColumnValues(type: .float64), lon = ColumnValues(type: .float64), speed = ColumnValues(type: .float64)
        for i in 0..<n {
            lat.doubles.append(Double(Self.fixed(48_137_154 + Int64(i * i * 3), 6)) ?? .nan)
            // Single-precision values near 11.5 (short XOR windows, nothing for zstd), −0.0 once.
            lon.doubles.append(i == 3 ? -0.0 : Double(Float(11.5 + Double(rng.next() % 100_000) / 99_991)))
            speed.doubles.append(Double(Self.fixed(Int64(500 + i % 7), 1)) ?? .nan)
        }
        try b.appendVehicle("356938035643809", times: times, columns: [lat, lon, speed], range: 0..<n, dictionary: [""])
        var bytes = b.takePending()
        _ = b.finish()
        bytes += b.takePending()

        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "loc.tseg")
        let chunk = try #require(r.footer.vehicles.first?.chunks.first)
        var d = DecodedChunk(measurement: m)
        try r.decode(chunk, into: &d)
        #expect(d.columns[0].values.doubles.map(\.bitPattern) == lat.doubles.map(\.bitPattern))
        #expect(d.columns[1].values.doubles.map(\.bitPattern) == lon.doubles.map(\.bitPattern))
        #expect(d.columns[2].values.doubles.map(\.bitPattern) == speed.doubles.map(\.bitPattern))
        #expect(chunk.stats[0].minDouble == lat.doubles[0] && chunk.stats[0].maxDouble == lat.doubles[n - 1])
        #expect(chunk.stats[2].lastDouble == speed.doubles[n - 1])

        for (column, name) in [(1, "lat"), (2, "lon")] {
            let ref = chunk.blocks[column]
            let at = Int(ref.offset), len = Int(ref.length)
            var damaged = bytes
            if damaged[at + len] == 0 {  // stored raw: the mode is the block's first byte
                #expect(damaged[at] == (column == 1 ? 1 : 2))
                damaged[at] = 9
            } else {
                Issue.record("\(name) block compressed; the test needs raw blocks")
                continue
            }
            let crc = CRC32C.checksum(Array(damaged[at...(at + len)]))
            for i in 0..<4 { damaged[at + len + 1 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
            let dr = try SegmentReader(source: InMemorySegmentSource(damaged), path: "loc.tseg")
            do {
                try dr.decode(chunk, into: &d)
                Issue.record("\(name) decoded")
            } catch let e as SegmentError {
                #expect(e.path == "loc.tseg")
                #expect(e.offset == ref.offset)
                #expect(e.kind == .malformedBlock(column: name))
            }
        }
    }

    /// golden/segment-v3.tseg (GoldenFormatTests) holds float blocks of all three modes, so
    /// the golden round trip covers each.
    @Test func goldenVersion3SegmentHasEveryFloatMode() throws {
        let bytes = try GoldenFormatTests.load(GoldenFormatTests.segmentFile(3))
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "segment-v3.tseg")
        let reading = try #require(r.footer.measurement.columnIndex(named: "reading"))
        var modes: Set<UInt8> = []
        for v in r.footer.vehicles {
            for c in v.chunks { modes.insert(try GoldenFormatTests.rawBlock(bytes, c.blocks[reading + 1])[0]) }
        }
        #expect(modes == [0, 1, 2])
    }

    /// `v / 10^digits` as decimal text, like tools/gen writes.
    static func fixed(_ v: Int64, _ digits: Int) -> String {
        var p: Int64 = 1
        for _ in 0..<digits { p *= 10 }
        let sign = v < 0 ? "-" : ""
        let a = v.magnitude, q = a / UInt64(p), r = a % UInt64(p)
        let frac = String(r)
        return sign + "\(q)" + (digits > 0 ? "." + String(repeating: "0", count: digits - frac.count) + frac : "")
    }
}

extension UInt64 {
    fileprivate var littleEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (8 * UInt64($0))) } }
}
