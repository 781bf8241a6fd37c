import Dispatch
import Foundation
import Logging
import Synchronization
import Testing
import TachoDaemon
import TachoFormat
import TachoIngest
import TachoStore
import TachoTestSupport

/// `tacho run` assembled without the CLI: the daemon ingests an inbox, its counters are read
/// from another thread while it runs, and it closes the store when stopped.
@Suite struct TachoDaemonTests {
    func quietLogger() -> Logger {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }

    func setup(_ dir: String) -> DaemonSetup {
        var opts = StoreOptions()
        opts.logger = quietLogger()
        var c = InboxConfig()
        c.inbox = dir + "/inbox"
        c.settleSeconds = 0.05
        c.parseThreads = 1
        return DaemonSetup(storePath: dir + "/store", storeOptions: opts, inbox: c)
    }

    /// Rows a scan of the store sees in `m`.
    func storedRows(_ store: String, _ m: TachoFormat.Measurement) throws -> Int {
        let snap = try Snapshot.open(path: store)
        let c = try ScanCursor(snapshot: snap, spec: ScanSpec(m))
        var n = 0
        while let b = try c.next() { n += b.range.count }
        return n
    }

    @Test func ingestsAnInboxAndCountsWhatItDid() throws {
        let dir = TempDir("tacho-daemon")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let nested = fixturesDirectory + "/mobileye-nested"
        let names = try FileManager.default.contentsOfDirectory(atPath: nested).filter { $0.hasSuffix(".json") }.sorted()
        for n in names { try FileManager.default.copyItem(atPath: nested + "/" + n, toPath: inbox + "/" + n) }
        try Data("{\"objects_detection_events\": [".utf8).write(to: URL(fileURLWithPath: inbox + "/objects_detection_broken.json"))
        var s = setup(dir.path)
        let events = Mutex<[String]>([])
        s.ready = { events.withLock { $0.append("ready") } }
        s.stopping = { events.withLock { $0.append("stopping") } }
        nonisolated(unsafe) let daemonSetup = s
        let stop = StopFlag()
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var runError: (any Error)?
        Thread.detachNewThread {
            do { try TachoDaemon.run(daemonSetup, until: stop, logger: self.quietLogger()) } catch { runError = error }
            done.signal()
        }
        let counters = s.counters
        let ingested = waitUntil(30) { counters.snapshot().files == names.count && counters.snapshot().rejectedFiles == 1 }
        let rowsBefore = counters.snapshot().rows
        // The same content again under a new name: a re-delivery, skipped, not ingested twice.
        try FileManager.default.copyItem(atPath: nested + "/" + names[0], toPath: inbox + "/again-" + names[0])
        let skipped = waitUntil(30) { counters.snapshot().redeliveriesSkipped == 1 }
        stop.stop()
        done.wait()
        #expect(runError == nil, "\(String(describing: runError))")
        #expect(ingested && skipped, "\(counters.snapshot())")
        let stats = counters.snapshot()
        #expect(stats.files == names.count)
        #expect(stats.rejectedFiles == 1)
        #expect(stats.commits >= 1 && stats.commits <= names.count)
        let stored = try storedRows(dir.path + "/store", .detections) + storedRows(dir.path + "/store", .status)
        // Input rows, counted once: the fixtures repeat some identities (stored once), and the
        // skipped re-delivery adds none.
        #expect(stats.rows >= stored && stored > 0, "\(stats) against \(stored) stored rows")
        #expect(stats.rows == rowsBefore)
        #expect(events.withLock { $0 } == ["ready", "stopping"])
        // Stopped means closed: another writer can open the store.
        let w = try StoreWriter(path: dir.path + "/store", options: daemonSetup.storeOptions)
        w.close()
    }

    /// A store another writer holds: the daemon fails before it is ready, with the store's
    /// own error (the CLI maps it to exit 75).
    @Test func aHeldStoreStopsItBeforeReady() throws {
        let dir = TempDir("tacho-daemon-locked")
        var s = setup(dir.path)
        let holder = try StoreWriter(path: dir.path + "/store", options: s.storeOptions)
        defer { holder.close() }
        nonisolated(unsafe) var readied = false
        s.ready = { readied = true }
        #expect { try TachoDaemon.run(s, until: StopFlag(), logger: quietLogger()) } throws: { error in
            (error as? StoreError)?.code == .locked
        }
        #expect(!readied)
    }
}
