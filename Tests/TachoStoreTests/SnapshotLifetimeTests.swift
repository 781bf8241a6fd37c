import Foundation
import Logging
import Synchronization
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// Snapshots open segments on demand through a bounded descriptor cache; writers keep the
/// files a switch replaced for a grace period (issue 12, items 3 and 7).
@Suite struct SnapshotLifetimeTests {
    /// Many partitions read through a cache of 16 descriptors: right rows, never more than 16
    /// files open, and each footer parsed once however often the scan comes back to it.
    @Test func scansThroughABoundedDescriptorCache() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 4, rowsPerCommit: 600, days: 5, options: smallOptions(partitionHours: 1))
        defer { w.close() }
        let expected = try scanDetections(w.snapshot())
        #expect(w.manifest.segments.count > 200)
        let snap = try Snapshot(layout: w.layout, manifest: w.manifest, fs: w.fs, logger: w.logger, descriptorCapacity: 16)
        #expect(snap.openSegmentFiles == 0)  // nothing opened before a read needs it
        var rows: [DetRow] = []
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(.detections))
        var readers: [String: ObjectIdentifier] = [:]
        for s in snap.segments(of: .detections) { readers[s.name] = ObjectIdentifier(try snap.reader(s)) }
        while let b = try cursor.next() {
            #expect(snap.openSegmentFiles <= 16)
            for i in b.range {
                rows.append(DetRow(vehicle: b.vehicle, time: b.chunk.times[i], type: b.chunk.columns[0].string(at: i), value: b.chunk.columns[1].ints[i]))
            }
        }
        #expect(rows == expected)
        // The same readers (footers parsed once) served every vehicle's pass.
        for s in snap.segments(of: .detections) { #expect(readers[s.name] == ObjectIdentifier(try snap.reader(s))) }
        #expect(Verifier.verify(snapshot: snap).isClean)
    }

    /// A snapshot taken before a compaction still reads the replaced segments during the
    /// grace period; once they are gone it fails as stale, not as damage. A segment missing
    /// under an unchanged MANIFEST is still damage.
    @Test func replacedSegmentsOutliveTheSwitchByTheGracePeriod() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 6, rowsPerCommit: 300)
        defer { w.close() }
        let expected = try scanDetections(w.snapshot())
        let early = try Snapshot.open(path: dir.path, options: smallOptions())
        let earlier = try Snapshot.open(path: dir.path, options: smallOptions())
        try w.compact(compactOptions())
        #expect(w.obsoleteFileCount > 0)
        #expect(try scanDetections(early) == expected)
        w.removeObsoleteFiles(all: true)
        #expect(throws: StoreError.self) { try scanDetections(earlier) }
        do {
            _ = try scanDetections(earlier)
        } catch let e as StoreError {
            #expect(e.code == .stale, "\(e)")
            #expect(e.description.contains("run the command again"))
        }
        // Damage: a live segment's file deleted under the current manifest.
        let victim = w.manifest.segments.first { $0.measurementID == Measurement.detections.id }!
        try FileManager.default.removeItem(atPath: w.layout.segmentPath(victim.name))
        let now = try Snapshot.open(path: dir.path, options: smallOptions())
        do {
            _ = try scanDetections(now)
            Issue.record("a missing segment went unnoticed")
        } catch let e as StoreError {
            #expect(e.code == .corrupt && e.detail.contains("missing"), "\(e)")
        }
        let report = Verifier.verify(snapshot: try Snapshot.open(path: dir.path, options: smallOptions()))
        #expect(report.problems.contains { $0.segment?.name == victim.name })
    }
}
