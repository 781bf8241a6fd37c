import Foundation
import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

@Suite struct StoreSummaryTests {
    static func expected(_ m: Model) -> [VehicleSummary] {
        var out: [ByteString: VehicleSummary] = [:]
        func touch(_ v: String, _ t: Int64, det: Bool) {
            var s = out[ByteString(v)] ?? VehicleSummary(vehicle: v, firstTime: t, lastTime: t, detectionRows: 0, statusRows: 0)
            s.firstTime = min(s.firstTime, t)
            s.lastTime = max(s.lastTime, t)
            if det { s.detectionRows += 1 } else { s.statusRows += 1 }
            out[ByteString(v)] = s
        }
        for r in m.detectionRows() { touch(r.vehicle, r.time, det: true) }
        for r in m.statusRows() { touch(r.vehicle, r.time, det: false) }
        return out.values.sorted { ByteString($0.vehicle) < ByteString($1.vehicle) }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func vehiclesMatchModel(seed: UInt64) throws {
        try Fixture.twoPhases(seed: seed, negativeTimes: seed == 2, rngSeed: seed &* 13) { f, snap, rng throws in
            let want = Self.expected(f.model)
            #expect(try VehicleSummary.compute(on: snap) == want)
            let vs = f.randomVehicles(&rng)
            #expect(try VehicleSummary.compute(on: snap, vehicles: vs) == want.filter { vs?.contains(bytesOf: $0.vehicle) ?? true })
            let stats = try StoreStats.compute(on: snap, exactRows: true)
            #expect(stats.rows == f.model.detectionRows().count + f.model.statusRows().count)
            #expect(stats.measurements.map(\.rows) == [f.model.detectionRows().count, f.model.statusRows().count])
        }
    }

    @Test func statsCountFilesOnDisk() throws {
        var f = try Fixture(seed: 3)
        do {  // a commit that records an ingest ledger file as well
            let w = try StoreWriter(path: f.dir.path, options: f.options)
            var b = RowBatch(.status)
            b.append(vehicle: "v0", time: f.base, [.string("parking")])
            try w.append(b)
            _ = try w.commit(ledger: [LedgerEntry(name: "x.json", size: 1, hash: ContentHash(hi: 1, lo: 2), rows: 1, ingestedAt: 0)])
            w.close()
            f.model.statuses[StatusKey(vehicle: "v0", time: f.base)] = "parking"
        }
        let snap = try f.snapshot()
        #expect(!snap.manifest.ledgers.isEmpty)
        let s = try StoreStats.compute(on: snap)
        let fm = FileManager.default
        func size(_ p: String) -> UInt64 { ((try? fm.attributesOfItem(atPath: p))?[.size] as? NSNumber)?.uint64Value ?? 0 }
        let segDir = f.dir.path + "/segments"
        let segFiles = try fm.contentsOfDirectory(atPath: segDir)
        #expect(s.segments == segFiles.count)
        #expect(s.segmentBytes == segFiles.reduce(0) { $0 + size(segDir + "/" + $1) })
        let idxDir = f.dir.path + "/index"
        let meta = size(f.dir.path + "/MANIFEST") + (try fm.contentsOfDirectory(atPath: idxDir)).reduce(0) { $0 + size(idxDir + "/" + $1) }
        #expect(s.metadataBytes == meta)
        #expect(s.totalBytes == s.segmentBytes + meta)
        let partitions = Set(f.model.detections.keys.map { Self.partition($0.time) } + f.model.statuses.keys.map { Self.partition($0.time) })
        #expect(s.partitions == partitions.count)
        #expect(s.storedRows >= f.model.detections.count + f.model.statuses.count)
        #expect(s.rows == nil)
        #expect(abs(s.bytesPerRow - Double(s.totalBytes) / Double(s.storedRows)) < 1e-9)
        #expect(s.measurements.map(\.name) == ["detections", "status"])
    }

    static func partition(_ t: Int64) -> Int64 { t >= 0 ? t / hour : -((-t + hour - 1) / hour) }
}
