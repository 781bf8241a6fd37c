import Dispatch
import Foundation
import Logging
import Synchronization
import Testing
import TachoFormat
import TachoJSON
@testable import TachoIngest
import TachoFaults
import TachoStore
import TachoTestSupport

/// Issue 12: what an edge box meets in ordinary operation — a producer reusing one file name,
/// retention that raised a watermark, a disk too full for a whole commit group, settings that
/// would loop — loses nothing.
@Suite struct EdgeConditionTests {
    /// A daemon on `inbox` writing into `store`; `configure` adjusts it before it runs.
    final class RunningDaemon: @unchecked Sendable {
        let daemon: InboxDaemon
        let stop = StopFlag()
        let done = DispatchSemaphore(value: 0)
        var runError: (any Error)?

        init(_ daemon: InboxDaemon) {
            self.daemon = daemon
            Thread.detachNewThread { [self] in
                do { try self.daemon.run(until: stop) } catch { runError = error }
                done.signal()
            }
        }

        func finish() {
            stop.stop()
            done.wait()
        }
    }

    func daemonConfig(_ inbox: String) -> InboxConfig {
        var c = InboxConfig()
        c.inbox = inbox
        c.settleSeconds = 0.05
        c.parseThreads = 1
        return c
    }

    func names(_ dir: String) -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") })
    }

    /// One detection file named `name` whose rows carry `version` as their value.
    func writeVersion(_ dir: String, name: String, version: Int) -> Row {
        let t: Int64 = 1_719_792_000_000_000 + Int64(version) * 1_000_000
        let json = #"{"objects_detection_events":[{"vehicle_id":"v1","detection_time":"\#(Timestamp.format(t))","detections":[{"object_type":"cars","object_value":\#(version)}]}]}"#
        _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(json.utf8))
        return Row(vehicle: "v1", time: t, label: "cars", value: Int64(version))
    }

    /// Item 2: the producer renames a new version onto the name of a file the daemon has just
    /// committed, before the daemon moves it out. What moves to processed/ must be exactly what
    /// was ingested; the new version is ingested in its turn. (Before the claim step, the new
    /// version went to processed/ unread.)
    @Test func aReusedFileNameLosesNoVersion() throws {
        let dir = TempDir("tacho-reuse")
        let inbox = dir.path + "/inbox", store = dir.path + "/store", staging = dir.path + "/staging"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let w = try StoreWriter(path: store, options: quietOptions())
        defer { w.close() }
        let daemon = try InboxDaemon(config: daemonConfig(inbox), writer: w, logger: quietLogger())
        var expected: Set<Row> = [writeVersion(inbox, name: "objects_detection_x.json", version: 1)]
        let versions = 4
        let produced = Mutex(1)
        nonisolated(unsafe) var newRows: [Row] = []
        // Runs after each commit, before the committed files leave the inbox: exactly the
        // moment the producer's rename used to be lost.
        daemon.afterCommit = {
            let v = produced.withLock { n -> Int? in
                guard n < versions else { return nil }
                n += 1
                return n
            }
            guard let v else { return }
            newRows.append(self.writeVersion(staging, name: "objects_detection_x.json", version: v))
            rename(staging + "/objects_detection_x.json", inbox + "/objects_detection_x.json")
        }
        let run = RunningDaemon(daemon)
        let drained = waitUntil(20) {
            produced.withLock { $0 } == versions && self.names(inbox).isEmpty && self.names(inbox + "/.tacho-claimed").isEmpty
                && self.names(dir.path + "/processed").count == versions
        }
        run.finish()
        expected.formUnion(newRows)
        #expect(drained, "inbox \(names(inbox)), processed \(names(dir.path + "/processed"))")
        #expect(run.runError == nil)
        #expect(Set(try allRows(store, .detections)) == expected, "every version's row is in the store")
        #expect(names(dir.path + "/processed").count == versions)
    }

    /// Item 1: a row older than its measurement's retention watermark is rejected with the
    /// reason and counted, never reported as ingested and stored hidden.
    @Test func rowsBelowTheWatermarkAreRejectedWithTheReason() throws {
        let dir = TempDir("tacho-watermark")
        let store = dir.path + "/store"
        let day: Int64 = 86_400_000_000
        let t0: Int64 = 1_719_792_000_000_000  // 2024-07-01
        func event(_ t: Int64, _ v: Int) -> String {
            #"{"vehicle_id":"v1","detection_time":"\#(Timestamp.format(t))","object_type":"cars","object_value":\#(v)}"#
        }
        let first = dir.path + "/objects_detection_1.json"
        try Data(#"{"objects_detection_events":[\#(event(t0, 1)),\#(event(t0 + 3 * day, 2))]}"#.utf8).write(to: URL(fileURLWithPath: first))
        try ingest(store, [first])
        // Retention (a trusted clock one day after the newest row) expires everything before t0 + 2d.
        do {
            let w = try StoreWriter(path: store, options: quietOptions())
            defer { w.close() }
            var policy = RetentionPolicy()
            policy.maxAge = [Measurement.detections.id: 2 * day]
            let r = RetentionEnforcer(policy: policy, logger: quietLogger(), clock: StoreClock.Manual(wallMicros: t0 + 4 * day).clock)
            try r.enforceAge(w)
            #expect(w.manifest.watermarks[Measurement.detections.id] == t0 + 2 * day)
        }
        let late = dir.path + "/objects_detection_2.json"
        try Data(#"{"objects_detection_events":[\#(event(t0 + day, 3)),\#(event(t0 + 3 * day + 5000, 4))]}"#.utf8).write(to: URL(fileURLWithPath: late))
        let res = try #require(try ingest(store, [late]).first)
        guard case .ingested(let report) = res.outcome else { Issue.record("\(res.outcome)"); return }
        #expect(report.rows == 1, "only the row above the watermark is ingested")
        #expect(report.rejectCount == 1)
        let reason = try #require(report.rejects.first?.reason)
        #expect(reason.contains("older than the retention watermark of detections"), "\(reason)")
        #expect(Set(try allRows(store, .detections)) == [
            Row(vehicle: "v1", time: t0 + 3 * day, label: "cars", value: 2),
            Row(vehicle: "v1", time: t0 + 3 * day + 5000, label: "cars", value: 4),
        ])
    }

    /// Item 12: a disk too full for a whole group's segments but not for one file's: the
    /// daemon falls back to smaller commits instead of retrying the same group forever.
    @Test func aDiskTooFullForAGroupTakesSmallerCommits() throws {
        let dir = TempDir("tacho-shrink")
        let inbox = dir.path + "/inbox", store = dir.path + "/store", staging = dir.path + "/staging"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let fs = FaultInjectingFileSystem()
        let w = try StoreWriter(path: store, options: faultStoreOptions(fs))
        defer { w.close() }
        // How large one file's segment is: ingest one pair alone first.
        let probe = writeTelemetry(staging, tag: 0)
        var expected = probe.rows
        let ing = Ingestor(writer: w, logger: quietLogger())
        _ = try ing.ingest(path: probe.paths[0])
        let one = w.manifest.segments.map(\.fileSize).max().map { Int($0) } ?? 0
        #expect(one > 0)
        // Eight files with disjoint vehicles arrive at once; a segment holding several of them
        // is larger than what fits.
        var paths: [String] = []
        for tag in 1...8 {
            let t = writeTelemetry(staging, tag: tag * 10)
            expected.formUnion(t.rows)
            paths.append(t.paths[0])
        }
        fs.limitFileSize(one * 3 / 2, pathContains: "segments/")
        for p in paths { rename(p, inbox + "/" + (p as NSString).lastPathComponent) }
        let daemon = try InboxDaemon(config: daemonConfig(inbox), writer: w, logger: quietLogger())
        let run = RunningDaemon(daemon)
        let drained = waitUntil(30) { self.names(inbox).isEmpty && self.names(inbox + "/.tacho-claimed").isEmpty }
        run.finish()
        #expect(drained, "inbox \(names(inbox)) \(names(inbox + "/.tacho-claimed")); faults \(fs.injected.prefix(3))")
        #expect(!fs.injected.isEmpty, "the first group did not hit the full disk")
        #expect(names(dir.path + "/processed").count == 8)
        #expect(Set(try allRows(store, .detections)) == expected)
        #expect(try storeIsClean(store))
    }

    /// The clean-up of old processed/ files (default 7 days) deletes by age too: a clock two
    /// years ahead of the newest stored row must not empty the restore source. With a trusted
    /// clock the same file goes.
    @Test func processedCleanupWaitsForATrustedClock() throws {
        let dir = TempDir("tacho-cleanup")
        let inbox = dir.path + "/inbox", store = dir.path + "/store"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let staging = dir.path + "/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let t = writeTelemetry(staging, tag: 1)
        try ingest(store, [t.paths[0]])  // newest row: 2024-07-02
        let w = try StoreWriter(path: store, options: quietOptions())
        defer { w.close() }
        let daemon = try InboxDaemon(config: daemonConfig(inbox), writer: w, logger: quietLogger())
        let old = dir.path + "/processed/objects_detection_old.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: old))
        let twoYears: Int64 = 730 * 86_400_000_000
        let ahead = StoreClock.Manual(wallMicros: wallClockMicros() + twoYears).clock
        daemon.clockTrust = ClockTrust(clock: ahead)
        daemon.cleanupProcessed()
        #expect(FileManager.default.fileExists(atPath: old), "a clock two years ahead of the data deleted processed/")
        daemon.clockTrust = ClockTrust(clock: ahead, maxLead: 0)  // the operator vouches for it
        daemon.cleanupProcessed()
        #expect(!FileManager.default.fileExists(atPath: old))
    }

    /// Item 11: processed/ or rejected/ equal to the inbox or inside it would take every moved
    /// file again (renamed x.1.1.1…, or the daemon's own .error reports parsed): refused at
    /// start with a message saying what to do. So are processed == rejected and overlaps with
    /// the store.
    @Test(arguments: [
        ("inbox", "", "the inbox itself"),
        ("inbox/done", "", "inside the inbox"),
        ("", "inbox", "the inbox itself"),
        ("", "inbox/bad", "inside the inbox"),
        ("same", "same", "the same directory"),
        ("store/p", "", "overlap"),
    ])
    func settingsThatWouldLoopAreRefused(processed: String, rejected: String, message: String) throws {
        let dir = TempDir("tacho-loop")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let w = try StoreWriter(path: dir.path + "/store", options: quietOptions())
        defer { w.close() }
        var c = daemonConfig(inbox)
        if !processed.isEmpty { c.processed = dir.path + "/" + processed }
        if !rejected.isEmpty { c.rejected = dir.path + "/" + rejected }
        #expect {
            _ = try InboxDaemon(config: c, writer: w, logger: quietLogger())
        } throws: { e in
            guard let e = e as? InboxConfigError else { return false }
            return e.message.contains(message)
        }
        // The defaults (beside the inbox) are accepted.
        _ = try InboxDaemon(config: daemonConfig(inbox), writer: w, logger: quietLogger())
    }
}
