import Foundation
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

@Suite struct StoreRoundTripTests {
    static let types = ["pedestrians", "cars", "signs", "trucks", "obstacles"]
    static let statuses = ["driving", "parking", "accident"]

    /// Random multi-vehicle data with out-of-order times, duplicate identities and many
    /// partitions, in several commits with spills, round-trips against a reference model,
    /// before and after reopening.
    @Test(arguments: [1, 2, 3, 4])
    func randomDataMatchesReferenceModel(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        let dir = TempDir()
        let opts = smallOptions(bufferBytes: Int.random(in: 20_000...400_000, using: &rng), partitionHours: [1, 6, 24][Int(seed) % 3])
        var model: [DetKey: Int64] = [:]
        var latest: [String: (Int64, String)] = [:]
        let vehicles = (0..<Int.random(in: 1...12, using: &rng)).map { "v\($0)-\(String($0 * 7919, radix: 16))" }
        let base: Int64 = 1_720_000_000_000_000
        do {
            let w = try StoreWriter(path: dir.path, options: opts)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                for _ in 0..<Int.random(in: 1...5, using: &rng) {
                    var det = RowBatch(.detections)
                    var st = RowBatch(.status)
                    for _ in 0..<Int.random(in: 1...3000, using: &rng) {
                        let v = vehicles.randomElement(using: &rng)!
                        // Coarse times make duplicate identities common; spread over ~3 days.
                        let t = base + Int64.random(in: 0..<3 * 86_400, using: &rng) / 60 * 60_000_000
                            + Int64.random(in: 0..<3, using: &rng) * 1000
                        let ty = Self.types.randomElement(using: &rng)!
                        let val = Int64.random(in: 0...9, using: &rng)
                        det.append(vehicle: v, time: t, [.string(ty), .int(val)])
                        model[DetKey(vehicle: v, time: t, type: ty)] = val
                        if Bool.random(using: &rng) {
                            let s = Self.statuses.randomElement(using: &rng)!
                            st.append(vehicle: v, time: t, [.string(s)])
                            if let old = latest[v], old.0 > t { } else { latest[v] = (t, s) }
                        }
                    }
                    try w.append(det)
                    try w.append(st)
                }
                try w.commit()
            }
            let expected = model.map { DetRow(vehicle: $0.key.vehicle.string, time: $0.key.time, type: $0.key.type.string, value: $0.value) }.sorted()
            #expect(try scanDetections(w.snapshot()) == expected)
            w.close()
        }
        let expected = model.map { DetRow(vehicle: $0.key.vehicle.string, time: $0.key.time, type: $0.key.type.string, value: $0.value) }.sorted()
        let snap = try Snapshot.open(path: dir.path, options: opts)
        #expect(try scanDetections(snap) == expected)
        // Range and vehicle filters.
        for _ in 0..<20 {
            let a = base + Int64.random(in: 0..<3 * 86_400_000_000, using: &rng)
            let b = a + Int64.random(in: 0..<86_400_000_000, using: &rng)
            let vs = Set(bytesOf: vehicles.filter { _ in Bool.random(using: &rng) })
            let want = expected.filter { vs.contains(bytesOf: $0.vehicle) && $0.time >= a && $0.time < b }
            #expect(try scanDetections(snap, vehicles: vs, from: a, to: b) == want)
        }
        let idx = try snap.latestIndex()
        #expect(idx.entries.count == latest.count)
        for (v, (t, s)) in latest {
            #expect(idx.entry(v)?.time == t)
            #expect(idx.entry(v)?.status == s)
        }
        // The index rebuilt from footers agrees with the persisted one.
        let rebuilt = try rebuildLatestIndex(manifest: snap.manifest) { try snap.reader($0) }
        #expect(rebuilt.entries.mapValues { [$0.status] } == idx.entries.mapValues { [$0.status] })
        #expect(rebuilt.entries.mapValues(\.time) == idx.entries.mapValues(\.time))
    }

    @Test func lateOlderStatusNeverRegressesLatest() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: smallOptions())
        var b = RowBatch(.status)
        b.append(vehicle: "v1", time: 2_000_000, [.string("accident")])
        try w.append(b)
        try w.commit()
        var late = RowBatch(.status)
        late.append(vehicle: "v1", time: 1_000_000, [.string("driving")])
        try w.append(late)
        try w.commit()
        #expect(try w.snapshot().latestIndex().entries["v1"]?.status == "accident")
        // Same identity re-delivered with another value: last ingested wins.
        var again = RowBatch(.status)
        again.append(vehicle: "v1", time: 2_000_000, [.string("parking")])
        try w.append(again)
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path)
        #expect(try snap.latestIndex().entries["v1"]?.status == "parking")
    }

    @Test func uncommittedRowsAreInvisibleAndAbortRemovesSpills() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: smallOptions(bufferBytes: 1000))
        var b = RowBatch(.detections)
        for i in 0..<500 { b.append(vehicle: "v", time: Int64(i) * 1000, [.string("cars"), .int(1)]) }
        try w.append(b)  // spills: the buffer limit is tiny
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments")).isEmpty)
        #expect(try scanDetections(Snapshot.open(path: dir.path)).isEmpty)
        w.abort()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments").isEmpty)
        w.close()
    }

    @Test func secondWriterIsRefusedWithHolderPid() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: smallOptions())
        #expect {
            _ = try StoreWriter(path: dir.path, options: smallOptions())
        } throws: { e in
            let s = "\(e)"
            return s.contains("pid \(ProcessInfo.processInfo.processIdentifier)")
        }
        w.close()
        _ = try StoreWriter(path: dir.path, options: smallOptions())
    }

    @Test func missingLatestIndexIsRebuiltFromFooters() throws {
        let dir = TempDir()
        do {
            let w = try StoreWriter(path: dir.path, options: smallOptions())
            var b = RowBatch(.status)
            b.append(vehicle: "a", time: 5, [.string("driving")])
            b.append(vehicle: "a", time: 9, [.string("parking")])
            b.append(vehicle: "b", time: 3, [.string("accident")])
            try w.append(b)
            try w.commit()
            w.close()
        }
        let m = try Snapshot.open(path: dir.path).manifest
        try FileManager.default.removeItem(atPath: dir.path + "/index/" + m.latestIndex)
        let idx = try Snapshot.open(path: dir.path).latestIndex()
        #expect(idx.entries["a"]?.status == "parking")
        #expect(idx.entries["b"]?.status == "accident")
        // A writer opening the store rebuilds it as well, and persists it on the next commit.
        let w = try StoreWriter(path: dir.path, options: smallOptions())
        #expect(w.latest.entries["a"]?.time == 9)
        w.close()
    }
}
