import Foundation
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// Issue 18 item 6: snapshots open segments lazily through shared handles, so the files of
/// their commit must stay while they live (`FilePins`), and damage found on a lazy open must
/// read as it did when segments were opened up front.
@Suite struct SnapshotPinningTests {
    /// With no grace period, only the pin keeps the files: a snapshot taken before a
    /// compaction and an age-retention drop, that has opened nothing yet, reads every row of
    /// its commit after both have finished and the writer has removed what it could; the
    /// files it names go when it is released.
    @Test func aSnapshotKeepsItsFilesThroughCompactionAndRetentionUntilReleased() throws {
        let dir = TempDir()
        var o = smallOptions()
        o.obsoleteFileGrace = 0
        let w = try fillStore(dir.path, commits: 8, rowsPerCommit: 300, days: 3, options: o)
        defer { w.close() }
        let expectedDet = try scanDetections(w.snapshot())
        let expectedStatus = try scanStatus(w.snapshot())
        var snap: Snapshot? = try Snapshot.open(path: dir.path, options: o)
        let named = Set((snap?.manifest.segments ?? []).map(\.name))
        #expect(snap?.openSegmentFiles == 0)

        try w.compact(compactOptions())
        var policy = RetentionPolicy()
        policy.maxAge = [Measurement.detections.id: 36 * hourMicros]
        let r = RetentionEnforcer(policy: policy, logger: o.logger, clock: StoreClock.Manual(wallMicros: july1 + 3 * dayMicros).clock)
        try r.enforceAge(w)
        w.removeObsoleteFiles(all: true)

        let replaced = named.subtracting(w.manifest.segments.map(\.name))
        #expect(replaced.count >= 4)
        #expect(w.manifest.watermarks[Measurement.detections.id] != nil)
        let onDisk = { Set(try FileManager.default.contentsOfDirectory(atPath: w.layout.segmentsDir)) }
        #expect(try replaced.isSubset(of: onDisk()))
        #expect(FilePins.shared.retiredCount >= replaced.count)
        if let snap {
            #expect(try scanDetections(snap) == expectedDet)
            #expect(try scanStatus(snap) == expectedStatus)
            #expect(Verifier.verify(snapshot: snap).isClean)
        }
        snap = nil
        #expect(try replaced.isDisjoint(with: onDisk()))
        // What the current manifest names is still there.
        #expect(try Set(w.manifest.segments.map(\.name)).isSubset(of: onDisk()))
    }

    /// A writer that opens while a snapshot of this process names files a previous commit
    /// replaced (an "orphan" to the new writer) leaves them to that snapshot.
    @Test func orphanRemovalAtWriterOpenSparesPinnedFiles() throws {
        let dir = TempDir()
        var o = smallOptions()
        o.obsoleteFileGrace = 3600
        let snap: Snapshot
        let expected: [DetRow]
        let replaced: Set<String>
        do {
            let w = try fillStore(dir.path, commits: 6, rowsPerCommit: 300, options: o)
            expected = try scanDetections(w.snapshot())
            snap = try Snapshot.open(path: dir.path, options: o)
            try w.compact(compactOptions())
            replaced = Set(snap.manifest.segments.map(\.name)).subtracting(w.manifest.segments.map(\.name))
            // Released without close(), as by a crash: the replaced files, still in their
            // grace period, are left behind.
        }
        #expect(!replaced.isEmpty)
        let w2 = try StoreWriter(path: dir.path, options: o)
        defer { w2.close() }
        let onDisk = Set(try FileManager.default.contentsOfDirectory(atPath: w2.layout.segmentsDir))
        #expect(replaced.isSubset(of: onDisk))
        #expect(try scanDetections(snap) == expected)
    }

    /// Damage found when a snapshot first opens a segment (footer checksum, bad magic) is the
    /// same typed `SegmentError` kind, at the same offset, as opening the bytes directly.
    @Test(arguments: [0, -20])
    func corruptSegmentOnLazyOpenIsTheSameTypedError(flipAt: Int) throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 3, rowsPerCommit: 300)
        defer { w.close() }
        let victim = try #require(w.manifest.segments.first { $0.measurementID == Measurement.detections.id })
        let path = w.layout.segmentPath(victim.name)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Byte 0: the header's magic. 20 before the trailer: inside the footer.
        let at = flipAt >= 0 ? flipAt : bytes.count - FormatConstants.segmentTrailerSize + flipAt
        bytes[at] ^= 0x5A
        let direct: SegmentError
        do {
            _ = try SegmentHandle(source: InMemorySegmentSource(bytes), path: path)
            Issue.record("the damage went unnoticed")
            return
        } catch let e as SegmentError {
            direct = e
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let snap = try Snapshot.open(path: dir.path, options: smallOptions())
        do {
            _ = try scanDetections(snap)
            Issue.record("a scan read the damaged segment")
        } catch let e as StoreError {
            #expect(e.code == .corrupt)
            #expect(e.segmentProblem == direct.kind, "\(e)")
            #expect(e.offset == direct.offset)
            #expect(e.path == path)
        }
        #expect {
            _ = try snap.reader(victim)
        } throws: { e in
            (e as? StoreError)?.segmentProblem == direct.kind
        }
        let report = Verifier.verify(snapshot: snap)
        #expect(report.problems.contains { $0.segment?.name == victim.name && $0.kind == .segment(direct.kind) })
    }
}
