import Foundation
import Logging
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// Issue 12 item 1 and 4: retention acts only on a clock it can believe, and deletes only what
/// frees space where space is short, in the order that loses the least.
@Suite struct ClockTests {
    let day: Int64 = 86_400_000_000

    @Test func trustNeedsTheClockCloseToTheDataAndSteady() {
        let newest = july1 + 2 * day
        let manual = StoreClock.Manual(wallMicros: newest + hourMicros)
        let trust = ClockTrust(clock: manual.clock, maxLead: 7 * day, jumpTolerance: 60_000_000, settleAfterJump: 600_000_000_000)
        #expect(trust.judge(newestData: newest) == .trusted(now: newest + hourMicros))
        // An empty store: nothing to compare with, nothing to delete either.
        #expect(trust.judge(newestData: nil).isTrusted)
        // Time passes normally: still trusted.
        manual.advance(micros: 3 * day)
        #expect(trust.judge(newestData: newest).isTrusted)
        // Two years ahead of the newest row (an RTC-less boot): distrusted, and the clamped time
        // is what the data vouches for.
        manual.advance(micros: 730 * day)
        let v = trust.judge(newestData: newest)
        #expect(!v.isTrusted)
        #expect(v.safeNow == newest + 7 * day)
        // maxLead 0: the operator vouches for the clock.
        #expect(ClockTrust(clock: manual.clock, maxLead: 0).judge(newestData: newest).isTrusted)

        // A jump of the wall clock alone (NTP stepping it, by a day: within the lead) pauses
        // trust until the clock has run steadily for the settle time.
        let m2 = StoreClock.Manual(wallMicros: newest)
        let t2 = ClockTrust(clock: m2.clock, maxLead: 7 * day, jumpTolerance: 60_000_000, settleAfterJump: 600_000_000_000)
        #expect(t2.judge(newestData: newest).isTrusted)
        m2.advance(micros: 60_000_000)
        #expect(t2.judge(newestData: newest).isTrusted)
        m2.jumpWall(micros: day)
        #expect(!t2.judge(newestData: newest).isTrusted)
        m2.advance(micros: 300_000_000)
        #expect(!t2.judge(newestData: newest).isTrusted, "5 minutes after the jump")
        m2.advance(micros: 301_000_000)
        #expect(t2.judge(newestData: newest).isTrusted, "10 minutes of steady time after the jump")
        // Backwards jumps count too.
        m2.jumpWall(micros: -2 * hourMicros)
        #expect(!t2.judge(newestData: newest).isTrusted)
    }

    /// The reproduction of issue 12 item 1: `compact --retention status=365d` with the clock two
    /// years ahead deleted every partition and left the watermark in the future. Now nothing is
    /// deleted, the watermark does not move, and it is logged; once the clock is right, the
    /// policy applies as usual.
    @Test func retentionIgnoresAClockYearsAhead() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 6, rowsPerCommit: 300, days: 3)
        defer { w.close() }
        let before = w.manifest
        let allStatus = try scanStatus(w.snapshot())
        let newest = try #require(before.newestTime)
        var policy = RetentionPolicy()
        policy.maxAge = [Measurement.status.id: 365 * day, Measurement.detections.id: 2 * day]
        let manual = StoreClock.Manual(wallMicros: newest + 730 * day)
        let log = LogCapture()
        let r = RetentionEnforcer(policy: policy, logger: log.logger(), clock: manual.clock)
        let actions = try r.enforceAge(w)
        #expect(actions.isEmpty)
        #expect(w.manifest == before, "nothing deleted, no watermark raised")
        #expect(try scanStatus(w.snapshot()) == allStatus)
        #expect(log.all.contains { $0.contains("age retention paused") && $0.contains("ahead of the newest stored row") }, "\(log.all)")
        // A second round says nothing new (one line per change of state).
        try r.enforceAge(w)
        #expect(log.all.filter { $0.contains("age retention paused") }.count == 1)
        // NTP sets the clock right: the jump pauses it for the settle time, then it acts.
        manual.jumpWall(micros: -729 * day)
        #expect(try r.enforceAge(w).isEmpty)
        manual.advance(micros: 601_000_000)
        let acted = try r.enforceAge(w)
        #expect(acted.contains { $0.kind == .watermark && $0.measurement == "detections" })
        #expect(try scanStatus(w.snapshot()) == allStatus, "365 days keeps every status row")
        #expect(log.all.contains { $0.contains("age retention resumed") })
    }

    /// Compaction plans with the time the data vouches for and forgets no ledger entry by age
    /// while the clock is distrusted (every entry would look old, and a re-delivered file
    /// would be ingested again).
    @Test func aDistrustedClockPrunesNoLedgerEntry() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 4, rowsPerCommit: 100, days: 1)
        defer { w.close() }
        var o = compactOptions(now: july1 + 800 * day)
        o.ledgerMaxAge = 30 * day
        o.clockTrusted = false
        let plan = CompactionPlanner.plan(w.manifest, options: o, defaultLevel: 3) { _ in nil }
        #expect(plan.ledgerMerge != nil && plan.ledgerMerge?.pruneBefore == nil)
        o.clockTrusted = true
        let trusted = CompactionPlanner.plan(w.manifest, options: o, defaultLevel: 3) { _ in nil }
        #expect(trusted.ledgerMerge?.pruneBefore == july1 + 770 * day)
    }

    /// Item 4: the disk budget deletes processed/ copies first, then store rows, and rejected/
    /// inputs (the only copy of their data) only when no row is left, each named in a log line.
    @Test func budgetDeletesRejectedInputsLast() throws {
        let dir = TempDir()
        let store = dir.path + "/store", processed = dir.path + "/processed", rejected = dir.path + "/rejected"
        for d in [processed, rejected] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let w = try fillStore(store, commits: 4, rowsPerCommit: 400, days: 2)
        defer { w.close() }
        try Data(count: 20_000).write(to: URL(fileURLWithPath: processed + "/objects_detection_1.json"))
        try Data(count: 20_000).write(to: URL(fileURLWithPath: rejected + "/objects_detection_bad.json"))
        let storeBytes = StoreUsage.bytes([store])
        var policy = RetentionPolicy()
        policy.processedDirectory = processed
        policy.rejectedDirectory = rejected
        // Room for the rejected file and some rows: processed/ goes, then rows, rejected/ stays.
        policy.maxBytes = storeBytes / 2 + 20_000
        let log = LogCapture()
        let r = RetentionEnforcer(policy: policy, logger: log.logger(), clock: StoreClock.Manual(wallMicros: july1).clock)
        let rep = try r.enforceBudget(w)
        #expect(rep.budgetMet)
        #expect(!FileManager.default.fileExists(atPath: processed + "/objects_detection_1.json"))
        #expect(FileManager.default.fileExists(atPath: rejected + "/objects_detection_bad.json"), "rejected input kept while rows remain")
        #expect(rep.actions.contains { $0.kind == .dropPartition || $0.kind == .trimPartition })
        // A budget below what metadata needs: every row goes, and only then the rejected input,
        // with a warning naming it.
        var tight = policy
        tight.maxBytes = 1
        let r2 = RetentionEnforcer(policy: tight, logger: log.logger(), clock: StoreClock.Manual(wallMicros: july1).clock)
        let rep2 = try r2.enforceBudget(w)
        #expect(w.manifest.segments.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: rejected + "/objects_detection_bad.json"))
        let order = rep2.actions.map(\.kind)
        let lastRowAction = try #require(order.lastIndex { $0 != .deleteFile })
        let fileDelete = try #require(order.firstIndex(of: .deleteFile))
        #expect(fileDelete > lastRowAction, "rejected/ deleted after every row: \(order)")
        #expect(log.all.contains { $0.hasPrefix("warning") && $0.contains("deleted rejected file") && $0.contains("objects_detection_bad.json") },
                "\(log.all.filter { $0.contains("rejected") })")
    }

    /// Item 4: below the free-space floor, processed/ copies are deleted only when they lie on
    /// the store's file system; elsewhere deleting them frees nothing here and loses the
    /// restore source. (/dev/shm is a tmpfs: another file system than the temp directory.)
    @Test func freeSpaceFloorKeepsProcessedFilesOnAnotherFileSystem() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        let w = try fillStore(store, commits: 1, rowsPerCommit: 10, days: 1)
        defer { w.close() }
        let here = dir.path + "/processed"
        let shm = "/dev/shm/tacho-test-\(getpid())-\(UInt64.random(in: 0..<UInt64.max))"
        for d in [here, shm] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(atPath: shm) }
        try #require(!StoreUsage.sameFileSystem(shm, store), "/dev/shm is not a separate file system here")
        for d in [here, shm] { try Data(count: 5000).write(to: URL(fileURLWithPath: d + "/objects_detection_1.json")) }
        for (processed, deleted) in [(shm, false), (here, true)] {
            var policy = RetentionPolicy()
            policy.minFreeBytes = 1 << 40
            policy.processedDirectory = processed
            let r = RetentionEnforcer(policy: policy, logger: Logger(label: "x"), freeBytes: { _ in 1000 })
            #expect(!r.mayIngest(w.layout))
            #expect(FileManager.default.fileExists(atPath: processed + "/objects_detection_1.json") == !deleted, "\(processed)")
        }
    }
}
