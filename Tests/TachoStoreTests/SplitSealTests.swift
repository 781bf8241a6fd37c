import Testing
import TachoFormat
import TachoTestSupport
@testable import TachoStore

/// `StoreWriter.sealBody` encodes a large partition's vehicles on two threads: the segment
/// must be byte for byte the one a single thread writes, with the same rows dropped.
@Suite struct SplitSealTests {
    /// Random detections of one partition: `vehicles` vehicles (the first holding `skew` times
    /// the others' share), times with repeats, repeated identities within and across
    /// sources, vehicles interleaved in arrival order.
    static func batches(rows: Int, vehicles: Int, skew: Int, seed: UInt64) -> [RowBatch] {
        var rng = SplitMix64(seed: seed)
        let kinds = ["cars", "trucks", "pedestrians", "bicycles", "animals", "obstacles", "motorcycles", "e\u{301}"]
        let ids = (0..<vehicles).map { "veh-\(String($0 * 7919 % 1000, radix: 16))-\($0)" }
        var out: [RowBatch] = []
        var left = rows
        var source: Int32 = 0
        while left > 0 {
            let n = min(left, Int.random(in: 5_000...40_000, using: &rng))
            var b = RowBatch(.detections, capacity: n)
            b.source = source
            for _ in 0..<n {
                let pick = Int.random(in: 0..<(vehicles + skew - 1), using: &rng)
                let v = pick < skew ? 0 : pick - skew + 1
                // About 20 events per vehicle-second: many rows share a time, some an identity.
                let t = 1_719_792_000_000_000 + Int64.random(in: 0..<Int64(max(1, n / (20 * vehicles))), using: &rng) * 1_000_000
                b.append(
                    vehicle: ids[v], time: t,
                    [.string(kinds.randomElement(using: &rng)!), .int(Int64.random(in: -3...200, using: &rng))])
            }
            out.append(b)
            left -= n
            source += 1
        }
        return out
    }

    static func seal(_ batches: [RowBatch], split: Bool, store: String) throws -> SealedRows {
        let w = try StoreWriter(path: store, options: smallOptions())
        defer { w.close() }
        var p = w.sealParameters
        p.splitSeal = split
        p.bufferBytes = 1 << 30  // one segment: the split is what is under test, not spilling
        var b = batches
        return try StoreWriter.seal(&b, p)
    }

    @Test(arguments: [(60_000, 37, 1, UInt64(1)), (90_000, 2, 9, 2), (45_000, 5, 40, 3), (33_000, 120, 1, 4), (50_000, 1, 1, 5)])
    func twoThreadsWriteTheBytesOneThreadWrites(rows: Int, vehicles: Int, skew: Int, seed: UInt64) throws {
        let input = Self.batches(rows: rows, vehicles: vehicles, skew: skew, seed: seed)
        let a = TempDir(), b = TempDir()
        let one = try Self.seal(input, split: false, store: a.path)
        let two = try Self.seal(input, split: true, store: b.path)
        #expect(one.bodies.count == 1)
        #expect(two.bodies.count == one.bodies.count)
        for (x, y) in zip(one.bodies, two.bodies) {
            #expect(x.bytes == y.bytes)
            #expect(x.tail(seq: 7).bytes == y.tail(seq: 7).bytes)
            #expect(x.rowCount == y.rowCount)
        }
        #expect(one.superseded == two.superseded)
        #expect(one.superseded.total > 0)  // the data does repeat identities
        #expect(one.rowCount == rows)
    }

    /// The cut falls where about half of the rows are behind, and never leaves a half empty.
    @Test func theCutSplitsTheRowsInTwo() throws {
        let input = Self.batches(rows: 60_000, vehicles: 37, skew: 1, seed: 9)
        var buffers = RowBuffers()
        let d = TempDir()
        let w = try StoreWriter(path: d.path, options: smallOptions())
        defer { w.close() }
        for batch in input { _ = buffers.add(batch, budget: 1 << 30, in: w.sealParameters.manifest) }
        let strings = buffers.strings
        guard let (_, buf) = buffers.takeFirst() else {
            Issue.record("no buffer")
            return
        }
        let v = StoreWriter.vehicleOrder(buf, strings: strings)
        let cut = try #require(StoreWriter.splitPoint(v))
        #expect(cut > 0 && cut < v.distinct.count)
        let behind = v.starts[cut]
        #expect(abs(behind - buf.count / 2) < buf.count / 10)
        #expect(StoreWriter.splitPoint(StoreWriter.VehicleOrder(order: [0, 1], starts: [0, 2], distinct: [3])) == nil)
    }
}
