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
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("another writer holds it (pid \(run.processIdentifier))"), "\(refused.stderr)")

        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) { run.terminate() }
        let start = Date()
        let waited = try tacho(["ingest", "--store", store, "--wait-lock", "30s", file])
        run.waitUntilExit()
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(waited.stderr.contains("store is locked by another writer; waiting"), "\(waited.stderr)")
        #expect(Date().timeIntervalSince(start) >= 0.5)
        #expect(try detectionCount(store) == 6)

        let bad = try tacho(["ingest", "--store", store, "--wait-lock", "soon", file])
        #expect(bad.status != 0 && bad.stderr.contains("--wait-lock soon: expected a duration"), "\(bad.stderr)")
    }
}
