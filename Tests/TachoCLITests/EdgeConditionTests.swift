import Foundation
import Testing
import TachoTestSupport

/// Issue 12, "Losing nothing under ordinary edge conditions", through the CLI.
@Suite struct EdgeConditionTests {
    /// Item 6: times 100 µs apart are distinct rows and must print as distinct rows in every
    /// format and command; millisecond times keep their three digits.
    @Test func subMillisecondTimesPrintDistinctlyEverywhere() throws {
        let dir = TempDir("tacho-edge")
        let store = dir.path + "/store"
        let v = "v1"
        try Data(#"""
            {"objects_detection_events":[
             {"vehicle_id":"\#(v)","detection_time":"2022-06-05T21:02:34.000100Z","object_type":"cars","object_value":1},
             {"vehicle_id":"\#(v)","detection_time":"2022-06-05T21:02:34.000200Z","object_type":"cars","object_value":2},
             {"vehicle_id":"\#(v)","detection_time":"2022-06-05T21:02:34.546Z","object_type":"cars","object_value":3}]}
            """#.utf8).write(to: URL(fileURLWithPath: dir.path + "/objects_detection_1.json"))
        try Data(#"""
            {"vehicle_status":[
             {"vehicle_id":"\#(v)","report_time":"2022-06-05T21:02:34.000100Z","status":"driving"},
             {"vehicle_id":"\#(v)","report_time":"2022-06-05T21:02:35.000200Z","status":"parking"}]}
            """#.utf8).write(to: URL(fileURLWithPath: dir.path + "/vehicles_status_1.json"))
        let ing = try tacho(["ingest", "--store", store, dir.path + "/objects_detection_1.json", dir.path + "/vehicles_status_1.json"])
        #expect(ing.status == 0, "\(ing.stdout) \(ing.stderr)")

        let a = "2022-06-05T21:02:34.000100Z", b = "2022-06-05T21:02:34.000200Z", ms = "2022-06-05T21:02:34.546Z"
        for format in ["csv", "table", "json", "ndjson"] {
            let q = try tacho(["query", "detections", "--store", store, "--format", format])
            #expect(q.status == 0)
            for t in [a, b, ms] { #expect(q.stdout.contains(t), "\(format): \(t) not in \(q.stdout)") }
            #expect(!q.stdout.contains("34.000Z"), "\(format): \(q.stdout)")

            let s = try tacho(["query", "status", "--store", store, "--format", format])
            #expect(s.stdout.contains(a) && s.stdout.contains("2022-06-05T21:02:35.000200Z"), "\(format): \(s.stdout)")
            let l = try tacho(["latest", "--store", store, "--format", format])
            #expect(l.stdout.contains("2022-06-05T21:02:35.000200Z"), "\(format): \(l.stdout)")
            let vs = try tacho(["vehicles", "--store", store, "--format", format])
            #expect(vs.stdout.contains(a) && vs.stdout.contains("2022-06-05T21:02:35.000200Z"), "\(format): \(vs.stdout)")
        }
        let csv = try tacho(["query", "detections", "--store", store])
        #expect(csv.stdout == """
            vehicle_id,time,object_type,value
            v1,\(a),cars,1
            v1,\(b),cars,2
            v1,\(ms),cars,3

            """)
        let json = try tacho(["query", "detections", "--store", store, "--format", "json"])
        #expect(json.stdout.contains(#"{"vehicle_id":"v1","time":"\#(a)","object_type":"cars","value":1}"#), "\(json.stdout)")
        // Buckets are whole seconds (--every ≥ 1s): milliseconds, as before.
        let agg = try tacho(["agg", "detections", "--store", store, "--every", "1s", "--fn", "count"])
        #expect(agg.stdout == "bucket,value\n2022-06-05T21:02:34.000Z,3\n", "\(agg.stdout) \(agg.stderr)")
    }

    /// Item 12a: a newline or an escape character in an inbox file name is logged escaped,
    /// never raw: no line of `tacho ingest DIR`'s output can be forged by a name.
    @Test func controlCharactersInFileNamesAreEscapedInEveryMessage() throws {
        let dir = TempDir("tacho-edge")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let good = #"{"objects_detection_events":[{"vehicle_id":"v1","detection_time":"2024-07-01T00:00:00Z","object_type":"cars","object_value":1}]}"#
        let rejectedRecord = #"{"objects_detection_events":[{"vehicle_id":"v1","detection_time":"2024-07-01T00:00:01Z","object_type":"cars","object_value":-1}]}"#
        // One file ingested with a rejected record (per-file line, reject lines), one unparseable.
        try Data(rejectedRecord.utf8).write(to: URL(fileURLWithPath: inbox + "/objects_detection_a\nFORGED.json"))
        try Data(good.utf8).write(to: URL(fileURLWithPath: inbox + "/objects_detection_b\u{1b}[31m.json"))
        try Data("{".utf8).write(to: URL(fileURLWithPath: inbox + "/objects_detection_c\r\n.json"))
        let r = try tacho(["ingest", "--store", dir.path + "/store", "--rejected", dir.path + "/rejected", inbox])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        let all = r.stdout + r.stderr
        #expect(!all.contains("\u{1b}") && !all.contains("\r"), "\(all)")
        for line in all.split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(!line.hasPrefix("FORGED") && !line.hasPrefix(".json"), "a name broke a line: \(all)")
        }
        #expect(r.stdout.contains(#"objects_detection_a\nFORGED.json: 0 rows, 1 rejects"#), "\(r.stdout)")
        #expect(r.stderr.contains(#"objects_detection_a\nFORGED.json:1:30: rejected record 0"#), "\(r.stderr)")
        #expect(r.stdout.contains(#"objects_detection_b\u{1b}[31m.json: 1 rows"#), "\(r.stdout)")
        #expect(r.stdout.contains(#"objects_detection_c\r\n.json: REJECTED"#), "\(r.stdout)")
        #expect(r.stderr.contains(#"objects_detection_c\r\n.json:1:2: "#), "\(r.stderr)")
        // The files themselves keep their real names.
        #expect(files(in: dir.path + "/rejected").contains("objects_detection_c\r\n.json.error"))
    }

    /// Item 8 through the CLI: `1e400` and a 20-digit integer reject their records (with the
    /// reason in rejected/<name>.rejects.ndjson), not the file.
    @Test func outOfRangeNumbersRejectRecordsNotTheFile() throws {
        let dir = TempDir("tacho-edge")
        let input = dir.path + "/objects_detection_n.json"
        try Data(#"""
            {"objects_detection_events":[
            {"vehicle_id":"v1","detection_time":"2024-07-01T00:00:00Z","object_type":"cars","object_value":1e400},
            {"vehicle_id":"v1","detection_time":"2024-07-01T00:00:01Z","object_type":"cars","object_value":99999999999999999999},
            {"vehicle_id":"v1","detection_time":"2024-07-01T00:00:02Z","object_type":"cars","object_value":7}]}
            """#.utf8).write(to: URL(fileURLWithPath: input))
        let r = try tacho(["ingest", "--store", dir.path + "/store", "--rejected", dir.path + "/rejected", input])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("objects_detection_n.json: 1 rows, 2 rejects"), "\(r.stdout) \(r.stderr)")
        #expect(files(in: dir.path + "/rejected") == ["objects_detection_n.json.rejects.ndjson"])
        let rejects = try String(contentsOfFile: dir.path + "/rejected/objects_detection_n.json.rejects.ndjson", encoding: .utf8)
        #expect(rejects.split(separator: "\n").count == 2 && rejects.contains("found 1e400"), "\(rejects)")
        let q = try tacho(["query", "detections", "--store", dir.path + "/store"])
        #expect(q.stdout == "vehicle_id,time,object_type,value\nv1,2024-07-01T00:00:02.000Z,cars,7\n")
    }

    /// Item 9 through the CLI: a detection file that also holds `vehicle_status` ingests
    /// both, and both kinds' rows are queryable; nothing is logged as skipped.
    @Test func aFileWithBothArraysIngestsBoth() throws {
        let dir = TempDir("tacho-edge")
        let input = dir.path + "/objects_detection_x.json"
        try Data(#"""
            {"objects_detection_events":[{"vehicle_id":"v1","detection_time":"2024-07-01T00:00:00Z","detections":[{"object_type":"cars","object_value":2}]}],
             "vehicle_status":[{"vehicle_id":"v1","report_time":"2024-07-01T00:00:05Z","status":"parking"}]}
            """#.utf8).write(to: URL(fileURLWithPath: input))
        let store = dir.path + "/store"
        let r = try tacho(["ingest", "--store", store, input])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("objects_detection_x.json: 2 rows"), "\(r.stdout)")
        #expect(!r.stderr.contains("skipped"), "\(r.stderr)")
        #expect(try tacho(["query", "detections", "--store", store]).stdout
                == "vehicle_id,time,object_type,value\nv1,2024-07-01T00:00:00.000Z,cars,2\n")
        #expect(try tacho(["query", "status", "--store", store]).stdout
                == "vehicle_id,time,status\nv1,2024-07-01T00:00:05.000Z,parking\n")
        #expect(try tacho(["latest", "--store", store]).stdout == "vehicle_id,time,status\nv1,2024-07-01T00:00:05.000Z,parking\n")
    }

    /// Item 12b: the per-file line says how many of the file's rows its own later rows
    /// superseded, so the rows an operator is told about match what is queryable.
    @Test func rowsSupersededWithinTheFileAreReported() throws {
        let dir = TempDir("tacho-edge")
        let input = dir.path + "/objects_detection_d.json"
        try Data(#"""
            {"objects_detection_events":[{"vehicle_id":"v1","detection_time":"2024-07-01T00:00:00Z",
              "detections":[{"object_type":"cars","object_value":1},{"object_type":"cars","object_value":2}]}]}
            """#.utf8).write(to: URL(fileURLWithPath: input))
        let store = dir.path + "/store"
        let r = try tacho(["ingest", "--store", store, input])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("objects_detection_d.json: 2 rows (1 superseded within the file), 0 rejects"), "\(r.stdout)")
        #expect(try tacho(["query", "detections", "--store", store]).stdout
                == "vehicle_id,time,object_type,value\nv1,2024-07-01T00:00:00.000Z,cars,2\n")
        // Without repeats the line is as before.
        let clean = dir.path + "/objects_detection_e.json"
        try Data(#"{"objects_detection_events":[{"vehicle_id":"v2","detection_time":"2024-07-01T00:00:00Z","object_type":"cars","object_value":1}]}"#.utf8)
            .write(to: URL(fileURLWithPath: clean))
        let c = try tacho(["ingest", "--store", store, clean])
        #expect(c.stdout.hasPrefix("\(clean): 1 rows, 0 rejects"), "\(c.stdout)")
    }
}
