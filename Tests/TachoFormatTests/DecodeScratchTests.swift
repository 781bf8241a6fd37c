import Testing
@testable import TachoFormat

/// Readers take their zstd context and buffers from a pool (`DecodeScratch`): a reader made
/// after another one was dropped must read its own segment's bytes, never the window the
/// scratch held for the previous one.
@Suite struct DecodeScratchTests {
    /// A segment of one vehicle, several chunks of scattered `value`s from `base` on: a scan
    /// reads ahead, so a scratch given back holds kilobytes of window that would cover the
    /// next segment's first blocks if it were not emptied.
    static func segment(base: Int64, rows n: Int) throws -> (bytes: [UInt8], values: [Int64]) {
        let m = Measurement(id: 9, name: "probe", columns: [ColumnSpec("value", .int64)])
        var b = SegmentBuilder(measurement: m, partitionStart: 0, seq: 1)
        var col = ColumnValues(type: .int64)
        col.ints = (0..<n).map { base + (Int64($0) &* 2_654_435_761) % 1_000_003 }
        let times = (0..<n).map { Int64($0) * 1_000_000 }
        try b.appendVehicle("v", times: times, columns: [col], range: 0..<n, dictionary: [""])
        var bytes = b.takePending()
        _ = b.finish()
        bytes += b.takePending()
        return (bytes, col.ints)
    }

    @Test func aReaderMadeAfterAnotherReadsItsOwnSegment() throws {
        let a = try Self.segment(base: 1_000, rows: 60_000)
        let b = try Self.segment(base: 9_000_000, rows: 60_000)
        #expect(a.bytes.count > 32 << 10)
        for round in 0..<20 {
            let (seg, path) = round % 2 == 0 ? (a, "a.tseg") : (b, "b.tseg")
            let r = try SegmentReader(source: InMemorySegmentSource(seg.bytes), path: path)
            var got: [Int64] = []
            for chunk in r.footer.vehicles.flatMap(\.chunks) {
                var d = DecodedChunk(measurement: r.schema)
                try r.decode(chunk, into: &d)
                got += d.columns[0].values.ints
            }
            #expect(got == seg.values, "round \(round): \(path)")
        }
    }

    @Test func theLastReaderReturnsItsScratchToThePool() throws {
        let a = try Self.segment(base: 5, rows: 3_000)
        var first: ObjectIdentifier?
        do {
            let r = try SegmentReader(source: InMemorySegmentSource(a.bytes), path: "a.tseg")
            var d = DecodedChunk(measurement: r.schema)
            if let c = r.footer.vehicles.first?.chunks.first { try r.decode(c, into: &d) }
            first = r.scratchIdentity
        }
        // Other tests' readers may take it meanwhile; one of a few new readers gets it back.
        var seen = false
        for _ in 0..<DecodeScratch.kept {
            let r = try SegmentReader(source: InMemorySegmentSource(a.bytes), path: "a.tseg")
            if r.scratchIdentity == first { seen = true; break }
        }
        #expect(seen)
    }
}
