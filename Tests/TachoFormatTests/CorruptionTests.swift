import Testing
@testable import TachoFormat

@Suite struct CorruptionTests {
    enum Sample: String, CaseIterable, Sendable {
        /// Chunks of 4 rows: time modes 1 and 2.
        case smallChunks
        /// Chunks of 16 rows of events sharing a time: time mode 3 (runs).
        case runs
        /// Version 3's modes (FORMAT.md §2.7): events of sets of types, an offline gap and one
        /// huge count per vehicle: time mode 4, string mode 3, int mode 3.
        case patched
    }

    /// A segment with three vehicles, several chunks for some of them, all column types in use.
    static func sampleSegment(_ sample: Sample = .smallChunks) throws -> [UInt8] {
        if sample == .patched { return try patchedSegment() }
        var opts = SegmentBuilder.Options()
        opts.chunkRows = sample == .runs ? 16 : 4
        var b = SegmentBuilder(measurement: .detections, partitionStart: 0, seq: 7, options: opts)
        let dict = ["cars", "pedestrians", "signs", "v1", "v2", "v3"]
        var out: [UInt8] = []
        for (k, v) in ["v1", "v2", "v3"].enumerated() {
            let n = sample == .runs ? 10 + 12 * k : 3 + 3 * k
            let perEvent = sample == .runs ? 3 : 2
            let times = (0..<n).map { Int64($0 / perEvent) * 1_500_000 + Int64(k) }
            var types = ColumnValues(type: .string)
            var values = ColumnValues(type: .int64)
            for i in 0..<n {
                types.ids.append(UInt32(sample == .runs ? i % 3 : i % 2 == 0 ? 0 : 1 + (i % 4 == 1 ? 1 : 0)))
                values.ints.append(Int64(i * 7 % 5))
            }
            try b.appendVehicle(v, times: times, columns: [types, values], range: 0..<n, dictionary: dict)
            out += b.takePending()
        }
        _ = b.finish()
        out += b.takePending()
        return out
    }

    /// Three vehicles of 8 events each (types a sorted subset of 4), 10 minutes offline after
    /// the 4th event, the 6th row's count 10^6: one chunk each.
    static func patchedSegment() throws -> [UInt8] {
        var b = SegmentBuilder(measurement: .detections, partitionStart: 0, seq: 7)
        let dict = ["cars", "pedestrians", "signs", "trucks"]
        let events: [[UInt32]] = [[0, 2], [1], [0, 1, 3], [2, 3], [0], [1, 2, 3], [3], [0, 2]]
        var out: [UInt8] = []
        for (k, v) in ["v1", "v2", "v3"].enumerated() {
            var times: [Int64] = []
            var types = ColumnValues(type: .string), values = ColumnValues(type: .int64)
            for (e, set) in events.enumerated() {
                for t in set {
                    times.append(Int64(e) * 1_500_000 + (e >= 4 ? 600_000_000_000 : 0) + Int64(k))
                    types.ids.append(t)
                    values.ints.append(types.ids.count == 6 ? 1_000_000 : Int64(types.ids.count % 3))
                }
            }
            try b.appendVehicle(v, times: times, columns: [types, values], range: 0..<times.count, dictionary: dict)
            out += b.takePending()
        }
        _ = b.finish()
        out += b.takePending()
        return out
    }

    @Test func patchedSampleUsesTheVersion3Modes() throws {
        let bytes = try Self.sampleSegment(.patched)
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        for v in r.footer.vehicles {
            let c = try #require(v.chunks.first)
            #expect(v.chunks.count == 1 && c.rowCount == 15)
            for ref in c.blocks { #expect(bytes[Int(ref.offset) + Int(ref.length)] == 0) }  // raw
            let block = { (i: Int) in Array(bytes[Int(c.blocks[i].offset)..<(Int(c.blocks[i].offset) + Int(c.blocks[i].length))]) }
            #expect(block(0)[0] == 4)  // time: patched runs
            #expect(block(2)[0] == 3)  // value: patched frame of reference
            let kinds = block(1)  // dictionary of 4 sorted entries, then the mode
            #expect(Array(kinds[0..<6]) == [0x04, 0x04, 0x63, 0x61, 0x72, 0x73])  // 4 entries, "cars"
            #expect(kinds[1 + 5 + 12 + 6 + 7] == 3)  // sets
        }
        let rows = try Self.decodeAll(bytes)
        #expect(rows.count == 45)
        #expect(rows[5] == [3_000_000, 3, 1_000_000])
        #expect(rows[6] == [4_500_000, 2, 1])
        #expect(rows[7] == [4_500_000, 3, 2])
        #expect(rows[8] == [600_006_000_000, 0, 0])
    }

    /// A version 3 block whose checksum is valid but which breaks a §2.7 rule is reported as a
    /// SegmentError naming the file, the block's offset and its column.
    @Test(arguments: ["time m 0", "time gap exception past end", "dictionary unsorted", "rank too large", "int width 65", "int exceptions above n"])
    func malformedVersion3BlockIsReportedWithOffset(damage: String) throws {
        var bytes = try Self.sampleSegment(.patched)
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        let chunk = try #require(r.footer.vehicles.first?.chunks.first)
        let column = damage.hasPrefix("time") ? 0 : damage.hasPrefix("int") ? 2 : 1
        let ref = chunk.blocks[column]
        let at = Int(ref.offset), len = Int(ref.length)
        var block = Array(bytes[at..<(at + len)])
        switch damage {
        case "time m 0":
            // mode 4, count 15, first 0, scale 1 500 000 (3 bytes), then m.
            #expect(Array(block[0..<7]) == [0x04, 0x0F, 0x00, 0xE0, 0xC6, 0x5B, 0x08])
            block[6] = 0
        case "time gap exception past end":
            // The last 5 bytes: one exception, skip 3 (index 3 of 7 gaps), high 400 000 (3 bytes).
            #expect(block[len - 5] == 0x01 && block[len - 4] == 0x03)
            block[len - 4] = 7
        case "dictionary unsorted": block[2] = 0x7A  // "cars" → "zars", after "trucks"
        case "rank too large": block[len - 1] = 0xFF
        case "int width 65": block[2] = 65  // mode 3, base 0, width
        case "int exceptions above n":
            // The last 5 bytes: one exception, skip 5, high 250 000 (3 bytes); 16 exceptions > 15 rows.
            #expect(Array(block[(len - 5)..<(len - 3)]) == [0x01, 0x05])
            block[len - 5] = 16
        default: Issue.record("unknown damage \(damage)")
        }
        bytes.replaceSubrange(at..<(at + len), with: block)
        let crc = CRC32C.checksum(Array(bytes[at...(at + len)]))
        for i in 0..<4 { bytes[at + len + 1 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        let damaged = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        var d = DecodedChunk(measurement: damaged.footer.measurement)
        do {
            try damaged.decode(chunk, into: &d)
            Issue.record("\(damage) decoded")
        } catch let e as SegmentError {
            #expect(e.path == "sample.tseg")
            #expect(e.offset == ref.offset)
            #expect(e.kind == .malformedBlock(column: ["time", "object_type", "value"][column]))
        }
    }

    static func decodeAll(_ bytes: [UInt8]) throws -> [[Int64]] {
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        var rows: [[Int64]] = []
        var c = DecodedChunk(measurement: r.footer.measurement)
        for v in r.footer.vehicles {
            for meta in v.chunks {
                try r.decode(meta, into: &c)
                for i in 0..<c.count { rows.append([c.times[i], Int64(c.columns[0].ids[i]), c.columns[1].ints[i]]) }
            }
        }
        return rows
    }

    /// The time modes of every chunk of `bytes` (all its time blocks are small, so raw).
    static func timeModes(_ bytes: [UInt8]) throws -> [UInt8] {
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        return r.footer.vehicles.flatMap { $0.chunks.map { c in
            #expect(bytes[Int(c.blocks[0].offset) + Int(c.blocks[0].length)] == 0)
            return bytes[Int(c.blocks[0].offset)]
        } }
    }

    @Test func samplesCoverEveryTimeMode() throws {
        let small = try Self.timeModes(Self.sampleSegment(.smallChunks))
        let runs = try Self.timeModes(Self.sampleSegment(.runs))
        #expect(small == [1, 1, 1, 1, 1, 1], "\(small)")
        #expect(runs == [3, 3, 1, 3, 3, 1], "\(runs)")  // 2- and 6-row tails stay mode 1
        let r = try SegmentReader(source: InMemorySegmentSource(Self.sampleSegment(.runs)), path: "sample.tseg")
        #expect(r.version == FormatConstants.segmentVersion)
        #expect(r.footer.vehicles.map(\.rowCount) == [10, 22, 34])
        let rows = try Self.decodeAll(Self.sampleSegment(.runs))
        #expect(rows.count == 66)
        #expect(rows.prefix(4).map { $0[0] } == [0, 0, 0, 1_500_000])
    }

    @Test func roundTripsAndCoversEveryRegion() throws {
        let bytes = try Self.sampleSegment()
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        #expect(r.footer.vehicles.map(\.vehicle) == ["v1", "v2", "v3"])
        #expect(r.footer.vehicles.map(\.rowCount) == [3, 6, 9])
        #expect(r.footer.vehicles[2].chunks.count == 3)
        #expect(r.footer.seq == 7)
        #expect(try Self.decodeAll(bytes).count == 18)
    }

    /// Flipping any single byte anywhere in the file — header, every column block, footer,
    /// trailer — is reported as an error naming the file; never a crash or a wrong row.
    @Test(arguments: Sample.allCases)
    func everySingleByteFlipIsDetected(sample: Sample) throws {
        let bytes = try Self.sampleSegment(sample)
        for i in bytes.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var damaged = bytes
                damaged[i] ^= mask
                do {
                    _ = try Self.decodeAll(damaged)
                    Issue.record("flip of bit \(mask) at offset \(i) of \(bytes.count) went unnoticed")
                } catch let e as SegmentError {
                    #expect(e.path == "sample.tseg")
                    #expect(e.offset < UInt64(bytes.count))
                }
            }
        }
    }

    /// Truncated files are errors too.
    @Test(arguments: Sample.allCases)
    func everyTruncationIsDetected(sample: Sample) throws {
        let bytes = try Self.sampleSegment(sample)
        for n in 0..<bytes.count {
            #expect(throws: SegmentError.self) { _ = try Self.decodeAll(Array(bytes[0..<n])) }
        }
    }

    /// A mode 3 time block whose checksum is valid but whose contents break a §2.3.1 rule is
    /// reported as a SegmentError naming the file and the block's offset. (Edits that change
    /// the block's size, trailing bytes and truncation, are covered at the codec level in
    /// `CodecTests.timeCodecRunsMalformedBlocksAreRejected`.)
    @Test(arguments: [
        "m 0", "m above n", "len_base 0", "len_width 65", "lens past end", "run sum short", "run sum long",
        "gap_base 0", "gap_width 65",
    ])
    func malformedRunsBlockIsReportedWithOffset(damage: String) throws {
        var bytes = try Self.sampleSegment(.runs)
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        let chunk = try #require(r.footer.vehicles.first?.chunks.first)  // v1: 10 rows
        let ref = chunk.blocks[0]
        let at = Int(ref.offset), len = Int(ref.length)
        var block = Array(bytes[at..<(at + len)])
        // mode 3, count 10, first 0, scale 1 500 000, m 4, len_base 1, len_width 2,
        // lengths 2 2 2 0 (+1: runs 3 3 3 1), gap_base 1, gap_width 0 (every gap 1 × scale).
        #expect(block == [0x03, 0x0A, 0x00, 0xE0, 0xC6, 0x5B, 0x04, 0x01, 0x02, 0x2A, 0x01, 0x00])
        switch damage {
        case "m 0": block[6] = 0
        case "m above n": block[6] = 11
        case "len_base 0": block[7] = 0
        case "len_width 65": block[8] = 65
        case "lens past end": block[8] = 8  // 4 bytes of lengths, 3 left
        case "run sum short": block[9] = 0x0A  // lengths 2 2 0 0: runs 3 3 1 1, sum 8
        case "run sum long": block[9] = 0xEA  // lengths 2 2 2 3: runs 3 3 3 4, sum 13
        case "gap_base 0": block[10] = 0
        case "gap_width 65": block[11] = 65
        default: Issue.record("unknown damage \(damage)")
        }
        bytes.replaceSubrange(at..<(at + len), with: block)
        let crc = CRC32C.checksum(Array(bytes[at...(at + len)]))  // payload ‖ encoding byte
        for i in 0..<4 { bytes[at + len + 1 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        let damaged = try SegmentReader(source: InMemorySegmentSource(bytes), path: "sample.tseg")
        var d = DecodedChunk(measurement: damaged.footer.measurement)
        do {
            try damaged.decode(chunk, into: &d)
            Issue.record("\(damage) decoded")
        } catch let e as SegmentError {
            #expect(e.path == "sample.tseg")
            #expect(e.offset == ref.offset)
            #expect(e.kind == .malformedBlock(column: "time"))
        }
    }
}
