import Logging
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// Compaction, its rate limit, the grace period of replaced files and age retention all read
/// the writer's environment clock (StoreOptions.environment): a manual clock drives them with
/// no real waiting and no `now` passed around.
@Suite struct EnvironmentClockTests {
    @Test func compactionAndRetentionRunOnTheEnvironmentClock() throws {
        let dir = TempDir()
        // The data spans July 1–3; the clock starts in the middle of July 1: every partition
        // is still open (its end is after now).
        let manual = StoreClock.Manual(wallMicros: july1 + 12 * hourMicros)
        var options = smallOptions()
        options.clock = manual.clock
        options.obsoleteFileGrace = 60
        let w = try fillStore(dir.path, commits: 10, rowsPerCommit: 200, options: options)
        let det = try scanDetections(w.snapshot())

        // CompactionOptions.now unset: planned at the environment's now, so every partition is
        // open and only its newest small segments are merged.
        var copts = CompactionOptions()
        copts.rateLimitBytesPerSecond = 4096
        let first = try w.compact(copts)
        #expect(!first.tasks.isEmpty)
        #expect(first.tasks.allSatisfy { $0.task.reasons.contains { $0.hasSuffix("of an open partition") } }, "\(first.tasks.map(\.task.reasons))")
        // The rate limit slept on the manual clock (instantly), as long as the bytes require.
        let due = Double(first.bytesWritten) / 4096
        #expect(Double(manual.sleptNanos) / 1e9 >= due * 0.9, "slept \(manual.sleptNanos) ns for \(first.bytesWritten) bytes")
        #expect(try scanDetections(w.snapshot()) == det)

        // Replaced files wait out their grace period on the same clock.
        #expect(w.obsoleteFileCount > 0)
        w.removeObsoleteFiles()
        #expect(w.obsoleteFileCount > 0, "removed before the grace period ended")
        manual.advance(micros: 61_000_000)
        w.removeObsoleteFiles()
        #expect(w.obsoleteFileCount == 0)

        // Thirteen days on, age retention with the writer's environment: the cut is the manual
        // clock's now less the age (the clock lead check off: the data is 10 days behind).
        manual.advance(micros: 13 * dayMicros)
        var policy = RetentionPolicy()
        policy.maxAge = [Measurement.detections.id: 12 * dayMicros]
        policy.maxClockLead = 0
        let r = RetentionEnforcer(policy: policy, logger: Logger(label: "test"), environment: w.environment)
        let actions = try r.enforceAge(w)
        let cut = manual.wallMicros - 12 * dayMicros
        #expect(w.manifest.watermarks[Measurement.detections.id] == cut)
        #expect(actions.contains { $0.kind == .dropPartition && $0.partition == StoreLayout.partitionLabel(july1) })
        #expect(try scanDetections(w.snapshot()) == det.filter { $0.time >= cut })
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
        w.close()
    }

    /// The lock's retry waits on the environment's clock too: a second writer gives up after
    /// `lockWaitSeconds` of (manual) time, having slept that long without real waiting.
    @Test func lockWaitSleepsOnTheEnvironmentClock() throws {
        let dir = TempDir()
        let holder = try StoreWriter(path: dir.path, options: smallOptions())
        defer { holder.close() }
        let manual = StoreClock.Manual(wallMicros: july1)
        var options = smallOptions()
        options.clock = manual.clock
        options.lockWaitSeconds = 30
        #expect {
            try StoreWriter(path: dir.path, options: options)
        } throws: { e in
            (e as? StoreError)?.code == .locked
        }
        #expect(manual.sleptNanos >= 29_000_000_000 && manual.sleptNanos <= 30_000_000_000, "\(manual.sleptNanos)")
    }
}
