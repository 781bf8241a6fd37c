import Foundation
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// The standalone compaction protocol at the store level (FORMAT.md §3.5 "Standalone
/// compaction"): reservation across writers, the claim that guards unfinished outputs, the
/// switch against a manifest another writer committed.
@Suite struct DetachedCompactionTests {
    /// Another writer, opened while the merge runs, numbers its files above the reserved
    /// range, leaves the outputs alone and commits rows that still win after the switch.
    @Test func writerBetweenReserveAndSwitch() throws {
        let dir = TempDir()
        var w = try fillStore(dir.path, commits: 12, rowsPerCommit: 300)
        let job = try w.reserveDetachedCompaction(compactOptions())
        let range = try #require(job.reserved)
        #expect(!job.plan.isEmpty)
        #expect(w.manifest.nextNumber == range.upperBound)
        #expect(try Snapshot.open(path: dir.path).manifest.nextNumber == range.upperBound)  // committed, not just in memory
        w.close()

        let out = try job.build(storeOptions: smallOptions(), options: compactOptions())
        let outputs = out.tasks.compactMap(\.output).map(\.name)
        #expect(!outputs.isEmpty)

        // An ingest meanwhile: its open removes no output, its numbers are above the range,
        // and its rows restate some of the merged identities.
        var ingest = try StoreWriter(path: dir.path, options: smallOptions())
        let snap = try ingest.snapshot()
        let some = try scanDetections(snap).prefix(50)
        var b = RowBatch(.detections)
        for r in some { b.append(vehicle: r.vehicle, time: r.time, [.string(r.type), .int(r.value &+ 1)]) }
        try ingest.append(b)
        try ingest.commit()
        #expect(ingest.manifest.segments.filter { !snap.manifest.segments.map(\.name).contains($0.name) }.allSatisfy { $0.seq >= range.upperBound })
        for name in outputs { #expect(FileManager.default.fileExists(atPath: dir.path + "/segments/" + name)) }
        let expected = try scanDetections(ingest.snapshot())
        ingest.close()

        w = try StoreWriter.openForMaintenance(path: dir.path, options: smallOptions())
        let r = try job.publish(out, on: w)
        #expect(r.tasks.allSatisfy { $0.applied })
        #expect(try scanDetections(try Snapshot.open(path: dir.path)) == expected)
        #expect(CompactionClaim.liveReservation(w.layout.compacting, fs: PosixFileSystem()) == nil)
        w.close()
        ingest = try StoreWriter(path: dir.path, options: smallOptions())
        #expect(Verifier.verify(snapshot: try ingest.snapshot()).isClean)
        ingest.close()
    }

    /// Once the claim is gone (the compactor died), the next writer open removes the outputs.
    @Test func deadClaimLeavesOrdinaryOrphans() throws {
        let dir = TempDir()
        var w = try fillStore(dir.path, commits: 12, rowsPerCommit: 300)
        let job = try w.reserveDetachedCompaction(compactOptions())
        w.close()
        let out = try job.build(storeOptions: smallOptions(), options: compactOptions())
        let outputs = out.tasks.compactMap(\.output).map(\.name)
        // A second claim is refused while the first is held.
        w = try StoreWriter.openForMaintenance(path: dir.path, options: smallOptions())
        #expect(throws: StoreError.self) { try w.reserveDetachedCompaction(compactOptions()) }
        w.close()
        job.abandon(nil, fs: PosixFileSystem())  // as the kernel does for a dead compactor: files stay
        for name in outputs { #expect(FileManager.default.fileExists(atPath: dir.path + "/segments/" + name)) }
        w = try StoreWriter(path: dir.path, options: smallOptions())
        for name in outputs { #expect(!FileManager.default.fileExists(atPath: dir.path + "/segments/" + name)) }
        w.close()
    }

    /// Another writer compacts the same partitions (and ledgers) and unlinks the inputs before
    /// the detached build opens them: the build skips those tasks instead of failing, the
    /// switch publishes nothing stale, and no file is left behind.
    @Test func inputsReplacedBeforeTheBuildAreSkipped() throws {
        let dir = TempDir()
        var w = try fillStore(dir.path, commits: 12, rowsPerCommit: 300)
        let expected = try scanDetections(w.snapshot())
        let job = try w.reserveDetachedCompaction(compactOptions())
        w.close()
        w = try StoreWriter(path: dir.path, options: smallOptions())
        let other = try w.compact(compactOptions())
        #expect(other.tasks.allSatisfy { $0.applied })
        let segments = w.manifest.segments
        w.close()
        let out = try job.build(storeOptions: smallOptions(), options: compactOptions())
        #expect(out.tasks.allSatisfy { !$0.applied && $0.output == nil })
        #expect(out.ledger == nil)
        w = try StoreWriter.openForMaintenance(path: dir.path, options: smallOptions())
        let r = try job.publish(out, on: w)
        #expect(r.tasks.allSatisfy { !$0.applied })
        #expect(w.manifest.segments == segments)
        w.close()
        w = try StoreWriter(path: dir.path, options: smallOptions())
        #expect(try scanDetections(w.snapshot()) == expected)
        #expect(Set(files(dir.path + "/segments")) == Set(w.manifest.segments.map(\.name)))
        w.close()
    }

    /// `verify --repair` during the merge neither includes nor quarantines the unfinished
    /// outputs, keeps next_number above the range, and the switch still publishes.
    @Test func repairDuringTheMergeLeavesTheOutputs() throws {
        let dir = TempDir()
        var w = try fillStore(dir.path, commits: 12, rowsPerCommit: 300)
        let expected = try scanDetections(w.snapshot())
        let job = try w.reserveDetachedCompaction(compactOptions())
        let range = try #require(job.reserved)
        w.close()
        let out = try job.build(storeOptions: smallOptions(), options: compactOptions())
        try FileManager.default.removeItem(atPath: dir.path + "/MANIFEST")
        let rec = try #require(try StoreWriter.rebuildManifest(path: dir.path, options: smallOptions()))
        _ = rec
        let m = try Snapshot.open(path: dir.path).manifest
        #expect(m.nextNumber > range.upperBound - 1)
        #expect(m.segments.allSatisfy { !range.contains($0.seq) })
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/quarantine") || files(dir.path + "/quarantine").isEmpty)
        w = try StoreWriter.openForMaintenance(path: dir.path, options: smallOptions())
        let r = try job.publish(out, on: w)
        #expect(r.tasks.allSatisfy { $0.applied })
        w.close()
        #expect(try scanDetections(try Snapshot.open(path: dir.path)) == expected)
    }

    func files(_ dir: String) -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] }
}
