import Foundation
import Testing
import TachoStore
import TachoTestSupport

/// One writer per store: while `tacho run` holds the store, `tacho ingest` fails at once
/// naming the holder's pid, or with --wait-lock waits until the daemon stops, then ingests.
@Suite struct LockWaitTests {
    @Test func ingestWaitsForTheDaemonWithWaitLock() throws {
        let dir = TempDir("tacho-lockwait")
        try FileManager.default.createDirectory(atPath: dir.path + "/inbox", withIntermediateDirectories: true)
        let run = try startRun(dir.path)
        let store = dir.path + "/store"
        #expect(waitUntil(20) { FileManager.default.fileExists(atPath: store + "/MANIFEST") })
        let file = fixtures + "/mobileye-nested/objects_detection_20240718_140532.json"

        let refused = try tacho(["ingest", "--store", store, "--log-level", "error", file])
        #expect(refused.status == 75)
        #expect(refused.stderr.contains("another writer holds it (pid \(run.processIdentifier))"), "\(refused.stderr)")

        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) { run.terminate() }
        let start = Date()
        let waited = try tacho(["ingest", "--store", store, "--wait-lock", "30s", file])
        run.waitUntilExit()
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stderr.contains("store is locked by another writer; waiting"), "\(waited.stderr)")
        #expect(Date().timeIntervalSince(start) >= 0.5)
        #expect(try detectionCount(store) == 6)

        // The same for tacho compact, which needs the lock to plan (and later to switch).
        let run2 = try startRun(dir.path)
        #expect(waitUntil(20) { (try? String(contentsOfFile: store + "/LOCK", encoding: .utf8))?.contains("\(run2.processIdentifier)") == true })
        #expect(try tacho(["compact", "--store", store, "--log-level", "error"]).status == 75)
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) { run2.terminate() }
        let compacted = try tacho(["compact", "--store", store, "--log-level", "error", "--wait-lock", "30s"])
        run2.waitUntilExit()
        #expect(compacted.status == 0, "\(compacted.stderr)")

        let bad = try tacho(["ingest", "--store", store, "--wait-lock", "soon", file])
        #expect(bad.status != 0 && bad.stderr.contains("--wait-lock soon: expected a duration"), "\(bad.stderr)")
    }
}
