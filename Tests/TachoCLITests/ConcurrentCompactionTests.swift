import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// `tacho compact` from cron holds the writer lock only to plan and to switch (FORMAT.md §3.5
/// "Standalone compaction"): a `tacho ingest` run during its merge succeeds at once, and a
/// kill -9 of either, at any point, loses nothing.
@Suite struct ConcurrentCompactionTests {
    /// Files that restate rows of the fleet store (same vehicles and times, other values: they
    /// must win over the compaction's merged copies) plus new status rows.
    static func writeLateFiles(_ dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        writeFleetFile(dir, index: 60, day: 1)  // restates index 0 (veh0, day 1)
        writeFleetFile(dir, index: 61, day: 2)  // restates index 1 (veh1, day 2)
        writeStatusFile(dir, index: 61, day: 2)
    }

    /// A copy of `template` with the late files ingested the ordinary way: what every
    /// interleaving must answer.
    static func reference(_ template: String, late: String, at path: String) throws -> String {
        try FileManager.default.copyItem(atPath: template, toPath: path)
        let r = try tacho(["ingest", "--store", path, "--log-level", "error", late])
        #expect(r.status == 0, "\(r.stderr)")
        return try queryAll(path)
    }

    /// True once the compactor `p` has reserved its numbers and released the writer lock:
    /// its merge is under way.
    static func waitForMerge(_ store: String, _ p: Process) -> Bool {
        waitUntil(30) {
            !p.isRunning || (!readText(store + "/COMPACTING").isEmpty && readText(store + "/LOCK").isEmpty)
        } && p.isRunning
    }

    /// The acceptance test of issue 17 item 4: ingest during a slow compaction exits 0 long
    /// before the compaction ends; the compaction still publishes; both results are correct.
    @Test func ingestDuringCronCompactionSucceedsAtOnce() throws {
        let dir = TempDir()
        let store = dir.path + "/store", late = dir.path + "/late"
        try buildFleetStore(store)
        try Self.writeLateFiles(late)
        let expected = try Self.reference(store, late: late, at: dir.path + "/ref")
        let segmentsBefore = try segmentCount(store)

        let compactStart = Date()
        let log = dir.path + "/compact.log"
        // ~7 KB of output at 2.5 KB/s: the merge lasts about three seconds.
        let p = try startProcess(["compact", "--store", store, "--compact-rate", "0.0025", "--log-level", "info"], stderrPath: log)
        #expect(Self.waitForMerge(store, p))
        let t0 = Date()
        let r = try tacho(["ingest", "--store", store, "--log-level", "info", late])
        let ingestSeconds = Date().timeIntervalSince(t0)
        let stillCompacting = p.isRunning
        p.waitUntilExit()
        let compactSeconds = Date().timeIntervalSince(compactStart)
        print("concurrent compaction: ingest \(String(format: "%.2f", ingestSeconds)) s during a compaction of \(String(format: "%.2f", compactSeconds)) s")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(stillCompacting, "ingest took \(ingestSeconds) s")
        // The ingest's writer open left the compaction's unfinished outputs alone.
        #expect(!r.stderr.contains("orphan"), "\(r.stderr)")
        #expect(p.terminationStatus == 0, "\(readText(log))")
        #expect(readText(log).contains("compacted partition"), "\(readText(log))")
        #expect(!readText(log).contains("discarded"), "\(readText(log))")
        #expect(try queryAll(store) == expected)
        #expect(try tacho(["verify", "--store", store]).status == 0)
        #expect(try noOrphans(store))
        // 6 merged partitions plus the ingest's 3 newer segments (which beat the merged copies).
        #expect(try segmentCount(store) == 9, "\(segmentsBefore) before")
        #expect(readText(store + "/COMPACTING").isEmpty)
        let again = try tacho(["compact", "--store", store, "--compact-rate", "0"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try segmentCount(store) == 6)
        #expect(try queryAll(store) == expected)
    }

    /// A second `tacho compact` while one merges exits 75 naming the first; the first publishes.
    @Test func secondCompactionIsRefusedWhileOneMerges() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store, files: 30)
        let baseline = try queryAll(store)
        let p = try startProcess(["compact", "--store", store, "--compact-rate", "0.002"])
        #expect(Self.waitForMerge(store, p))
        let second = try tacho(["compact", "--store", store])
        p.waitUntilExit()
        #expect(second.status == 75, "\(second.stderr)")
        #expect(second.stderr.contains("another `tacho compact` is running (pid \(p.processIdentifier))"), "\(second.stderr)")
        #expect(p.terminationStatus == 0)
        #expect(try queryAll(store) == baseline)
        #expect(try noOrphans(store))
    }

    /// The compactor killed at each of its steps after an ingest committed during its merge:
    /// readers at once see every row of both (the ingest's rows, and the old or the merged
    /// copies of the rest); the next writer removes what the dead compactor left; a new run
    /// completes the job.
    @Test func compactorKilledAtEachStepWithIngestInBetween() throws {
        let dir = TempDir()
        let template = dir.path + "/template", late = dir.path + "/late"
        try buildFleetStore(template)
        try Self.writeLateFiles(late)
        let expected = try Self.reference(template, late: late, at: dir.path + "/ref")
        let points = [CrashPoint.compactionWritten, CrashPoint.beforeManifestSwitch + "@2",
                      CrashPoint.afterManifestSwitch + "@2", CrashPoint.compactionSwitched]
        for (i, point) in points.enumerated() {
            let store = dir.path + "/s\(i)"
            try FileManager.default.copyItem(atPath: template, toPath: store)
            // @2: the reservation is the compactor's first manifest switch, the publish its second.
            let p = try startProcess(["compact", "--store", store, "--compact-rate", "0.004"], env: ["TACHO_CRASH_POINT": point])
            #expect(Self.waitForMerge(store, p), "\(point)")
            let r = try tacho(["ingest", "--store", store, "--log-level", "error", late])
            #expect(r.status == 0, "\(point): \(r.stderr)")
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal, "\(point)")
            #expect(try tacho(["verify", "--store", store]).status == 0, "\(point)")
            #expect(try queryAll(store) == expected, "\(point)")
            // The claim died with the compactor: the next writer removes its leftovers.
            let w = try StoreWriter(path: store, options: quietOptions())
            w.close()
            #expect(try noOrphans(store), "\(point)")
            let again = try tacho(["compact", "--store", store, "--compact-rate", "0"])
            #expect(again.status == 0, "\(point): \(again.stderr)")
            #expect(try segmentCount(store) == 6, "\(point)")
            #expect(try queryAll(store) == expected, "\(point)")
            #expect(try noOrphans(store), "\(point)")
            try? FileManager.default.removeItem(atPath: store)
        }
    }

    /// kill -9 at random moments, of the compactor and (every other round) of an ingest
    /// running beside it: right after, readers see the store before or after the ingest's
    /// one commit, never anything else; finishing the ingest and compacting again gives the
    /// reference answers and no orphan.
    @Test func randomKillsOfCompactorAndIngestLoseNothing() throws {
        let dir = TempDir()
        let template = dir.path + "/template", late = dir.path + "/late"
        try buildFleetStore(template)
        try Self.writeLateFiles(late)
        let baseline = try queryAll(template)
        let expected = try Self.reference(template, late: late, at: dir.path + "/ref")
        var rng = SplitMix64(state: 0x17_04)
        var compactorKills = 0, ingestKills = 0, ingestsDone = 0
        for i in 0..<8 {
            let store = dir.path + "/s\(i)"
            try FileManager.default.copyItem(atPath: template, toPath: store)
            let c = try startProcess(["compact", "--store", store, "--compact-rate", "0.004"])
            let ingestAt = UInt32(rng.next() % 1_200_000), killAt = UInt32(100_000 + rng.next() % 2_000_000)
            usleep(ingestAt)
            let ing = try startProcess(["ingest", "--store", store, "--log-level", "error", late])
            if i % 2 == 1 {
                usleep(UInt32(rng.next() % 400_000))
                kill(ing.processIdentifier, SIGKILL)
            }
            if killAt > ingestAt { usleep(killAt - ingestAt) }
            kill(c.processIdentifier, SIGKILL)
            c.waitUntilExit()
            ing.waitUntilExit()
            if c.terminationReason == .uncaughtSignal { compactorKills += 1 }
            if ing.terminationReason == .uncaughtSignal { ingestKills += 1 }
            if ing.terminationReason == .exit && ing.terminationStatus == 0 { ingestsDone += 1 }
            #expect(try tacho(["verify", "--store", store]).status == 0, "round \(i)")
            let now = try queryAll(store)
            #expect(now == baseline || now == expected, "round \(i)")
            let again = try tacho(["ingest", "--store", store, "--log-level", "error", late])
            #expect(again.status == 0, "round \(i): \(again.stderr)")
            let c2 = try tacho(["compact", "--store", store, "--compact-rate", "0"])
            #expect(c2.status == 0, "round \(i): \(c2.stderr)")
            #expect(try queryAll(store) == expected, "round \(i)")
            #expect(try tacho(["verify", "--store", store]).status == 0, "round \(i)")
            #expect(try noOrphans(store), "round \(i)")
            try? FileManager.default.removeItem(atPath: store)
        }
        print("random kills: \(compactorKills) compactors and \(ingestKills) ingests killed, \(ingestsDone) ingests finished beside a compaction, of 8 rounds")
        #expect(compactorKills >= 5)
        #expect(ingestsDone >= 2)
    }

    /// Killed right after reserving (lock released, nothing written): the numbers are burnt,
    /// nothing else changes, and a later ingest and compaction work as usual.
    @Test func compactorKilledAfterReservingChangesNothing() throws {
        let dir = TempDir()
        let store = dir.path + "/store", late = dir.path + "/late"
        try buildFleetStore(store, files: 30)
        try Self.writeLateFiles(late)
        let baseline = try queryAll(store)
        let before = try Snapshot.open(path: store, options: quietOptions()).manifest
        let r = try tacho(["compact", "--store", store], env: ["TACHO_CRASH_POINT": CrashPoint.compactionReserved])
        #expect(r.killedBySignal == SIGKILL)
        let after = try Snapshot.open(path: store, options: quietOptions()).manifest
        #expect(after.segments == before.segments && after.ledgers == before.ledgers)
        #expect(after.nextNumber > before.nextNumber)
        #expect(try queryAll(store) == baseline)
        #expect(try tacho(["ingest", "--store", store, "--log-level", "error", late]).status == 0)
        let c = try tacho(["compact", "--store", store, "--compact-rate", "0"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(try tacho(["verify", "--store", store]).status == 0)
        #expect(try noOrphans(store))
    }

    /// An ingest killed mid-commit during the merge leaves orphans; the next ingest's writer
    /// removes them but not the running compaction's outputs, which it then publishes.
    @Test func ingestKilledDuringTheMergeLosesNothing() throws {
        let dir = TempDir()
        let store = dir.path + "/store", late = dir.path + "/late"
        try buildFleetStore(store)
        try Self.writeLateFiles(late)
        let expected = try Self.reference(store, late: late, at: dir.path + "/ref")
        let log = dir.path + "/compact.log"
        let p = try startProcess(["compact", "--store", store, "--compact-rate", "0.002", "--log-level", "info"], stderrPath: log)
        #expect(Self.waitForMerge(store, p))
        for point in [CrashPoint.beforeManifestSwitch, CrashPoint.afterManifestSwitch] {
            let killed = try tacho(["ingest", "--store", store, late], env: ["TACHO_CRASH_POINT": point])
            #expect(killed.killedBySignal == SIGKILL, "\(point)")
        }
        let r = try tacho(["ingest", "--store", store, "--log-level", "notice", late])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(p.isRunning, "the merge should outlast three ingests")
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(readText(log))")
        #expect(readText(log).contains("compacted partition"))
        #expect(try queryAll(store) == expected)
        #expect(try tacho(["verify", "--store", store]).status == 0)
        #expect(try noOrphans(store))
    }

    /// While it merges, `tacho run` starts and holds the lock: the compactor waits for it at
    /// the switch (the daemon's writer open left its outputs alone), publishes once the daemon
    /// stops, and everything the daemon ingested meanwhile is there.
    @Test func switchWaitsForADaemonThatStartedDuringTheMerge() throws {
        let dir = TempDir()
        let store = dir.path + "/store", inbox = dir.path + "/inbox"
        try buildFleetStore(store)
        try Self.writeLateFiles(dir.path + "/late")
        let expected = try Self.reference(store, late: dir.path + "/late", at: dir.path + "/ref")
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let log = dir.path + "/compact.log"
        let p = try startProcess(["compact", "--store", store, "--compact-rate", "0.0015", "--log-level", "info"], stderrPath: log)
        #expect(Self.waitForMerge(store, p))
        let run = try startRun(dir.path, extra: ["--compact-every", "0"])
        #expect(waitUntil(20) { readText(store + "/LOCK").contains("\(run.processIdentifier)") })
        for f in files(in: dir.path + "/late") {
            try FileManager.default.copyItem(atPath: dir.path + "/late/" + f, toPath: inbox + "/" + f)
        }
        #expect(waitUntil(30) { files(in: inbox).isEmpty })
        #expect(waitUntil(30) { readText(log).contains("store is locked by another writer; waiting") })
        #expect(p.isRunning)
        run.terminate()
        run.waitUntilExit()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(readText(log))")
        #expect(readText(log).contains("compacted partition"))
        #expect(try queryAll(store) == expected)
        #expect(try tacho(["verify", "--store", store]).status == 0)
        #expect(try noOrphans(store))
    }
}
