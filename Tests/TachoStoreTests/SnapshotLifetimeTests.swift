import Foundation
import Logging
import Synchronization
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// Snapshots open segments on demand through a bounded cache of shared handles; writers keep
/// the files a switch replaced for a grace period, and for as long as a snapshot of the
/// process names them (issue 12, items 3 and 7; issue 18, item 6).
@Suite struct SnapshotLifetimeTests {
    /// Many partitions read through a cache of 16 handles: right rows, never more than 16
    /// descriptors open (counted by the cache as sources open and close, dropped handles still
    /// in use included), and each footer parsed once however often the scan comes back to it.
    @Test func scansThroughABoundedDescriptorCache() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 4, rowsPerCommit: 600, days: 5, options: smallOptions(partitionHours: 1))
        defer { w.close() }
        let expected = try scanDetections(w.snapshot())
        #expect(w.manifest.segments.count > 200)
        let cache = SegmentHandleCache(capacity: 16)
        let snap = try Snapshot(layout: w.layout, manifest: w.manifest, fs: w.fs, logger: w.logger, cache: cache)
        #expect(snap.openSegmentFiles == 0)  // nothing opened before a read needs it
        var rows: [DetRow] = []
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(.detections))
        let segments = snap.segments(of: .detections)
        while let b = try cursor.next() {
            #expect(cache.descriptors.open <= 16)
            for i in b.range {
                rows.append(DetRow(vehicle: b.vehicle, time: b.chunk.times[i], type: b.chunk.columns[0].string(at: i), value: b.chunk.columns[1].ints[i]))
            }
        }
        #expect(rows == expected)
        #expect(cache.descriptors.peak <= 16)
        #expect(cache.count <= 16)
        // Segments were dropped and opened again, vehicle after vehicle...
        #expect(cache.opens > segments.count)
        // ...and each footer was parsed once: a re-open checks the trailer and reuses it.
        #expect(snap.footersParsed == segments.count)
        // A footer-only pass (latest status, inspect) opens nothing: the footers are known.
        let opensAfterScan = cache.opens
        for s in segments { #expect(try snap.footer(s).rowCount == s.rowCount) }
        #expect(cache.opens == opensAfterScan)
        #expect(Verifier.verify(snapshot: snap).isClean)
    }

    /// A snapshot taken before a compaction still reads the replaced segments; once another
    /// process's writer (which does not see this process's pins) has removed them after its
    /// grace period, it fails as stale, not as damage. A segment missing under an unchanged
    /// MANIFEST is still damage.
    @Test func replacedSegmentsOutliveTheSwitchByTheGracePeriod() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 6, rowsPerCommit: 300)
        defer { w.close() }
        let expected = try scanDetections(w.snapshot())
        let early = try Snapshot.open(path: dir.path, options: smallOptions())
        let earlier = try Snapshot.open(path: dir.path, options: smallOptions())
        let before = Set(w.manifest.segments.map(\.name))
        try w.compact(compactOptions())
        #expect(w.obsoleteFileCount > 0)
        #expect(try scanDetections(early) == expected)
        // What another process's writer does once the grace period is over.
        for name in before.subtracting(w.manifest.segments.map(\.name)) {
            try FileManager.default.removeItem(atPath: w.layout.segmentPath(name))
        }
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
