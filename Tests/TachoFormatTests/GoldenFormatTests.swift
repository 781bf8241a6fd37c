import Foundation
import Testing
import TachoFormat

/// Golden files of every segment format version (docs/FORMAT.md §2, §6), kept so that stores
/// written by any version always open (Prometheus keeps `testdata/index_format_v1` for this).
///
/// - `golden/segment-vN.tseg`: every column type and every encoding mode of §2.3 that
///   version N has, raw and zstd blocks, a vehicle split into two chunks, a non-ASCII
///   vehicle id. v2 has v1's rows plus zug-4 (detection-shaped times: time mode 3) and
///   zug-5 (a steady ramp: time mode 2).
/// - `golden/example-vN.tseg`: the worked example of FORMAT.md §2.6 (detections, one
///   vehicle, two rows); the annotated hex in the doc is checked against the current one.
///
/// Properties:
/// 1. today's reader decodes the committed bytes of every version to the literal values below;
/// 2. today's writer, given the same input, produces exactly the current version's bytes.
///
/// If (2) fails you changed the bytes Tacho writes. Readers must keep opening every version,
/// so either restore the old encoding or bump `FormatConstants.segmentVersion`, document the
/// new version in FORMAT.md, keep these files and add `segment-v(N+1).tseg` beside them.
/// Never regenerate an old version's file to make this test pass. (`TACHO_WRITE_GOLDEN=1`
/// writes the current version's files only; it exists to create a new version's files, not
/// to refresh old ones.)
@Suite struct GoldenFormatTests {
    static let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden")
    static let formatDoc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/FORMAT.md")

    /// 2022-06-05T00:00:00Z in µs: a day partition start.
    static let day: Int64 = 1_654_387_200_000_000

    /// The version today's writer writes, and its golden files.
    static let current = FormatConstants.segmentVersion
    static func segmentFile(_ v: UInt16) -> String { "segment-v\(v).tseg" }
    static func exampleFile(_ v: UInt16) -> String { "example-v\(v).tseg" }

    // MARK: - segment-vN.tseg input

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

    static let goldenRowsV1: [Rows] = [
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

    /// zug-4 (v2 on): detection-shaped events of 1–3 rows sharing a millisecond time, 0.5–4.5 s
    /// apart (time: runs, mode 3). Each event's kinds are distinct and sorted (identity order).
    static let zugRuns = [3, 1, 2, 1, 3, 2, 3, 1, 2, 2]
    static let zugGaps: [Int64] = [1, 9, 3, 4, 2, 7, 1, 5, 6]  // × 500 ms
    static let zugEventTimes: [Int64] = zugGaps.reduce(into: [day + 43_200_250_000]) { $0.append($0.last! + $1 * 500_000) }
    static let zugTimes: [Int64] = zip(zugRuns, zugEventTimes).flatMap { Array(repeating: $1, count: $0) }
    static let zugKinds: [String] = zugRuns.flatMap { [["person"], ["car", "sign"], ["car", "person", "sign"]][$0 - 1] }
    static let zugValues: [Int64] = (0..<20).map { Int64($0 * 5 % 7) }
    static let zugReadings: [Double] = (0..<20).map { Double($0) * 0.5 }
    static let zugStatus: [String] = Array(repeating: "ok", count: 18) + ["warn", "warn"]

    /// zug-5 (v2 on): one row per time, the interval growing by 61 ms each row, so the
    /// deltas of deltas are constant and small while the gaps spread (time: delta-of-delta).
    static let rampTimes: [Int64] = (1..<20).reduce(into: [day + 46_800_000_000]) { $0.append($0.last! + (1000 + 61 * Int64($1)) * 1000) }

    /// In v2, truck-01's jittered one-second times (delta-of-delta in v1) are cheaper as
    /// runs of one row with bit-packed gaps, so zug-5 is what keeps mode 2 in the file.
    static func goldenRows(_ version: UInt16) -> [Rows] {
        version < 2 ? goldenRowsV1 : version >= 3 ? goldenRowsV2 + [zug6] : goldenRowsV2
    }

    static let goldenRowsV2: [Rows] = goldenRowsV1 + [
            Rows(vehicle: "zug-4", times: zugTimes, kind: zugKinds, value: zugValues, reading: zugReadings, status: zugStatus),
            Rows(
                vehicle: "zug-5", times: rampTimes, kind: Array(repeating: "car", count: 20), value: (0..<20).map { Int64($0) },
                reading: (0..<20).map { Double($0) }, status: Array(repeating: "ok", count: 20)),
        ]

    /// zug-6 (v3 on): zug-4's events, but the vehicle is offline for 10 minutes in the middle
    /// (time: patched runs, mode 4) and one count is huge (int: patched frame of reference,
    /// mode 3); its kinds, like zug-4's, are one set per time (string mode 3).
    static let zug6Gaps: [Int64] = [1, 2, 1, 1200, 2, 1, 1, 2, 1]  // × 500 ms
    static let zug6EventTimes: [Int64] = zug6Gaps.reduce(into: [day + 50_400_000_000]) { $0.append($0.last! + $1 * 500_000) }
    static let zug6Times: [Int64] = zip(zugRuns, zug6EventTimes).flatMap { Array(repeating: $1, count: $0) }
    static let zug6Values: [Int64] = (0..<20).map { $0 == 11 ? 1_000_000 : Int64($0 * 3 % 4) }
    static let zug6 = Rows(
        vehicle: "zug-6", times: zug6Times, kind: zugKinds, value: zug6Values, reading: zugReadings, status: zugStatus)

    static func buildGolden() throws -> [UInt8] {
        var opts = SegmentBuilder.Options()
        opts.zstdLevel = 3
        opts.chunkRows = 40
        var b = SegmentBuilder(measurement: golden, partitionStart: day, seq: 42, options: opts)
        // A writer-wide dictionary, in an order unrelated to the chunks' first appearance.
        let dictionary = ["fault", "warn", "sign", "person", "ok", "car"]
        func ids(_ s: [String]) -> [UInt32] { s.map { UInt32(dictionary.firstIndex(of: $0)!) } }
        var out: [UInt8] = []
        for r in goldenRows(current) {
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

    // MARK: - example-vN.tseg input (FORMAT.md §2.6)

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
        // Only the current version's files are ever (re)written: older versions' bytes can no
        // longer be produced by this writer and must stay as committed.
        if ProcessInfo.processInfo.environment["TACHO_WRITE_GOLDEN"] == "1",
           name == segmentFile(current) || name == exampleFile(current)
        {
            let bytes = name.hasPrefix("segment") ? try buildGolden() : try buildExample()
            try FileManager.default.createDirectory(at: goldenDir, withIntermediateDirectories: true)
            try Data(bytes).write(to: url, options: .atomic)  // tests run in parallel
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

    /// Every version's golden segment, read by today's reader. v2 holds v1's rows plus zug-4
    /// and zug-5.
    @Test(arguments: [UInt16(1), 2])
    func goldenSegmentDecodesToKnownValues(version: UInt16) throws {
        let file = Self.segmentFile(version)
        let bytes = try Self.load(file)
        #expect(bytes.count == [1: 942, 2: 1442][version])
        let v = UInt8(version)
        // Header: "TSEG", version, measurement 240, reserved 0, crc.
        #expect(Array(bytes[0..<8]) == [0x54, 0x53, 0x45, 0x47, v, 0x00, 0xF0, 0x00])
        // Trailer ends with version, reserved 0, "TSGE".
        #expect(Array(bytes[(bytes.count - 8)...]) == [v, 0x00, 0x00, 0x00, 0x54, 0x53, 0x47, 0x45])

        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: file)
        #expect(r.version == version)
        let f = r.footer
        #expect(f.measurement.id == 240)
        #expect(f.measurement.name == "golden")
        #expect(f.measurement.columns == Self.golden.columns)
        #expect(f.partitionStart == 1_654_387_200_000_000)
        #expect(f.seq == 42)
        #expect(f.rowCount == (version == 1 ? 46 : 86))
        #expect(f.minTime == 1_654_387_200_000_000)
        #expect(f.maxTime == 1_654_473_599_999_999)
        #expect(f.vehicles.map(\.vehicle) == ["bus-7", "truck-01", "vän-3"] + (version == 1 ? [] : ["zug-4", "zug-5"]))
        #expect(f.vehicles.map { $0.chunks.map(\.rowCount) } == [[1], [40, 3], [2]] + (version == 1 ? [] : [[20], [20]]))

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

        // zug-4 (v2): spot literals of the runs, then the columns against their definitions.
        if version >= 2 {
            let zug = try #require(d["zug-4"]?.first)
            #expect(Array(zug.times.prefix(5)) == [
                1_654_430_400_250_000, 1_654_430_400_250_000, 1_654_430_400_250_000, 1_654_430_400_750_000,
                1_654_430_405_250_000,
            ])
            #expect(zug.times.last == 1_654_430_419_250_000)
            #expect(zug.times == Self.zugTimes)
            #expect(Self.strings(zug.columns[0]) == Self.zugKinds)
            #expect(zug.columns[1].ints == Self.zugValues)
            #expect(zug.columns[2].doubles == Self.zugReadings)
            #expect(Self.strings(zug.columns[3]) == Self.zugStatus)
            let s = try #require(f.vehicles[3].chunks.first?.stats)
            #expect([s[1].minInt, s[1].maxInt, s[1].sumInt, s[1].lastInt] == [0, 6, 61, 4])
            #expect([s[2].minDouble, s[2].maxDouble, s[2].sumDouble, s[2].lastDouble] == [0, 9.5, 95, 9.5])
            #expect(s[0].distinct == 3 && s[3].distinct == 2)
            #expect([s[0].lastString, s[3].lastString] == ["sign", "warn"])

            let ramp = try #require(d["zug-5"]?.first)
            #expect(Array(ramp.times.prefix(3)) == [1_654_434_000_000_000, 1_654_434_001_061_000, 1_654_434_002_183_000])
            #expect(ramp.times.last == 1_654_434_030_590_000)
            #expect(ramp.times == Self.rampTimes)
            #expect(Self.strings(ramp.columns[0]) == Array(repeating: "car", count: 20))
            #expect(ramp.columns[1].ints == (0..<20).map { Int64($0) })
        }

        // Footer statistics (§2.4.2) of every chunk of v1's rows.
        let stats = f.vehicles.prefix(3).flatMap { $0.chunks.map(\.stats) }
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

    @Test(arguments: [UInt16(1), 2])
    func goldenSegmentUsesEveryEncodingMode(version: UInt16) throws {
        let file = Self.segmentFile(version)
        let bytes = try Self.load(file)
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: file)
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
        // v1: time delta, delta-of-delta. v2: truck-01's first chunk and zug-4 are runs,
        // zug-5 delta-of-delta.
        #expect(timeModes == (version == 1 ? [1, 2, 1, 1] : [1, 3, 1, 1, 3, 2]))
        #expect(intModes.prefix(4) == [0, 1, 2, 0])  // constant, frame of reference, delta
        #expect(floatModes.allSatisfy { $0 == 0 })
        #expect(stringModes[0].prefix(4) == [0, 2, 0, 2])  // kind: constant, packed
        #expect(stringModes[1].prefix(4) == [0, 1, 0, 2])  // status: constant, run-length, packed
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

    @Test(arguments: [segmentFile(current), exampleFile(current)])
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
            // the same version (readers see the same payloads), so not a format failure.
            withKnownIssue("libzstd framed a block differently (byte \(first)); payloads are identical", isIntermittent: true) {
                #expect(today == golden)
            }
        } else {
            #expect(today == golden, "the segment bytes changed at offset \(first)")
        }
    }

    @Test(arguments: [UInt16(1), 2, 3])
    func exampleSegmentDecodes(version: UInt16) throws {
        let file = Self.exampleFile(version)
        let bytes = try Self.load(file)
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: file)
        #expect(r.version == version)
        #expect(r.footer.measurement.name == "detections")
        #expect(r.footer.vehicles.map(\.vehicle) == ["v1"])
        let d = try #require(try Self.decodeAll(r)["v1"]?.first)
        #expect(d.times == [1_654_416_000_000_000, 1_654_416_001_500_000])
        #expect(Self.strings(d.columns[0]) == ["car", "person"])
        #expect(d.columns[1].ints == [3, 1])
    }

    /// FORMAT.md §2.6 says the v1 example differs from the v2 one only in the version fields
    /// (and so the header CRC): both examples use time mode 1.
    @Test func exampleV1DiffersOnlyInVersionFields() throws {
        let v1 = try Self.load(Self.exampleFile(1)), v2 = try Self.load(Self.exampleFile(2))
        #expect(v1.count == 190 && v2.count == 190)
        let differing = v1.indices.filter { v1[$0] != v2[$0] }
        // Header version (4), header crc32c (8..<12), trailer version (190 − 8).
        #expect(differing.allSatisfy { $0 == 4 || (8..<12).contains($0) || $0 == 182 })
        #expect([v1[4], v1[182], v2[4], v2[182]] == [1, 1, 2, 2])
    }

    /// The annotated hex of FORMAT.md §2.6 is exactly the bytes of the current version's example.
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
        #expect(parsed == (try Self.load(Self.exampleFile(Self.current))))
    }

    // MARK: - versions

    /// Rewrites the version in header and trailer (and the header CRC) of a segment.
    static func relabel(_ bytes: [UInt8], header: UInt16, trailer: UInt16) -> [UInt8] {
        var b = bytes
        b[4] = UInt8(truncatingIfNeeded: header)
        b[5] = UInt8(truncatingIfNeeded: header >> 8)
        let crc = CRC32C.checksum(Array(b[0..<8]))
        for i in 0..<4 { b[8 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        b[b.count - 8] = UInt8(truncatingIfNeeded: trailer)
        b[b.count - 7] = UInt8(truncatingIfNeeded: trailer >> 8)
        return b
    }

    /// Time mode 3 exists from version 2 on: the v2 golden segment relabelled as version 1
    /// opens and decodes its mode 1/2 chunks, and every mode 3 block is rejected with an error
    /// naming the file and the block's offset.
    @Test func runsModeInVersion1SegmentIsRejected() throws {
        let v2 = try Self.load(Self.segmentFile(2))
        let r = try SegmentReader(source: InMemorySegmentSource(Self.relabel(v2, header: 1, trailer: 1)), path: "relabelled.tseg")
        #expect(r.version == 1)
        var d = DecodedChunk(measurement: r.footer.measurement)
        var rejected: [String] = []
        for v in r.footer.vehicles {
            for c in v.chunks {
                let mode = try Self.rawBlock(v2, c.blocks[0])[0]
                do {
                    try r.decode(c, into: &d)
                    #expect(mode != 3, "mode 3 decoded in a version 1 segment (\(v.vehicle))")
                } catch let e as SegmentError {
                    #expect(mode == 3, "\(e)")
                    #expect(e.path == "relabelled.tseg")
                    #expect(e.offset == c.blocks[0].offset)
                    #expect(e.kind == .malformedBlock(column: "time"))
                    rejected.append(v.vehicle)
                }
            }
        }
        #expect(rejected == ["truck-01", "zug-4"])
    }

    /// Header and trailer must carry the same known version.
    @Test(arguments: [(UInt16(1), UInt16(2)), (2, 1), (3, 2), (4, 4), (0, 0), (0x0102, 0x0102)])
    func unknownOrMismatchedVersionsAreRejected(header: UInt16, trailer: UInt16) throws {
        let bytes = Self.relabel(try Self.load(Self.segmentFile(2)), header: header, trailer: trailer)
        #expect(throws: SegmentError.self) {
            _ = try SegmentReader(source: InMemorySegmentSource(bytes), path: "bad-version.tseg")
        }
    }
}
