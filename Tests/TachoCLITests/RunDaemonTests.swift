import Foundation
import Testing
import TachoFormat
import TachoJSON
import TachoStore
import TachoTestSupport

/// Writes a detection file with `events` events of one vehicle, unique times per file index.
func writeDetectionFile(_ dir: String, index: Int, events: Int = 10) -> Set<String> {
    var rows = Set<String>()
    var text = "{\"objects_detection_events\":[\n"
    for e in 0..<events {
        let ms = index * 100_000 + e * 1000
        let time = String(format: "2024-07-01T%02d:%02d:%02d.%03dZ", ms / 3_600_000 % 24, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
        let v = "veh\(index % 7)"
        text += (e > 0 ? ",\n" : "") + "{\"vehicle_id\":\"\(v)\",\"detection_time\":\"\(time)\",\"detections\":[{\"object_type\":\"cars\",\"object_value\":\(e % 5)},{\"object_type\":\"signs\",\"object_value\":1}]}"
        rows.insert("\(v)|\(time)|cars")
        rows.insert("\(v)|\(time)|signs")
    }
    text += "\n]}\n"
    let tmp = dir + "/.objects_detection_\(index).json.tmp"
    _ = FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8))
    try? FileManager.default.moveItem(atPath: tmp, toPath: dir + "/objects_detection_\(index).json")
    return rows
}

/// Every detection row as "vehicle|time|type", counting duplicates.
func detectionKeys(_ store: String) throws -> [String] {
    let snap = try Snapshot.open(path: store, options: quietOptions())
    let c = try ScanCursor(snapshot: snap, spec: ScanSpec(.detections))
    var out: [String] = []
    while let b = try c.next() {
        for i in b.range {
            let t = Timestamp.format(b.chunk.times[i])
            out.append("\(b.vehicle)|\(t)|\(b.chunk.columns[0].string(at: i))")
        }
    }
    return out
}

func startRun(_ root: String, extra: [String] = []) throws -> Process {
    try startProcess(["run", "--store", root + "/store", "--inbox", root + "/inbox", "--settle", "0.2", "--log-level", "warning"] + extra)
}


@Suite(.serialized) struct RunDaemonTests {
    @Test func endToEndInboxDrainsExactlyOnceAndStopsOnSigterm() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        // Waiting before start: a fixture pair.
        try FileManager.default.copyItem(atPath: fixtures + "/mobileye-nested/objects_detection_20240718_140532.json", toPath: inbox + "/objects_detection_20240718_140532.json")
        let daemon = try startRun(dir.path)
        var expected = Set<String>()
        // Write-then-rename.
        for i in 1...5 { expected.formUnion(writeDetectionFile(inbox, index: i)) }
        // A slow partial write: the file must not be taken until it is complete.
        let slow = inbox + "/objects_detection_slow.json"
        _ = FileManager.default.createFile(atPath: slow, contents: nil)
        let fh = try FileHandle(forWritingTo: URL(fileURLWithPath: slow))
        fh.write(Data("{\"objects_detection_events\":[{\"vehicle_id\":\"slow\",".utf8))
        usleep(600_000)
        fh.write(Data("\"detection_time\":\"2024-07-02T00:00:00Z\",\"object_type\":\"cars\",\"object_value\":1}]}".utf8))
        try fh.close()
        expected.insert("slow|2024-07-02T00:00:00.000Z|cars")
        // A re-delivery under another name, an unparseable file, a file with a bad record.
        // (Waits for the first copy to be processed: on a loaded box that can take seconds.)
        let first = inbox + "/../processed/objects_detection_1.json"
        try #require(waitUntil(15) { FileManager.default.fileExists(atPath: first) }, "objects_detection_1.json not processed")
        try FileManager.default.copyItem(atPath: first, toPath: inbox + "/objects_detection_1_again.json")
        _ = FileManager.default.createFile(atPath: inbox + "/objects_detection_bad.json", contents: Data("{\"objects_detection_events\":[{]}".utf8))
        _ = FileManager.default.createFile(atPath: inbox + "/vehicles_status_mixed.json", contents: Data(
            #"{"vehicle_status":[{"vehicle_id":"a","report_time":"2024-07-01T00:00:00Z","status":"driving"},{"vehicle_id":"b","report_time":"nope","status":"x"}]}"#.utf8))
        // Ignored names.
        _ = FileManager.default.createFile(atPath: inbox + "/.hidden.json", contents: Data("x".utf8))
        _ = FileManager.default.createFile(atPath: inbox + "/upload.part", contents: Data("x".utf8))
        let drained = waitUntil(15) {
            files(in: inbox) == [".hidden.json", "upload.part"]
        }
        #expect(drained, "inbox still holds \(files(in: inbox))")
        let t0 = Date()
        daemon.terminate()  // SIGTERM
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0)
        #expect(Date().timeIntervalSince(t0) < 5)
        let processed = files(in: dir.path + "/processed")
        #expect(processed.contains("objects_detection_1_again.json"))
        #expect(processed.contains("objects_detection_slow.json"))
        #expect(processed.contains("vehicles_status_mixed.json"))
        #expect(processed.count == 9)
        #expect(files(in: dir.path + "/rejected") == [
            "objects_detection_bad.json", "objects_detection_bad.json.error", "vehicles_status_mixed.json.rejects.ndjson",
        ])
        let err = try String(contentsOfFile: dir.path + "/rejected/objects_detection_bad.json.error", encoding: .utf8)
        #expect(err.contains("line: 1") && err.contains("column: 31"))
        let keys = try detectionKeys(dir.path + "/store")
        #expect(keys.count == Set(keys).count, "duplicates visible")
        #expect(Set(keys).isSuperset(of: expected))
        #expect(keys.count == expected.count + 6)  // + the fixture's 6 rows
    }

    /// SIGKILL `tacho run` at random moments while it drains a few hundred files, restart,
    /// 20 times; at the end every row is present exactly once and every file is accounted for.
    @Test func randomKillsLoseNothingAndDuplicateNothing() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        var expected = Set<String>()
        let total = 300
        for i in 0..<total { expected.formUnion(writeDetectionFile(inbox, index: i, events: 5)) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let p = try startRun(dir.path)
            usleep(UInt32.random(in: 100_000...700_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // Accounting holds at every instant: no file is lost or in two places.
            // A claimed file (inbox/.tacho-claimed/) has not left the inbox.
            let seen = files(in: inbox).filter { !$0.hasPrefix(".") } + files(in: inbox + "/.tacho-claimed")
                + files(in: dir.path + "/processed")
            #expect(Set(seen).count == total && seen.count == total)
        }
        let p = try startRun(dir.path)
        #expect(waitUntil(60) { files(in: inbox).isEmpty })
        p.terminate()
        p.waitUntilExit()
        #expect(files(in: dir.path + "/processed").count == total)
        let keys = try detectionKeys(dir.path + "/store")
        #expect(keys.count == expected.count)
        #expect(Set(keys) == expected)
        #expect(try tacho(["verify", "--store", dir.path + "/store"]).status == 0)
    }
}
