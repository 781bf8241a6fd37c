import Testing
@testable import TachoFormat

@Suite struct CorruptionTests {
    /// A segment with three vehicles, two chunks for one of them, all column types in use.
    static func sampleSegment() throws -> [UInt8] {
        var opts = SegmentBuilder.Options()
        opts.chunkRows = 4
        var b = SegmentBuilder(measurement: .detections, partitionStart: 0, seq: 7, options: opts)
        let dict = ["cars", "pedestrians", "signs", "v1", "v2", "v3"]
        var out: [UInt8] = []
        for (k, v) in ["v1", "v2", "v3"].enumerated() {
            let n = 3 + 3 * k
            let times = (0..<n).map { Int64($0 / 2) * 1_500_000 + Int64(k) }
            var types = ColumnValues(type: .string)
            var values = ColumnValues(type: .int64)
            for i in 0..<n {
                types.ids.append(UInt32(i % 2 == 0 ? 0 : 1 + (i % 4 == 1 ? 1 : 0)))
                values.ints.append(Int64(i * 7 % 5))
            }
            try b.appendVehicle(v, times: times, columns: [types, values], range: 0..<n, dictionary: dict)
            out += b.takePending()
        }
        _ = b.finish()
        out += b.takePending()
        return out
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
    @Test func everySingleByteFlipIsDetected() throws {
        let bytes = try Self.sampleSegment()
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
    @Test func everyTruncationIsDetected() throws {
        let bytes = try Self.sampleSegment()
        for n in 0..<bytes.count {
            #expect(throws: SegmentError.self) { _ = try Self.decodeAll(Array(bytes[0..<n])) }
        }
    }
}
