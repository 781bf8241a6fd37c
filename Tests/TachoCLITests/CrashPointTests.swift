import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// A child `tacho ingest` SIGKILLs itself at a named point of the commit (TACHO_CRASH_POINT);
/// reopening the store must show all of that commit or none of it.
@Suite struct CrashPointTests {
    let first = fixtures + "/mobileye-nested/objects_detection_20240718_140532.json"  // 6 rows
    let second = fixtures + "/mobileye-flat/objects_detection_20240703T210234.json"  // 3 rows, other identities? see below

    @Test func killBetweenSegmentWritesAndSwitchLeavesNothingAndOrphansGo() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        #expect(try tacho(["ingest", "--store", store, first]).status == 0)
        let before = files(in: store + "/segments")
        let other = fixtures + "/mobileye-nested/vehicles_status_1651788155.json"
        let r = try tacho(["ingest", "--store", store, other], env: ["TACHO_CRASH_POINT": CrashPoint.beforeManifestSwitch])
        #expect(r.killedBySignal == SIGKILL)
        // The killed commit wrote its segments (and a temp manifest) but never switched.
        let after = files(in: store + "/segments")
        #expect(after.count > before.count)
        #expect(FileManager.default.fileExists(atPath: store + "/MANIFEST.tmp"))
        // Readers see the old commit.
        let snap = try Snapshot.open(path: store, options: quietOptions())
        #expect(snap.manifest.segments.allSatisfy { $0.measurementID == Measurement.detections.id })
        // A writer reopening removes the orphans.
        let w = try StoreWriter(path: store, options: quietOptions())
        w.close()
        #expect(files(in: store + "/segments") == before)
        #expect(!FileManager.default.fileExists(atPath: store + "/MANIFEST.tmp"))
        #expect(try detectionCount(store) == 6)
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }

    @Test func killJustAfterSwitchKeepsEveryRow() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        let r = try tacho(["ingest", "--store", store, first], env: ["TACHO_CRASH_POINT": CrashPoint.afterManifestSwitch + "@2"])
        // @2: the store's creation switches the manifest once before the file's commit.
        #expect(r.killedBySignal == SIGKILL)
        let w = try StoreWriter(path: store, options: quietOptions())
        #expect(w.ledger.count == 1)
        w.close()
        #expect(try detectionCount(store) == 6)
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }

    @Test func killAfterSegmentWriteMidCommitLeavesNothing() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        #expect(try tacho(["ingest", "--store", store, first]).status == 0)
        let r = try tacho(["ingest", "--store", store, second], env: ["TACHO_CRASH_POINT": CrashPoint.segmentWritten])
        #expect(r.killedBySignal == SIGKILL)
        _ = try StoreWriter(path: store, options: quietOptions())
        #expect(try detectionCount(store) == 6)
    }

    /// `tacho ingest` of a directory commits its small files as one group: a kill before the
    /// switch shows none of them; the next run ingests every file exactly once.
    @Test func killDuringAGroupCommitShowsNoFileOfTheGroup() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        let input = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        for f in ["mobileye-nested/objects_detection_20240718_140532.json", "mobileye-flat/objects_detection_20240703T210234.json",
                  "mobileye-nested/vehicles_status_1651788155.json"] {
            try FileManager.default.copyItem(atPath: fixtures + "/" + f, toPath: input + "/" + (f.split(separator: "/").last.map(String.init) ?? f))
        }
        let r = try tacho(["ingest", "--store", store, input], env: ["TACHO_CRASH_POINT": CrashPoint.beforeManifestSwitch + "@2"])
        // @2: the store's creation switches the manifest once before the group's commit.
        #expect(r.killedBySignal == SIGKILL)
        let w = try StoreWriter(path: store, options: quietOptions())
        #expect(w.ledger.isEmpty)
        #expect(w.manifest.segments.isEmpty)
        w.close()
        let again = try tacho(["ingest", "--store", store, input])
        #expect(again.status == 0, "\(again.stderr)")
        let w2 = try StoreWriter(path: store, options: quietOptions())
        #expect(w2.ledger.count == 3)
        #expect(w2.manifest.commit == 1)  // creation is commit 0; one commit for the group
        w2.close()
        // 9 rows, 3 of them restated by the later file (by name) of the same group: it wins.
        #expect(try detectionCount(store) == 6)
        let trucks = try tacho(["query", "detections", "--store", store, "--type", "trucks"])
        #expect(trucks.stdout.hasSuffix(",trucks,5\n"), "\(trucks.stdout)")
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }
}
