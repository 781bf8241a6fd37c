import Foundation
import Testing
import TachoFormat

/// Golden files of segment format version 1 (docs/FORMAT.md §2), kept so that stores written
/// by the first version always open (Prometheus keeps `testdata/index_format_v1` for this).
///
/// - `golden/segment-v1.tseg`: every column type and every encoding mode of §2.3, raw and
///   zstd blocks, a vehicle split into two chunks, a non-ASCII vehicle id.
/// - `golden/example-v1.tseg`: the worked example of FORMAT.md §2.6 (detections, one
///   vehicle, two rows); the annotated hex in the doc is checked against it too.
///
/// Two properties per file:
/// 1. today's reader decodes the committed bytes to the literal values below;
/// 2. today's writer, given the same input, produces exactly the committed bytes.
///
/// If (2) fails you changed the bytes Tacho writes. Readers must keep opening version 1, so
/// either restore the old encoding or bump `FormatConstants.segmentVersion`, document the new
/// version in FORMAT.md, keep these files and add `segment-v2.tseg` beside them. Never
/// regenerate a v1 file to make this test pass. (`TACHO_WRITE_GOLDEN=1` writes the files; it
/// exists to create a new version's files, not to refresh old ones.)
@Suite struct GoldenFormatTests {
    static let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden")
    static let formatDoc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/FORMAT.md")

    /// 2022-06-05T00:00:00Z in µs: a day partition start.
    static let day: Int64 = 1_654_387_200_000_000

    // MARK: - segment-v1.tseg input

    /// A schema that uses every column type (the built-in measurements have no float64 yet).
    static let golden = Measurement(
        id: 240, name: "golden",
        columns: [
            ColumnSpec("kind", .string, identity: true),
            ColumnSpec("value", .int64),
            ColumnSpec("reading", .float64),
            ColumnSpec("status", .string),
        ])

    struct Rows {
        var vehicle: String
        var times: [Int64]
        var kind: [String]
        var value: [Int64]
        var reading: [Double]
        var status: [String]
    }

    /// truck-01's first 40 rows: one per second with a few µs of jitter (time: delta-of-delta),
    /// values in a small range (int: frame of reference), three kinds cycling (string: bit
    /// packed), three long status runs (string: run-length), readings that zstd shrinks.
    static let truckTimes: [Int64] = (0..<40).map { day + Int64($0) * 1_000_000 + Int64($0 % 3) }
    static let truckValues: [Int64] = (0..<40).map { 100 + Int64($0 * 7 % 13) }
    static let truckKinds: [String] = (0..<40).map { ["car", "person", "sign"][$0 % 3] }
    static let truckReadings: [Double] = (0..<40).map { Double($0) * 0.25 }
    static let truckStatus: [String] = Array(repeating: "ok", count: 20) + Array(repeating: "warn", count: 12)
        + Array(repeating: "fault", count: 8)

    static let goldenRows: [Rows] = [
        // One row: time n = 1, int constant, string constant.
        Rows(vehicle: "bus-7", times: [day + 1_000], kind: ["car"], value: [42], reading: [-0.5], status: ["ok"]),
        // 43 rows → chunks of 40 and 3 (chunkRows = 40). The second chunk: irregular times
        // (time: delta), one huge value (int: zigzag delta).
        Rows(
            vehicle: "truck-01",
            times: truckTimes + [day + 47_000_003, day + 54_000_006, day + 54_500_003],
            kind: truckKinds + ["car", "car", "car"],
            value: truckValues + [5, 1_000_000_000_000, 7],
            reading: truckReadings + [1e300, -2.5e-300, 3.0],
            status: truckStatus + ["ok", "ok", "ok"]),
        // Non-ASCII id; two rows at the last µs of the partition, told apart by kind;
        // all deltas zero (time scale 0 → 1); a negative constant; ±∞ and -0.0.
        Rows(
            vehicle: "vän-3",
            times: [day + 86_399_999_999, day + 86_399_999_999],
            kind: ["car", "person"],
            value: [-3, -3],
            reading: [.infinity, -0.0],
            status: ["ok", "warn"]),
    ]

    static func buildGolden() throws -> [UInt8] {
        var opts = SegmentBuilder.Options()
        opts.zstdLevel = 3
        opts.chunkRows = 40
        var b = SegmentBuilder(measurement: golden, partitionStart: day, seq: 42, options: opts)
        // A writer-wide dictionary, in an order unrelated to the chunks' first appearance.
        let dictionary = ["fault", "warn", "sign", "person", "ok", "car"]
        func ids(_ s: [String]) -> [UInt32] { s.map { UInt32(dictionary.firstIndex(of: $0)!) } }
        var out: [UInt8] = []
        for r in goldenRows {
            var kind = ColumnValues(type: .string), value = ColumnValues(type: .int64)
            var reading = ColumnValues(type: .float64), status = ColumnValues(type: .string)
            kind.ids = ids(r.kind)
            value.ints = r.value
            reading.doubles = r.reading
            status.ids = ids(r.status)
            try b.appendVehicle(
                r.vehicle, times: r.times, columns: [kind, value, reading, status], range: 0..<r.times.count,
                dictionary: dictionary)
            out += b.takePending()
        }
        _ = b.finish()
        out += b.takePending()
        return out
    }

    // MARK: - example-v1.tseg input (FORMAT.md §2.6)

    static func buildExample() throws -> [UInt8] {
        var b = SegmentBuilder(measurement: .detections, partitionStart: day, seq: 1)
        let t0 = day + 8 * 3_600_000_000  // 08:00:00Z
        var kind = ColumnValues(type: .string), value = ColumnValues(type: .int64)
        kind.ids = [0, 1]
        value.ints = [3, 1]
        try b.appendVehicle(
            "v1", times: [t0, t0 + 1_500_000], columns: [kind, value], range: 0..<2, dictionary: ["car", "person"])
        _ = b.finish()
        return b.takePending()
    }

    // MARK: - helpers

    static func load(_ name: String) throws -> [UInt8] {
        let url = goldenDir.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["TACHO_WRITE_GOLDEN"] == "1" {
            let bytes = name.hasPrefix("segment") ? try buildGolden() : try buildExample()
            try FileManager.default.createDirectory(at: goldenDir, withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return [UInt8](try Data(contentsOf: url))
    }

    static func decodeAll(_ r: SegmentReader) throws -> [String: [DecodedChunk]] {
        var out: [String: [DecodedChunk]] = [:]
        for v in r.footer.vehicles {
            for c in v.chunks {
                var d = DecodedChunk(measurement: r.footer.measurement)
                try r.decode(c, into: &d)
                out[v.vehicle, default: []].append(d)
            }
        }
        return out
    }

    static func strings(_ c: DecodedColumn) -> [String] { c.ids.map { c.dictionary[Int($0)] } }

    /// Reads one block the way FORMAT.md §2.2 says: payload, encoding byte, CRC-32C over both.
    static func rawBlock(_ bytes: [UInt8], _ ref: BlockRef) throws -> [UInt8] {
        let start = Int(ref.offset), end = start + Int(ref.length)
        let crc = bytes[(end + 1)..<(end + 5)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(CRC32C.checksum(Array(bytes[start...end])) == crc)
        switch bytes[end] {
        case 0: return Array(bytes[start..<end])
        case 1:
            var out: [UInt8] = []
            try Array(bytes[start..<end]).withUnsafeBytes {
                try ZstdDecompressor().decompress($0, expectedSize: Int(ref.rawLength), into: &out)
            }
            return out
        default:
            Issue.record("unknown block encoding \(bytes[end])")
            return []
        }
    }

    // MARK: - tests

    @Test func goldenSegmentDecodesToKnownValues() throws {
        let bytes = try Self.load("segment-v1.tseg")
        #expect(bytes.count == 942)
        // Header: "TSEG", version 1, measurement 240, reserved 0, crc.
        #expect(Array(bytes[0..<8]) == [0x54, 0x53, 0x45, 0x47, 0x01, 0x00, 0xF0, 0x00])
        // Trailer ends with version 1, reserved 0, "TSGE".
        #expect(Array(bytes[(bytes.count - 8)...]) == [0x01, 0x00, 0x00, 0x00, 0x54, 0x53, 0x47, 0x45])

        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "segment-v1.tseg")
        let f = r.footer
        #expect(f.measurement.id == 240)
        #expect(f.measurement.name == "golden")
        #expect(f.measurement.columns == Self.golden.columns)
        #expect(f.partitionStart == 1_654_387_200_000_000)
        #expect(f.seq == 42)
        #expect(f.rowCount == 46)
        #expect(f.minTime == 1_654_387_200_000_000)
        #expect(f.maxTime == 1_654_473_599_999_999)
        #expect(f.vehicles.map(\.vehicle) == ["bus-7", "truck-01", "vän-3"])
        #expect(f.vehicles.map { $0.chunks.map(\.rowCount) } == [[1], [40, 3], [2]])

        let d = try Self.decodeAll(r)

        // bus-7
        let bus = try #require(d["bus-7"]?.first)
        #expect(bus.times == [1_654_387_200_001_000])
        #expect(Self.strings(bus.columns[0]) == ["car"])
        #expect(bus.columns[1].ints == [42])
        #expect(bus.columns[2].doubles == [-0.5])
        #expect(Self.strings(bus.columns[3]) == ["ok"])

        // truck-01, chunk 1: spot literals, then the whole column against its definition.
        let t1 = try #require(d["truck-01"]?.first)
        #expect(t1.times.count == 40)
        #expect(Array(t1.times.prefix(4)) == [
            1_654_387_200_000_000, 1_654_387_201_000_001, 1_654_387_202_000_002, 1_654_387_203_000_000,
        ])
        #expect(t1.times.last == 1_654_387_239_000_000)
        #expect(t1.times == Self.truckTimes)
        #expect(Array(t1.columns[1].ints.prefix(6)) == [100, 107, 101, 108, 102, 109])
        #expect(t1.columns[1].ints == Self.truckValues)
        #expect(Array(Self.strings(t1.columns[0]).prefix(4)) == ["car", "person", "sign", "car"])
        #expect(Self.strings(t1.columns[0]) == Self.truckKinds)
        #expect(t1.columns[0].dictionary == ["car", "person", "sign"])  // order of first appearance
        #expect(Array(t1.columns[2].doubles.prefix(3)) == [0.0, 0.25, 0.5])
        #expect(t1.columns[2].doubles == Self.truckReadings)
        #expect(Self.strings(t1.columns[3]) == Self.truckStatus)
        #expect(t1.columns[3].dictionary == ["ok", "warn", "fault"])

        // truck-01, chunk 2
        let t2 = try #require(d["truck-01"]?.last)
        #expect(t2.times == [1_654_387_247_000_003, 1_654_387_254_000_006, 1_654_387_254_500_003])
        #expect(Self.strings(t2.columns[0]) == ["car", "car", "car"])
        #expect(t2.columns[1].ints == [5, 1_000_000_000_000, 7])
        #expect(t2.columns[2].doubles == [1e300, -2.5e-300, 3.0])
        #expect(Self.strings(t2.columns[3]) == ["ok", "ok", "ok"])

        // vän-3
        let van = try #require(d["vän-3"]?.first)
        #expect(van.times == [1_654_473_599_999_999, 1_654_473_599_999_999])
        #expect(Self.strings(van.columns[0]) == ["car", "person"])
        #expect(van.columns[1].ints == [-3, -3])
        #expect(van.columns[2].doubles.map(\.bitPattern) == [Double.infinity.bitPattern, (-0.0).bitPattern])
        #expect(Self.strings(van.columns[3]) == ["ok", "warn"])

        // Footer statistics (§2.4.2) of every chunk.
        let stats = f.vehicles.flatMap { $0.chunks.map(\.stats) }
        #expect(stats.map { $0[0].distinct } == [1, 3, 1, 2])
        #expect(stats.map { $0[0].lastString } == ["car", "car", "car", "person"])
        #expect(stats.map { [$0[1].minInt, $0[1].maxInt, $0[1].sumInt, $0[1].lastInt] } == [
            [42, 42, 42, 42], [100, 112, 4234, 100], [5, 1_000_000_000_000, 1_000_000_000_012, 7], [-3, -3, -6, -3],
        ])
        #expect(stats.map { $0[1].sumOverflow } == [false, false, false, false])
        #expect(stats.map { [$0[2].minDouble, $0[2].maxDouble, $0[2].sumDouble, $0[2].lastDouble] } == [
            [-0.5, -0.5, -0.5, -0.5], [0.0, 9.75, 195.0, 9.75], [-2.5e-300, 1e300, 1e300, 3.0],
            [-0.0, .infinity, .infinity, -0.0],
        ])
        #expect(stats.map { $0[3].distinct } == [1, 3, 1, 2])
        #expect(stats.map { $0[3].lastString } == ["ok", "fault", "ok", "warn"])
    }

    @Test func goldenSegmentUsesEveryEncodingMode() throws {
        let bytes = try Self.load("segment-v1.tseg")
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "segment-v1.tseg")
        var encodings: Set<UInt8> = []
        var timeModes: [UInt8] = [], intModes: [UInt8] = [], floatModes: [UInt8] = []
        var stringModes: [[UInt8]] = [[], []]
        for v in r.footer.vehicles {
            for c in v.chunks {
                for b in c.blocks { encodings.insert(bytes[Int(b.offset) + Int(b.length)]) }
                timeModes.append(try Self.rawBlock(bytes, c.blocks[0])[0])
                intModes.append(try Self.rawBlock(bytes, c.blocks[2])[0])
                floatModes.append(try Self.rawBlock(bytes, c.blocks[3])[0])
                for (k, col) in [1, 4].enumerated() {
                    // The mode byte follows the dictionary: count, then (length, bytes) each.
                    let raw = try Self.rawBlock(bytes, c.blocks[col])
                    var at = 1
                    for _ in 0..<raw[0] { at += 1 + Int(raw[at]) }
                    stringModes[k].append(raw[at])
                }
            }
        }
        #expect(encodings == [0, 1])  // raw and zstd
        #expect(timeModes == [1, 2, 1, 1])  // delta, delta-of-delta
        #expect(intModes == [0, 1, 2, 0])  // constant, frame of reference, delta
        #expect(floatModes == [0, 0, 0, 0])
        #expect(stringModes[0] == [0, 2, 0, 2])  // kind: constant, packed
        #expect(stringModes[1] == [0, 1, 0, 2])  // status: constant, run-length, packed
    }

    /// What a segment means, independent of how zstd framed it: header, footer with block
    /// positions dropped, and every block's encoding byte and decompressed payload.
    static func structure(_ bytes: [UInt8]) throws -> [String] {
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "structure")
        var f = r.footer
        var out = ["header \(bytes[0..<12])"]
        for (v, e) in f.vehicles.enumerated() {
            for (c, chunk) in e.chunks.enumerated() {
                for b in chunk.blocks {
                    out.append("block \(bytes[Int(b.offset) + Int(b.length)]) \(try rawBlock(bytes, b))")
                }
                f.vehicles[v].chunks[c].blocks = chunk.blocks.map { b in
                    var b = b
                    (b.offset, b.length) = (0, 0)
                    return b
                }
            }
        }
        out.append("footer \(f)")
        return out
    }

    @Test(arguments: ["segment-v1.tseg", "example-v1.tseg"])
    func todaysWriterIsByteIdentical(file: String) throws {
        let golden = try Self.load(file)
        let today = file.hasPrefix("segment") ? try Self.buildGolden() : try Self.buildExample()
        // Same meaning: any difference here is a format change.
        #expect(try Self.structure(today) == Self.structure(golden),
                "the segment format changed: bump FormatConstants.segmentVersion, see this file's doc comment")
        guard today != golden else { return }
        let first = zip(today, golden).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(today.count, golden.count)
        if try Self.structure(today) == Self.structure(golden) {
            // Only zstd frames differ: another libzstd version compresses differently. Still
            // version 1 (readers see the same payloads), so not a format failure.
            withKnownIssue("libzstd framed a block differently (byte \(first)); payloads are identical", isIntermittent: true) {
                #expect(today == golden)
            }
        } else {
            #expect(today == golden, "the segment bytes changed at offset \(first)")
        }
    }

    @Test func exampleSegmentDecodes() throws {
        let bytes = try Self.load("example-v1.tseg")
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "example-v1.tseg")
        #expect(r.footer.measurement.name == "detections")
        #expect(r.footer.vehicles.map(\.vehicle) == ["v1"])
        let d = try #require(try Self.decodeAll(r)["v1"]?.first)
        #expect(d.times == [1_654_416_000_000_000, 1_654_416_001_500_000])
        #expect(Self.strings(d.columns[0]) == ["car", "person"])
        #expect(d.columns[1].ints == [3, 1])
    }

    /// The annotated hex of FORMAT.md §2.6 is exactly the bytes of `example-v1.tseg`.
    @Test func formatDocWorkedExampleMatches() throws {
        let doc = try String(contentsOf: Self.formatDoc, encoding: .utf8)
        let begin = try #require(doc.range(of: "<!-- worked-example:begin -->"))
        let end = try #require(doc.range(of: "<!-- worked-example:end -->"))
        var parsed: [UInt8] = []
        for line in doc[begin.upperBound..<end.lowerBound].split(separator: "\n") {
            // `oooo  xx xx xx …  │ note`: a 4-hex-digit offset, the bytes, then the annotation.
            guard let bar = line.firstIndex(of: "│") else { continue }
            let fields = line[..<bar].split(separator: " ")
            guard let off = fields.first, off.count == 4, let offset = Int(off, radix: 16) else { continue }
            #expect(offset == parsed.count, "FORMAT.md example: offset \(off) but \(parsed.count) bytes so far")
            for h in fields.dropFirst() { parsed.append(try #require(UInt8(h, radix: 16))) }
        }
        #expect(parsed == (try Self.load("example-v1.tseg")))
    }
}
