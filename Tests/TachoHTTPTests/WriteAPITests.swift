import Foundation
import TachoFaults
import TachoHTTP
import TachoTestSupport
import Testing

/// Writes: a body validated by the daemon's readers, then a fsynced file in the inbox before
/// the 2xx; refused bodies leave nothing in the inbox.
@Suite struct WriteAPITests {
    static let detections = Array("""
        {"objects_detection_events":[{"vehicle_id":"w1","detection_time":"2024-07-01T10:00:00.000Z",
          "detections":[{"object_type":"cars","object_value":4},{"object_type":"trucks","object_value":1}]}]}
        """.utf8)

    /// Inbox file names (no dot-files, no staging directory).
    static func inboxFiles(_ inbox: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: inbox)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    static func staged(_ inbox: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: inbox + "/.tacho-http")) ?? []
    }

    @Test func aWrittenDocumentIsAFsyncedInboxFileBeforeThe2xx() async throws {
        let store = try FixtureStore()
        let inbox = store.dir.path + "/inbox"
        let fs = FaultInjectingFileSystem()
        try await withServer(store.path, configure: { $0.inboxPath = inbox; $0.files = fs }) { port in
            fs.startRecording()
            let a = try await request(port, "/api/v1/write/detections", method: .POST, body: Self.detections)
            let calls = fs.stopRecording()
            #expect(a.status == 202, "\(a.body)")
            #expect(a.body.contains("\"rows\":2"), "\(a.body)")
            let files = Self.inboxFiles(inbox)
            #expect(files.count == 1 && files[0].hasPrefix("objects_detection_http-") && files[0].hasSuffix(".json"), "\(files)")
            let name = files.first ?? ""
            #expect(FileManager.default.contents(atPath: inbox + "/" + name) == Data(Self.detections))
            // Before the answer: the staged file written and fsynced, renamed into the inbox,
            // the inbox directory fsynced — in that order.
            let order = calls.map(\.description)
            let staged = inbox + "/.tacho-http/" + name
            let steps = ["write \(staged)", "fsync \(staged)", "rename \(staged)", "fsyncDir \(inbox)"]
            var at = 0
            for c in order where at < steps.count && c.hasPrefix(steps[at]) { at += 1 }
            #expect(at == steps.count, "\(order)")
            #expect(Self.staged(inbox).isEmpty)
        }
        // The daemon's ingest of that inbox makes the rows visible.
        _ = try tacho(["ingest", "--store", store.path, inbox])
        try await withServer(store.path) { port in
            let a = try await get(port, "/api/v1/query/detections?vehicle=w1&format=csv")
            #expect(a.body == "vehicle_id,time,object_type,value\nw1,2024-07-01T10:00:00.000Z,cars,4\nw1,2024-07-01T10:00:00.000Z,trucks,1\n")
        }
    }

    @Test func aFailedFsyncIsNot2xxAndLeavesNothingInTheInbox() async throws {
        let store = try FixtureStore()
        let inbox = store.dir.path + "/inbox"
        let fs = FaultInjectingFileSystem(faults: [Fault(.fsync, .error(EIO), pathContains: ".tacho-http")])
        try await withServer(store.path, configure: { $0.inboxPath = inbox; $0.files = fs }) { port in
            let a = try await request(port, "/api/v1/write/detections", method: .POST, body: Self.detections)
            #expect(a.status == 500, "\(a.body)")
            #expect(Self.inboxFiles(inbox).isEmpty)
        }
    }

    @Test func lineProtocolIsRewrittenAtTheDaemonsPrecisionAnd204() async throws {
        let store = try FixtureStore()
        let inbox = store.dir.path + "/inbox"
        try await withServer(store.path, configure: { $0.inboxPath = inbox }) { port in
            let body = "battery,vehicle_id=v1,pack=A soc=81.5,temp_c=31i 1726293601\nbattery,vehicle_id=v1,pack=B soc=80 1726293602\n"
            let a = try await request(port, "/write?db=telegraf&precision=s", method: .POST, body: Array(body.utf8))
            #expect(a.status == 204, "\(a.body)")
            let files = Self.inboxFiles(inbox)
            #expect(files.count == 1 && files[0].hasSuffix(".lp"), "\(files)")
            let text = String(decoding: FileManager.default.contents(atPath: inbox + "/" + (files.first ?? "")) ?? Data(), as: UTF8.self)
            #expect(text == "battery,vehicle_id=v1,pack=A soc=81.5,temp_c=31i 1726293601000000000\nbattery,vehicle_id=v1,pack=B soc=80.0 1726293602000000000\n")
        }
        _ = try tacho(["ingest", "--store", store.path, inbox])
        try await withServer(store.path) { port in
            let a = try await get(port, "/api/v1/query/battery?format=csv")
            #expect(a.body == "vehicle_id,time,pack,soc,temp_c\nv1,2024-09-14T06:00:01.000Z,A,81.5,31\nv1,2024-09-14T06:00:02.000Z,B,80,\n", "\(a.body)")
        }
    }

    /// Group commit: concurrent line-protocol bodies of a measurement the store holds share
    /// files and fsyncs (`InboxCommitter`); a body that creates a measurement is a file of its
    /// own. Every acknowledged row is stored once.
    @Test func concurrentWritesShareFilesAndFsyncs() async throws {
        let store = try FixtureStore()
        let inbox = store.dir.path + "/inbox"
        @Sendable func body(_ n: Int) -> [UInt8] {
            Array((0..<50).map { i in "battery,vehicle_id=g\(n % 5),pack=P\(n) soc=\(i).5,temp_c=\(n)i \(1_726_293_600_000_000_000 + i * 1_000_000_000)\n" }.joined().utf8)
        }
        // The first body creates `battery`: not joinable, a file of its own.
        let first = store.dir.path + "/inbox-first"
        try await withServer(store.path, configure: { $0.inboxPath = first }) { port in
            let a = try await request(port, "/write", method: .POST, body: body(0))
            #expect(a.status == 204, "\(a.body)")
        }
        #expect(Self.inboxFiles(first).count == 1)
        _ = try tacho(["ingest", "--store", store.path, first])
        let fs = FaultInjectingFileSystem()
        let writers = 32
        try await withServer(store.path, configure: { $0.inboxPath = inbox; $0.files = fs }) { port in
            fs.startRecording()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 1...writers {
                    group.addTask { try await request(port, "/write", method: .POST, body: body(n)).status }
                }
                var out: [Int] = []
                for try await s in group { out.append(s) }
                return out
            }
            let calls = fs.stopRecording().map(\.description)
            #expect(statuses == [Int](repeating: 204, count: writers))
            let files = Self.inboxFiles(inbox)
            let fsyncs = calls.filter { $0.hasPrefix("fsync ") && $0.contains(".tacho-http/") }.count
            let dirSyncs = calls.filter { $0.hasPrefix("fsyncDir \(inbox)") && !$0.contains(".tacho-http") }.count
            // Joined: fewer files, file fsyncs and directory fsyncs than bodies.
            #expect(files.count < writers && fsyncs == files.count && dirSyncs < writers, "\(files.count) files, \(fsyncs) fsyncs, \(dirSyncs) directory fsyncs")
            #expect(Self.staged(inbox).isEmpty)
        }
        _ = try tacho(["ingest", "--store", store.path, inbox])
        let csv = try tacho(["query", "battery", "--store", store.path, "--format", "csv"])
        let rows = csv.split(separator: "\n").dropFirst()
        #expect(rows.count == (writers + 1) * 50)
        #expect(Set(rows).count == rows.count)
        for n in 0...writers { #expect(rows.filter { $0.contains(",P\(n),") }.count == 50, "body \(n)") }
    }

    /// (path, body, content type, status, a part of the message)
    static let refusals: [(String, String, String?, Int, String)] = [
        ("/api/v1/write/detections", "{\"objects_detection_events\":[\n  {\"vehicle_id\":\"w1\" \"detection_time\":1}]}", nil, 400,
         "line 2:22"),
        ("/api/v1/write/detections", "{\"objects_detection_events\":[{\"vehicle_id\":\"w1\",\"detection_time\":\"2024-07-01T10:00:00Z\",\"object_type\":\"cars\",\"object_value\":-3},{\"vehicle_id\":\"w1\",\"detection_time\":\"2024-07-01T10:00:01Z\",\"object_type\":\"cars\",\"object_value\":2}]}", nil, 422,
         "1 of 2 records fail validation; nothing was written"),
        ("/api/v1/write/status", String(decoding: detections, as: UTF8.self), nil, 400, "the body cannot be read: no \\\"vehicle_status\\\" array found"),
        ("/api/v1/write/nosuch", "{}", nil, 404, "is declared for JSON input; declared: detections, status"),
        ("/write", "battery,vehicle_id=v1 soc=1 1\nbattery,vehicle_id=v1 soc= 2\n", nil, 400, "line 2:"),
        ("/write?precision=h", "battery,vehicle_id=v1 soc=1 1\n", nil, 400, "expected ns, us, ms or s"),
        ("/write", "battery,pack=A soc=1 1\n", nil, 422, "no 'vehicle_id' tag"),
    ]

    @Test func refusedBodiesLeaveNothingInTheInbox() async throws {
        let store = try FixtureStore()
        let inbox = store.dir.path + "/inbox"
        try await withServer(store.path, configure: { $0.inboxPath = inbox }) { port in
            for (path, body, type, status, message) in Self.refusals {
                let a = try await request(port, path, method: .POST, headers: type.map { [("Content-Type", $0)] } ?? [], body: Array(body.utf8))
                #expect(a.status == status, "\(path): \(a.body)")
                #expect(a.body.contains(message), "\(path): \(a.body)")
                #expect(a.headers["Content-Type"].first == "application/json", "\(path)")
            }
            #expect(Self.inboxFiles(inbox).isEmpty)
            #expect(Self.staged(inbox).isEmpty)
        }
    }

    @Test func limitsAndTheDiskFloor() async throws {
        let store = try FixtureStore()
        let inbox = store.dir.path + "/inbox"
        try await withServer(store.path, configure: { $0.inboxPath = inbox; $0.maxBodyBytes = 100 }) { port in
            let a = try await request(port, "/api/v1/write/detections", method: .POST, body: Self.detections)
            #expect(a.status == 413, "\(a.body)")
        }
        try await withServer(store.path, configure: { $0.inboxPath = inbox; $0.maxRowsPerRequest = 1 }) { port in
            let a = try await request(port, "/api/v1/write/detections", method: .POST, body: Self.detections)
            #expect(a.status == 413 && a.body.contains("more than 1 (maxRowsPerRequest)"), "\(a.body)")
        }
        try await withServer(store.path, configure: { $0.inboxPath = inbox; $0.minFreeBytes = .max }) { port in
            let a = try await request(port, "/api/v1/write/detections", method: .POST, body: Self.detections)
            #expect(a.status == 503, "\(a.body)")
            #expect(a.headers["Retry-After"].first == "60")
        }
        try await withServer(store.path) { port in
            let a = try await request(port, "/write", method: .POST, body: Array("battery,vehicle_id=v1 soc=1 1\n".utf8))
            #expect(a.status == 404 && a.body.contains("read-only"), "\(a.body)")
        }
        #expect(Self.inboxFiles(inbox).isEmpty)
    }
}
