import Foundation
import Testing
import TachoStore
#if canImport(Glibc)
import Glibc
import TachoTestSupport
#endif

/// Hostile input through the CLI (issue #8), small versions; `tools/hostile` runs the big ones
/// and prints the table with peak RSS.
@Suite struct HostileInputTests {
    func event(_ vehicleJSON: String, _ time: String = "2024-07-01T00:00:00Z") -> String {
        #"{"vehicle_id":\#(vehicleJSON),"detection_time":"\#(time)","object_type":"cars","object_value":1}"#
    }

    func write(_ path: String, _ events: [String]) throws {
        try Data(#"{"objects_detection_events":[\#(events.joined(separator: ","))]}"#.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// Every entry under `dir`, recursively, relative.
    func tree(_ dir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func vehicleIdsThatLookLikePathsAreJustData() throws {
        let dir = TempDir("tacho-hostile")
        let input = dir.path + "/objects_detection_1.json"
        try write(input, [
            event(#""../../etc/passwd""#, "2024-07-01T00:00:00Z"), event(#"".""#, "2024-07-01T00:00:01Z"),
            event(#""..""#, "2024-07-01T00:00:02Z"),
            event(#""a/b\\c""#, "2024-07-01T00:00:03Z"), event(#""ab\u0000cd""#, "2024-07-01T00:00:04Z"),
        ])
        let store = dir.path + "/store"
        let r = try tacho(["ingest", "--store", store, "--rejected", dir.path + "/rejected", input])
        // The escaped NUL is a validation reject (exit 1: a record was rejected), the rest is in.
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("4 rows, 1 rejects"), "\(r.stdout)")
        let rejects = try String(contentsOfFile: dir.path + "/rejected/objects_detection_1.json.rejects.ndjson", encoding: .utf8)
        #expect(rejects.contains("control character"), "\(rejects)")
        let q = try tacho(["query", "detections", "--store", store, "--format", "csv"])
        let vehicles = Set(q.stdout.split(separator: "\n").dropFirst().map { String($0.split(separator: ",")[0]) })
        #expect(vehicles == ["../../etc/passwd", ".", "..", #"a/b\c"#], "\(q.stdout)")
        // Nothing was created from a vehicle id: the store holds only its own names.
        let names = tree(store)
        #expect(names.allSatisfy { $0 == "LOCK" || $0 == "MANIFEST" || $0 == "CATALOG" || $0.hasPrefix("segments") || $0.hasPrefix("index") }, "\(names)")
        #expect(files(in: dir.path).sorted() == ["objects_detection_1.json", "rejected", "store"])
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }

    @Test func rawNULAndInvalidUTF8RejectTheFileWithAPosition() throws {
        let dir = TempDir("tacho-hostile")
        let nul = dir.path + "/objects_detection_nul.json"
        try Data(Array(#"{"objects_detection_events":[{"vehicle_id":"a"#.utf8) + [0] + Array(#"b"}]}"#.utf8))
            .write(to: URL(fileURLWithPath: nul))
        let utf = dir.path + "/objects_detection_utf8.json"
        try Data(Array("{\"objects_detection_events\":[\n{\"vehicle_id\":\"a".utf8) + [0xC3, 0x28] + Array(#"b"}]}"#.utf8))
            .write(to: URL(fileURLWithPath: utf))
        let r = try tacho(["ingest", "--store", dir.path + "/store", "--rejected", dir.path + "/rejected", nul, utf])
        #expect(r.status == 1)
        #expect(r.stderr.contains("objects_detection_nul.json:1:46: unescaped control character (byte 0x00) in string"), "\(r.stderr)")
        #expect(r.stderr.contains("objects_detection_utf8.json:2:17: invalid UTF-8 sequence"), "\(r.stderr)")
        #expect(files(in: dir.path + "/rejected") == ["objects_detection_nul.json.error", "objects_detection_utf8.json.error"])
    }

    /// Symlinks, FIFOs, devices and names that are not UTF-8 in the inbox: `tacho run` reports
    /// each, never opens them (a FIFO open would block), ingests the good file, stops on SIGTERM;
    /// `tacho ingest DIR` does the same in one pass.
    @Test func nonRegularEntriesAndBadNamesInTheInboxAreReportedNeverRead() throws {
        let dir = TempDir("tacho-hostile")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try write(inbox + "/objects_detection_good.json", [event(#""good""#)])
        let secret = dir.path + "/secret.json"
        try write(secret, [event(#""secret""#)])
        try FileManager.default.createSymbolicLink(atPath: inbox + "/objects_detection_link.json", withDestinationPath: secret)
        #expect(mkfifo(inbox + "/objects_detection_fifo.json", 0o600) == 0)
        var expectedReports = ["objects_detection_link.json: is a symbolic link", "objects_detection_fifo.json: is a FIFO"]
        if getuid() == 0 {
            #expect(mknod(inbox + "/objects_detection_dev.json", S_IFCHR | 0o600, dev_t((1 << 8) | 5)) == 0)
            expectedReports.append("objects_detection_dev.json: is a device")
        }
        let badName = Array(inbox.utf8) + Array("/objects_detection_".utf8) + [0xFF, 0xFE] + Array(".json".utf8)
        let fd = badName.withUnsafeBufferPointer { b -> Int32 in
            let cs = UnsafeMutablePointer<CChar>.allocate(capacity: b.count + 1)
            defer { cs.deallocate() }
            for (i, c) in b.enumerated() { cs[i] = CChar(bitPattern: c) }
            cs[b.count] = 0
            return open(cs, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        }
        #expect(fd >= 0)
        let body = Array(#"{"objects_detection_events":[\#(event(#""badname""#))]}"#.utf8)
        _ = body.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        expectedReports.append("file name is not valid UTF-8")

        // tacho ingest DIR: one pass, never blocks.
        let ing = try tacho(["ingest", "--store", dir.path + "/store2", inbox])
        #expect(ing.stdout.contains("objects_detection_good.json: 1 rows"), "\(ing.stdout) \(ing.stderr)")
        for report in expectedReports { #expect(ing.stderr.contains(report), "ingest: \(report) not in \(ing.stderr)") }

        // tacho run.
        let log = dir.path + "/run.log"
        let p = try startProcess(
            ["run", "--store", dir.path + "/store", "--inbox", inbox, "--settle", "0.2", "--log-level", "info"], stderrPath: log)
        let processed = waitUntil(15) { files(in: dir.path + "/processed") == ["objects_detection_good.json"] }
        #expect(processed, "processed/: \(files(in: dir.path + "/processed"))")
        usleep(700_000)
        p.terminate()
        let stopped = waitUntil(5) { !p.isRunning }
        #expect(stopped, "tacho run did not stop on SIGTERM")
        if !stopped { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        for report in expectedReports { #expect(text.contains(report), "run: \(report) not in \(text)") }
        // Untouched: still in the inbox, nothing rejected, the link target not ingested.
        #expect(files(in: inbox).count == expectedReports.count, "\(files(in: inbox))")
        #expect(files(in: dir.path + "/rejected").isEmpty)
        #expect(try detectionKeys(dir.path + "/store").map { $0.split(separator: "|")[0] } == ["good"])
    }

    @Test func storeDirectoriesAre0750AndLinksOutOfTheStoreAreRefused() throws {
        let dir = TempDir("tacho-hostile")
        let input = dir.path + "/objects_detection_1.json"
        try write(input, [event(#""v""#)])
        let old = umask(0o022)
        defer { umask(old) }
        let store = dir.path + "/store"
        #expect(try tacho(["ingest", "--store", store, input]).status == 0)
        for d in ["", "/segments", "/index"] {
            let attrs = try FileManager.default.attributesOfItem(atPath: store + d)
            #expect((attrs[.posixPermissions] as? Int) == 0o750, "\(d): \(String(describing: attrs[.posixPermissions]))")
        }
        // A store whose segments/ (or index/) is a link to a directory elsewhere: refused by
        // writers and readers alike, nothing written through it.
        for sub in ["segments", "index"] {
            let s2 = dir.path + "/store-\(sub)"
            let outside = dir.path + "/outside-\(sub)"
            try FileManager.default.createDirectory(atPath: s2, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: s2 + "/" + sub, withDestinationPath: outside)
            let r = try tacho(["ingest", "--store", s2, input])
            #expect(r.status != 0 && r.stderr.contains("\(sub): is a symbolic link"), "\(r.stderr)")
            #expect(files(in: outside).isEmpty)
        }
        // An existing store: the link appears later; queries refuse it too.
        try FileManager.default.moveItem(atPath: store + "/segments", toPath: dir.path + "/moved")
        try FileManager.default.createSymbolicLink(atPath: store + "/segments", withDestinationPath: dir.path + "/moved")
        let q = try tacho(["query", "detections", "--store", store])
        #expect(q.status != 0 && q.stderr.contains("is a symbolic link"), "\(q.stderr)")
    }

    @Test func manyTinyEventsStreamThrough() throws {
        let dir = TempDir("tacho-hostile")
        let input = dir.path + "/objects_detection_many.json"
        _ = FileManager.default.createFile(atPath: input, contents: nil)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        h.write(Data(#"{"objects_detection_events":["#.utf8))
        let n = 200_000
        var chunk = ""
        for i in 0..<n {
            let ms = 1_719_792_000_000 + i
            let t = "2024-07-01T\(String(format: "%02d:%02d:%02d.%03d", ms / 3_600_000 % 24, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000))Z"
            chunk += (i > 0 ? "," : "") + #"{"vehicle_id":"v\#(i % 8)","detection_time":"\#(t)","object_type":"cars","object_value":1}"#
            if chunk.utf8.count > 1 << 20 { h.write(Data(chunk.utf8)); chunk = "" }
        }
        h.write(Data((chunk + "]}").utf8))
        try h.close()
        let r = try tacho(["ingest", "--store", dir.path + "/store", input])
        #expect(r.status == 0 && r.stdout.contains("\(n) rows, 0 rejects"), "\(r.stdout) \(r.stderr)")
        #expect(try detectionCount(dir.path + "/store") == n)
    }
}
