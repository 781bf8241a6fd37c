import Foundation
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

let hourMicros: Int64 = 3_600_000_000
let dayMicros: Int64 = 86_400_000_000
/// 2024-07-01T00:00:00Z.
let july1: Int64 = 1_719_792_000_000_000

/// Commits `commits` batches of random detections (with re-written identities) and status
/// rows over `days` days; returns the writer (open).
func fillStore(_ path: String, commits: Int, rowsPerCommit: Int, days: Int64 = 3, seed: UInt64 = 1,
               options: StoreOptions = smallOptions()) throws -> StoreWriter {
    let w = try StoreWriter(path: path, options: options)
    var rng = SplitMix64(state: seed)
    let types = ["cars", "pedestrians", "signs", "trucks"]
    for c in 0..<commits {
        var det = RowBatch(.detections)
        var st = RowBatch(.status)
        for _ in 0..<rowsPerCommit {
            let v = "veh\(rng.next() % 12)"
            // Coarse times so identities repeat across commits (last writer must win).
            let t = july1 + Int64(rng.next() % UInt64(days * 24 * 60)) * 60_000_000
            det.append(vehicle: v, time: t, [.string(types[Int(rng.next() % 4)]), .int(Int64(rng.next() % 100))])
            if rng.next() % 4 == 0 {
                st.append(vehicle: v, time: t, [.string(["driving", "parking", "accident"][Int(rng.next() % 3)])])
            }
        }
        try w.append(det)
        try w.append(st)
        let entry = LedgerEntry(name: "f\(c).json", size: UInt64(c + 1), hash: ContentHash(hi: seed, lo: UInt64(c)),
                                rows: det.count + st.count, ingestedAt: july1 + Int64(c))
        try w.commit(ledger: [entry])
    }
    return w
}

/// A status row; strings compare by bytes, as the store does (`Identity`).
struct StatusRow: Hashable {
    var vehicle: String
    var time: Int64
    var status: String
    static func == (a: StatusRow, b: StatusRow) -> Bool {
        Identity.equal(a.vehicle, b.vehicle) && a.time == b.time && Identity.equal(a.status, b.status)
    }
    func hash(into h: inout Hasher) { h.combine(ByteString(vehicle)); h.combine(time); h.combine(ByteString(status)) }
}

func scanStatus(_ snap: Snapshot) throws -> [StatusRow] {
    let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(.status))
    var out: [StatusRow] = []
    while let b = try cursor.next() {
        for i in b.range { out.append(StatusRow(vehicle: b.vehicle, time: b.chunk.times[i], status: b.chunk.columns[0].string(at: i))) }
    }
    return out
}

/// Total bytes of every regular file under `paths` (what the disk budget counts).
func diskBytes(_ paths: [String]) -> UInt64 {
    var total: UInt64 = 0
    for root in paths {
        guard let e = FileManager.default.enumerator(atPath: root) else { continue }
        while let rel = e.nextObject() as? String {
            let attrs = try? FileManager.default.attributesOfItem(atPath: root + "/" + rel)
            if attrs?[.type] as? FileAttributeType == .typeRegular { total += (attrs?[.size] as? UInt64) ?? 0 }
        }
    }
    return total
}

func compactOptions(now: Int64 = july1 + 30 * dayMicros) -> CompactionOptions {
    var o = CompactionOptions()
    o.now = now
    return o
}

@Suite struct CompactionTests {
    @Test func compactionKeepsQueryResultsAndMergesSegments() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 40, rowsPerCommit: 300)
        var beforeSnap: Snapshot? = try w.snapshot()
        let det = try scanDetections(#require(beforeSnap))
        let st = try scanStatus(#require(beforeSnap))
        let segsBefore = w.manifest.segments.count
        let partitions = Set(w.manifest.segments.map { "\($0.measurementID)/\($0.partitionStart)" }).count
        #expect(w.manifest.ledgers.count == 40)

        let out = try w.compact(compactOptions())
        #expect(out.tasks.allSatisfy { $0.applied })
        #expect(w.manifest.segments.count == partitions)
        #expect(segsBefore > partitions * 5)
        #expect(w.manifest.ledgers.count == 1)
        #expect(out.tasks.reduce(0) { $0 + $1.supersededRows } > 0)
        #expect(out.tasks.reduce(0) { $0 + $1.expiredRows } == 0)

        let after = try w.snapshot()
        #expect(try scanDetections(after) == det)
        #expect(try scanStatus(after) == st)
        // Each vehicle's rows are contiguous: one entry per vehicle in each footer.
        for s in after.manifest.segments {
            let f = try after.reader(s).footer
            #expect(f.rowCount == s.rowCount)
            #expect(Set(bytesOf: f.vehicles.map(\.vehicle)).count == f.vehicles.count)
        }
        #expect(Verifier.verify(snapshot: after).isClean)
        // Files the manifest no longer names stay for the grace period (readers of the old
        // commit open them on demand), then are gone; the ledger survives a reopen.
        #expect(w.obsoleteFileCount > 0)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments")).isStrictSuperset(of: after.manifest.segments.map(\.name)))
        w.removeObsoleteFiles(all: true)
        // The snapshot of the commit before still names them: they stay until its release.
        let pinned = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments"))
        #expect(pinned == Set(after.manifest.segments.map(\.name)).union(beforeSnap?.manifest.segments.map(\.name) ?? []))
        beforeSnap = nil
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments"))
        #expect(names == Set(after.manifest.segments.map(\.name)))
        w.close()
        let w2 = try StoreWriter(path: dir.path, options: smallOptions())
        #expect(w2.ledger.count == 40)
        #expect(try scanDetections(w2.snapshot()) == det)
        // A second run has nothing left to do.
        let again = try w2.compact(compactOptions(now: july1 + 4 * dayMicros))
        #expect(again.plan.isEmpty)
        w2.close()
    }

    @Test func oldSnapshotStillReadsAfterCompactionUnlinks() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 10, rowsPerCommit: 200)
        let old = try Snapshot.open(path: dir.path, options: smallOptions())
        let before = try scanDetections(old)
        try w.compact(compactOptions())
        // The old snapshot's segments are unlinked but its fds still read them.
        #expect(try scanDetections(old) == before)
        #expect(try scanDetections(Snapshot.open(path: dir.path, options: smallOptions())) == before)
        w.close()
    }

    /// The output's seq is reserved when the plan is made: rows committed while the build
    /// runs (same partition, same identities) must still win after the switch, and rows the
    /// build merged must still beat the older ones.
    @Test func rowsCommittedDuringABuildStillWin() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 6, rowsPerCommit: 100, days: 1)
        var plan = w.planCompaction(compactOptions())
        #expect(!plan.tasks.isEmpty)
        // A later commit overwrites some identities the build is merging.
        let snap0 = try w.snapshot()
        let rows = try scanDetections(snap0)
        var batch = RowBatch(.detections)
        for r in rows.prefix(50) { batch.append(vehicle: r.vehicle, time: r.time, [.string(r.type), .int(r.value + 1000)]) }
        try w.append(batch)
        try w.commit()
        let expected = try scanDetections(w.snapshot())
        #expect(expected != rows)
        let out = try Compactor.build(plan, layout: w.layout, storeOptions: smallOptions(), options: compactOptions())
        try w.applyCompaction(out)
        #expect(out.tasks.allSatisfy { $0.applied })
        #expect(try scanDetections(w.snapshot()) == expected)
        // The late segment is still there and still newer than the compacted one.
        let det = w.manifest.segments.filter { $0.measurementID == Measurement.detections.id }
        #expect(det.count == 2)
        #expect(det.max { $0.seq < $1.seq }?.rowCount == 50)
        // Compacting again (now closed, two segments) keeps the later values.
        plan = w.planCompaction(compactOptions())
        try w.applyCompaction(try Compactor.build(plan, layout: w.layout, storeOptions: smallOptions(), options: compactOptions()))
        #expect(try scanDetections(w.snapshot()) == expected)
        #expect(w.manifest.segments.filter { $0.measurementID == Measurement.detections.id }.count == 1)
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
        w.close()
    }

    @Test func openPartitionMergesOnlyItsNewestSegments() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 12, rowsPerCommit: 50, days: 1)
        let expected = try scanDetections(w.snapshot())
        var o = compactOptions(now: july1 + hourMicros)  // the partition is still open
        o.openPartitionMinSegments = 4
        o.mergeLedgers = false
        let out = try w.compact(o)
        #expect(!out.tasks.isEmpty)
        #expect(try scanDetections(w.snapshot()) == expected)
        // More commits overwrite identities; merge again; the order of seqs must keep them.
        var rng = SplitMix64(state: 99)
        for _ in 0..<6 {
            var b = RowBatch(.detections)
            for r in expected where rng.next() % 8 == 0 { b.append(vehicle: r.vehicle, time: r.time, [.string(r.type), .int(Int64(rng.next() % 1000))]) }
            try w.append(b)
            try w.commit()
        }
        let expected2 = try scanDetections(w.snapshot())
        try w.compact(o)
        #expect(try scanDetections(w.snapshot()) == expected2)
        try w.compact(compactOptions())
        #expect(try scanDetections(w.snapshot()) == expected2)
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
        w.close()
    }

    @Test func outputIsDiscardedWhenInputsChanged() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 5, rowsPerCommit: 100, days: 1)
        let expected = try scanDetections(w.snapshot())
        let plan1 = w.planCompaction(compactOptions())
        let out1 = try Compactor.build(plan1, layout: w.layout, storeOptions: smallOptions(), options: compactOptions())
        // Another compaction wins the race.
        try w.compact(compactOptions())
        let segs = w.manifest.segments
        let r = try w.applyCompaction(out1)
        #expect(r.tasks.allSatisfy { !$0.applied })
        #expect(w.manifest.segments == segs)
        #expect(try scanDetections(w.snapshot()) == expected)
        w.removeObsoleteFiles(all: true)  // the first compaction's inputs, after their grace period
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments"))
        #expect(names == Set(segs.map(\.name)))
        w.close()
    }

    @Test func coldPartitionsAreRewrittenOnceAtTheColdLevel() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 1, rowsPerCommit: 3000, days: 2)
        let expected = try scanDetections(w.snapshot())
        // The segments were written "in 2024", before their partitions turned cold.
        for s in w.manifest.segments {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: Double(july1) / 1e6)], ofItemAtPath: dir.path + "/segments/" + s.name)
        }
        var o = compactOptions(now: july1 + 3 * dayMicros)
        o.coldAfter = dayMicros / 2
        o.coldLevel = 9
        let out = try w.compact(o)
        #expect(out.tasks.count == 4)  // detections and status, two days, one segment each
        #expect(out.tasks.allSatisfy { $0.task.zstdLevel == 9 && $0.task.reasons.contains { $0.hasPrefix("cold") } })
        #expect(try scanDetections(w.snapshot()) == expected)
        // Rewritten after turning cold (file mtime is now): not again.
        #expect(w.planCompaction(o).tasks.isEmpty)
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
        w.close()
    }

    @Test func rateLimitPacesWrites() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 8, rowsPerCommit: 2000, days: 1)
        var o = compactOptions()
        o.rateLimitBytesPerSecond = 50_000
        let start = Date()
        let out = try w.compact(o)
        let secs = Date().timeIntervalSince(start)
        #expect(out.bytesWritten > 20_000)
        #expect(secs >= Double(out.bytesWritten) / 50_000 * 0.8)
        w.close()
    }
}
