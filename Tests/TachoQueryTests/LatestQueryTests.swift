import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

@Suite struct LatestQueryTests {
    /// The reference: per vehicle, the unexpired status row with the greatest time ≤ at.
    static func expected(_ m: Model, vehicles: Set<ByteString>?, at: Int64?) -> [LatestRow] {
        var best: [ByteString: StatusRow] = [:]
        for r in m.statusRows() where (vehicles?.contains(bytesOf: r.vehicle) ?? true) && r.time <= (at ?? .max) {
            if let b = best[ByteString(r.vehicle)], b.time > r.time { continue }
            best[ByteString(r.vehicle)] = r
        }
        return best.values.sorted { ByteString($0.vehicle) < ByteString($1.vehicle) }.map { LatestRow(vehicle: $0.vehicle, time: $0.time, status: $0.status) }
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func latestAndLatestAtMatchModel(seed: UInt64) throws {
        try Fixture.twoPhases(seed: seed, negativeTimes: seed == 4, rngSeed: seed &* 101) { f, snap, rng throws in
            #expect(try LatestQuery().run(on: snap) == Self.expected(f.model, vehicles: nil, at: nil))
            let statusTimes = f.model.statuses.keys.map(\.time)
            var ats: [Int64] = [.min, .max, (statusTimes.min() ?? 0) - 1, statusTimes.min() ?? 0, statusTimes.max() ?? 0]
            for _ in 0..<25 {
                ats.append(statusTimes.randomElement(using: &rng)!)  // exact row times
                ats.append(f.randomTime(&rng))
            }
            for at in ats {
                let vs = f.randomVehicles(&rng)
                #expect(try LatestQuery(vehicles: vs, at: at).run(on: snap) == Self.expected(f.model, vehicles: vs, at: at),
                        "at \(at)")
            }
            for v in f.vehicles + ["nope"] {
                let want = Self.expected(f.model, vehicles: [ByteString(v)], at: nil).first
                #expect(try LatestQuery.latest(of: v, in: snap) == want)
                let at = f.randomTime(&rng)
                #expect(try LatestQuery.latest(of: v, at: at, in: snap) == Self.expected(f.model, vehicles: [ByteString(v)], at: at).first)
            }
        }
    }

    /// A late, older status never moves latest back; as of an earlier time it is visible.
    @Test func lateOlderStatusOnlyShowsAsOfItsTime() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quiet())
        var b = RowBatch(.status)
        b.append(vehicle: "a", time: 2000, [.string("accident")])
        try w.append(b)
        try w.commit()
        var late = RowBatch(.status)
        late.append(vehicle: "a", time: 1000, [.string("driving")])
        late.append(vehicle: "a", time: 2000, [.string("parking")])  // re-delivery replaces
        try w.append(late)
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path)
        #expect(try LatestQuery().run(on: snap) == [LatestRow(vehicle: "a", time: 2000, status: "parking")])
        #expect(try LatestQuery(at: 1999).run(on: snap) == [LatestRow(vehicle: "a", time: 1000, status: "driving")])
        #expect(try LatestQuery(at: 2000).run(on: snap) == [LatestRow(vehicle: "a", time: 2000, status: "parking")])
        #expect(try LatestQuery(at: 999).run(on: snap).isEmpty)
    }

    /// A vehicle whose every status row is older than the retention watermark has no latest
    /// status, now or as of any time; the other vehicles are unaffected.
    @Test func expiredVehiclesHaveNoLatestStatus() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quiet())
        var b = RowBatch(.status)
        b.append(vehicle: "old", time: 1000, [.string("parking")])
        b.append(vehicle: "new", time: 1000, [.string("driving")])
        b.append(vehicle: "new", time: 5000, [.string("accident")])
        try w.append(b)
        try w.commit()
        var m = w.manifest
        m.watermarks = [Measurement.status.id: 3000]
        try w.switchManifest(m)
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: quiet())
        #expect(try LatestQuery().run(on: snap) == [LatestRow(vehicle: "new", time: 5000, status: "accident")])
        #expect(try LatestQuery.latest(of: "old", in: snap) == nil)
        #expect(try LatestQuery(at: 4000).run(on: snap).isEmpty)
        #expect(try LatestQuery(at: 9000).run(on: snap) == [LatestRow(vehicle: "new", time: 5000, status: "accident")])
    }
}
