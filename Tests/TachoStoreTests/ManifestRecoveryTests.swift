import Foundation
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// The MANIFEST rebuild's choices (FORMAT.md §3.6) that the CLI tests (one-day stores) do
/// not reach: the partition width of a store created with another one.
@Suite struct ManifestRecoveryTests {
    static let hour: Int64 = 3_600_000_000
    static let day: Int64 = 86_400_000_000

    @Test func partitionWidthFromSegmentFooters() {
        let d = Self.day, h = Self.hour
        let base: Int64 = 19_900 * d
        // No segment: the default, and it says it could not tell.
        #expect(StoreWriter.inferPartitionWidth([], default: d).2 == false)
        // Day partitions, sparse (days 0 and 2): the default fits.
        #expect(StoreWriter.inferPartitionWidth([(base, base + 23 * h), (base + 2 * d, base + 2 * d + h)], default: d).0 == d)
        // Hour partitions: the default does not fit (starts off the day), the gcd does.
        let hourly = StoreWriter.inferPartitionWidth([(base + h, base + h + 59 * 60_000_000), (base + 2 * h, base + 2 * h + 1)], default: d)
        #expect(hourly.0 == h && hourly.2)
        // Two-day partitions with rows past the first day: the default does not fit.
        #expect(StoreWriter.inferPartitionWidth([(base, base + d + h), (base + 2 * d, base + 2 * d)], default: d).0 == 2 * d)
        // Only the 1970 partition, rows past one day: a multiple of the default that fits, undetermined.
        let zero = StoreWriter.inferPartitionWidth([(0, 3 * d - 1)], default: d)
        #expect(zero.0 == 3 * d && zero.2 == false)
        // Negative starts work (floor division, §3.3).
        #expect(StoreWriter.inferPartitionWidth([(-h, -1), (-2 * h, -h - 1)], default: d).0 == h)
    }

    /// A store created with one-hour partitions: deleting MANIFEST and rebuilding with the
    /// default options keeps its width, its rows and its next number.
    @Test func rebuildKeepsAnHourlyStoreHourly() throws {
        let dir = TempDir()
        let opts = smallOptions(partitionHours: 1)
        let base: Int64 = 1_720_000_000_000_000 / Self.day * Self.day
        var before: [DetRow] = []
        var old = Manifest()
        do {
            let w = try StoreWriter(path: dir.path, options: opts)
            for c in 0..<3 {
                var det = RowBatch(.detections)
                for i in 0..<200 { det.append(vehicle: "v\(i % 4)", time: base + Int64(i) * 60_000_000 + Int64(c), [.string("cars"), .int(Int64(c))]) }
                try w.append(det)
                try w.commit()
            }
            before = try scanDetections(w.snapshot())
            old = w.manifest
            w.close()
        }
        try FileManager.default.removeItem(atPath: dir.path + "/MANIFEST")
        var quiet = StoreOptions()
        quiet.logger.logLevel = .error
        let r = try #require(try StoreWriter.rebuildManifest(path: dir.path, options: quiet))
        #expect(r.partitionWidth == Self.hour && r.widthDetermined, "\(r.widthReason)")
        #expect(r.segments.map(\.seq) == old.segments.map(\.seq).sorted())
        #expect(r.nextNumber > old.nextNumber - 1)
        #expect(try StoreWriter.rebuildManifest(path: dir.path, options: quiet) == nil, "intact now: nothing to do")
        let snap = try Snapshot.open(path: dir.path, options: quiet)
        #expect(snap.manifest.partitionWidth == Self.hour)
        #expect(try scanDetections(snap) == before)
        #expect(Verifier.verify(snapshot: snap).isClean)
    }
}
