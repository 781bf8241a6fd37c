import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

@Suite struct RangeQueryTests {
    /// Random ranges, vehicle sets, type filters and limits against the reference model, read
    /// both row by row and block by block; again after a retention watermark.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func detectionsMatchModel(seed: UInt64) throws {
        try Fixture.twoPhases(seed: seed, negativeTimes: seed == 5, rngSeed: seed &* 31) { f, snap, rng throws in
            let all = f.model.detectionRows()
            #expect(try readAll(RowCursor(snapshot: snap, query: .detections())) == all)
            for _ in 0..<40 {
                let a = Bool.random(using: &rng) ? Int64.min : f.randomTime(&rng)
                let b = Bool.random(using: &rng) ? Int64.max : max(a, f.randomTime(&rng)) + Int64.random(in: 1...hour, using: &rng)
                let vs = f.randomVehicles(&rng)
                let types: Set<ByteString>? = Bool.random(using: &rng)
                    ? nil : Set(bytesOf: Fixture.types.filter { _ in Bool.random(using: &rng) } + ["unknown"])
                let limit: Int? = Bool.random(using: &rng) ? nil : Int.random(in: 0...300, using: &rng)
                var want = all.filter { r in
                    r.time >= a && r.time < b && (vs?.contains(bytesOf: r.vehicle) ?? true) && (types?.contains(bytesOf: r.objectType) ?? true)
                }
                if let limit { want = Array(want.prefix(limit)) }
                let q = RangeQuery.detections(vehicles: vs, from: a, to: b, types: types, limit: limit)
                #expect(try readAll(RowCursor(snapshot: snap, query: q)) == want)
                #expect(try readAllByBlocks(RowCursor(snapshot: snap, query: q)) == want)
            }
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func statusMatchesModel(seed: UInt64) throws {
        let f = try Fixture(seed: seed)
        var rng = SplitMix64(state: seed &* 77)
        let snap = try f.snapshot()
        let all = f.model.statusRows()
        for _ in 0..<30 {
            let a = f.randomTime(&rng)
            let b = a + Int64.random(in: 1...(3 * hour), using: &rng)
            let vs = f.randomVehicles(&rng)
            let sts: Set<ByteString>? = Bool.random(using: &rng) ? nil : [ByteString(Fixture.statuses.randomElement(using: &rng)!)]
            let limit: Int? = Bool.random(using: &rng) ? nil : Int.random(in: 0...50, using: &rng)
            var want = all.filter { r in
                r.time >= a && r.time < b && (vs?.contains(bytesOf: r.vehicle) ?? true) && (sts?.contains(bytesOf: r.status) ?? true)
            }
            if let limit { want = Array(want.prefix(limit)) }
            let c = try RowCursor(snapshot: snap, query: .status(vehicles: vs, from: a, to: b, statuses: sts, limit: limit))
            var got: [StatusRow] = []
            while let r = try c.nextStatus() { got.append(r) }
            #expect(got == want)
        }
    }

    @Test func invalidQueriesAreRefused() throws {
        let f = try Fixture(seed: 9)
        let snap = try f.snapshot()
        #expect(throws: QueryError.self) { try RowCursor(snapshot: snap, query: .detections(from: 10, to: 10)) }
        #expect(throws: QueryError.self) { try RowCursor(snapshot: snap, query: .detections(from: 11, to: 10)) }
        #expect(throws: QueryError.self) { try RowCursor(snapshot: snap, query: .detections(limit: -1)) }
        #expect(throws: QueryError.self) {
            try RowCursor(snapshot: snap, query: RangeQuery(.detections, filters: [ColumnFilter("value", .eq, "x")]))
        }
        // Reading a status cursor as detections is an error, not a crash.
        #expect(throws: QueryError.self) { try RowCursor(snapshot: snap, query: .status()).nextDetection() }
        do {
            _ = try RowCursor(snapshot: snap, query: .detections(from: 10, to: 10))
            Issue.record("expected an error")
        } catch let e as QueryError {
            #expect(e.code == .emptyRange)
            #expect(e.message.contains("from"))
        }
    }

    @Test func emptyStoreAndUnknownVehicleGiveNoRows() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quiet())
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path)
        #expect(try readAll(RowCursor(snapshot: snap, query: .detections())).isEmpty)
        #expect(try readAll(RowCursor(snapshot: snap, query: .detections(vehicles: ["x"]))).isEmpty)
        #expect(try readAll(RowCursor(snapshot: snap, query: .detections(vehicles: []))).isEmpty)
    }
}
