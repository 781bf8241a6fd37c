import Foundation
import Logging
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// Keep until shipped (`RetentionEnforcer.shipped`, `tacho run --ship-keep`): age retention
/// hides and drops no partition before its current content is shipped; the disk budget still
/// deletes, and says so at error level.
@Suite struct RetentionShippedTests {
    @Test func ageRetentionWaitsForTheShipmentThenProceeds() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 12, rowsPerCommit: 400, days: 3)
        defer { w.close() }
        let allDet = try scanDetections(w.snapshot())
        let now = july1 + 3 * dayMicros
        var policy = RetentionPolicy()
        policy.maxAge = [Measurement.detections.id: 36 * hourMicros]
        let log = LogCapture()
        let r = RetentionEnforcer(policy: policy, logger: log.logger(), clock: StoreClock.Manual(wallMicros: now).clock)
        // Nothing is shipped: nothing is hidden or dropped, and the kept partition is logged once.
        var shippedDays: Set<Int64> = []
        r.shipped = { name, start, _ in name != "detections" || shippedDays.contains(start) }
        let first = try r.enforceAge(w)
        #expect(first.map(\.kind) == [.keptUnshipped])
        #expect(first.first?.partition == StoreLayout.partitionLabel(july1))
        #expect(w.manifest.watermarks[Measurement.detections.id] == nil)
        #expect(try scanDetections(w.snapshot()) == allDet)
        _ = try r.enforceAge(w)
        #expect(log.all.filter { $0.contains("kept a partition past its age until it is shipped") }.count == 1)
        // Day 1 shipped: it goes, and the watermark stops at day 2, not yet shipped.
        shippedDays.insert(july1)
        let second = try r.enforceAge(w)
        #expect(second.contains { $0.kind == .dropPartition && $0.partition == StoreLayout.partitionLabel(july1) })
        #expect(second.contains { $0.kind == .keptUnshipped && $0.partition == StoreLayout.partitionLabel(july1 + dayMicros) })
        #expect(w.manifest.watermarks[Measurement.detections.id] == july1 + dayMicros)
        #expect(try scanDetections(w.snapshot()) == allDet.filter { $0.time >= july1 + dayMicros })
        // Day 2 shipped: the age cut applies in full.
        shippedDays.insert(july1 + dayMicros)
        _ = try r.enforceAge(w)
        let cut = now - 36 * hourMicros
        #expect(w.manifest.watermarks[Measurement.detections.id] == cut)
        #expect(try scanDetections(w.snapshot()) == allDet.filter { $0.time >= cut })
    }

    @Test func theDiskBudgetDeletesUnshippedRowsLoudly() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 12, rowsPerCommit: 400, days: 3)
        defer { w.close() }
        var policy = RetentionPolicy()
        let total = w.manifest.segments.reduce(UInt64(0)) { $0 + $1.fileSize }
        policy.maxBytes = total / 2
        let log = LogCapture()
        let r = RetentionEnforcer(policy: policy, logger: log.logger(), clock: StoreClock.Manual(wallMicros: july1).clock)
        r.shipped = { _, _, _ in false }
        let report = try r.enforceBudget(w)
        let deletions = report.actions.filter { $0.kind == .dropPartition || $0.kind == .trimPartition }
        #expect(!deletions.isEmpty && deletions.allSatisfy(\.unshipped))
        #expect(log.all.contains { $0.hasPrefix("error retention: the disk budget deletes rows that were never shipped") })
    }
}
