import Foundation
import Testing
import TachoFormat
import TachoIngest
import TachoJSON
import TachoStore
import TachoTestSupport

@Suite struct ValidationTests {
    func write(_ dir: TempDir, _ name: String, _ text: String) -> String {
        let p = dir.path + "/" + name
        _ = FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    @Test func badRecordsAreSkippedAndReportedTheRestIngested() throws {
        let inbox = TempDir(), store = TempDir()
        let long = String(repeating: "x", count: 129)
        let p = write(inbox, "objects_detection_1.json", """
            {"objects_detection_events":[
            {"vehicle_id":"a","detection_time":"2022-06-05T21:02:34.546Z","object_type":"cars","object_value":4},
            {"vehicle_id":"","detection_time":"2022-06-05T21:02:34.546Z","object_type":"cars","object_value":1},
            {"vehicle_id":"\(long)","detection_time":"2022-06-05T21:02:34.546Z","object_type":"cars","object_value":1},
            {"vehicle_id":"b","detection_time":"yesterday","object_type":"cars","object_value":1},
            {"vehicle_id":"b","detection_time":"2022-06-05 21:02:34","object_type":"cars","object_value":-1},
            {"vehicle_id":"b","detection_time":"2022-06-05T23:02:34+02:00","object_type":"cars","object_value":3.0},
            {"vehicle_id":"b","detection_time":"2022-06-05T21:02:35Z","object_type":"cars","object_value":3.5},
            {"vehicle_id":"c\\u0000d","detection_time":"2022-06-05T21:02:34Z","object_type":"cars","object_value":1},
            {"vehicle_id":"d","detection_time":"2022-06-05T21:02:34Z","detections":[{"object_type":"signs","object_value":2},{"object_type":"","object_value":1}]},
            {"vehicle_id":"e","detection_time":"2022-06-05T21:02:34Z"},
            42
            ]}
            """)
        let r = try ingest(store.path, [p])
        guard case .ingested(let rep) = r[0].outcome else {
            Issue.record("not ingested: \(r[0].outcome)")
            return
        }
        #expect(rep.rows == 3)
        #expect(rep.rejectCount == 9)
        let reasons = rep.rejects.map(\.reason)
        #expect(reasons[0] == "vehicle_id is empty")
        #expect(reasons[1].contains("more than 128"))
        #expect(reasons[2].contains("not an RFC 3339 time"))
        #expect(reasons[3].contains("integer ≥ 0, found -1"))
        #expect(reasons[4].contains("found 3.5"))
        #expect(reasons[5].contains("control character"))
        #expect(reasons[6].hasPrefix("detection 1: object_type is empty"))
        #expect(reasons[7].contains("missing detections"))
        #expect(reasons[8] == "expected an event object")
        #expect(rep.rejects.map(\.index) == [1, 2, 3, 4, 6, 7, 8, 9, 10])
        #expect(rep.rejects[0].line == 3 && rep.rejects[0].column == 1)
        let rows = try allRows(store.path, .detections)
        // "+02:00" offset normalised to UTC; 3.0 accepted as 3.
        #expect(rows == [
            Row(vehicle: "a", time: Timestamp.parseMicros("2022-06-05T21:02:34.546Z")!, label: "cars", value: 4),
            Row(vehicle: "b", time: Timestamp.parseMicros("2022-06-05T21:02:34Z")!, label: "cars", value: 3),
            Row(vehicle: "d", time: Timestamp.parseMicros("2022-06-05T21:02:34Z")!, label: "signs", value: 2),
        ])
        // The reject report file is valid NDJSON naming record and reason.
        let rj = RejectFiles(directory: inbox.path + "/rejected")
        try rj.writeRecordRejects(for: p, rep.rejects)
        let lines = try String(contentsOfFile: rj.rejectsPath(for: p), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 9)
        for l in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(l.utf8), options: [.fragmentsAllowed]) as? [String: Any]
            #expect(obj?["reason"] is String)
            #expect(obj?["index"] is Int)
        }
        #expect(lines.last?.hasSuffix(#""record":42}"#) == true)
        // The record whole, as the file holds it: the empty vehicle_id too.
        #expect(lines.first?.hasSuffix(#""record":{"vehicle_id":"","detection_time":"2022-06-05T21:02:34.546Z","object_type":"cars","object_value":1}}"#) == true, "\(lines.first ?? "")")
    }

    @Test func unknownPrefixIsDecidedByTopLevelKeyAndUnknownKeysAreSkipped() throws {
        let inbox = TempDir(), store = TempDir()
        let p = write(inbox, "telemetry-dump.json", """
            {"meta":{"x":[1,2,{"y":null}]},"vehicle_status":[{"vehicle_id":"v","report_time":"2024-01-01T00:00:00Z","status":"driving","extra":[1]}]}
            """)
        let r = try ingest(store.path, [p])
        guard case .ingested(let rep) = r[0].outcome else {
            Issue.record("not ingested: \(r[0].outcome)")
            return
        }
        #expect(rep.kind == .status)
        #expect(rep.warnings.count == 1)
        #expect(try allRows(store.path, .status).map(\.label) == ["driving"])
    }

    /// Issue 12, item 8: a number the field cannot hold rejects that record only, whatever
    /// its size (it used to reject the whole file past Int64 or Double); syntax errors in
    /// numbers still reject the file.
    @Test func outOfRangeNumbersRejectOnlyTheirRecord() throws {
        let inbox = TempDir(), store = TempDir()
        func ev(_ t: Int, _ value: String) -> String {
            #"{"vehicle_id":"v","detection_time":"2024-01-01T00:00:0\#(t)Z","object_type":"cars","object_value":\#(value)}"#
        }
        let p = write(inbox, "objects_detection_1.json", """
            {"objects_detection_events":[
            \(ev(0, "1")),
            \(ev(1, "1e400")),
            \(ev(2, "99999999999999999999")),
            \(ev(3, "1.5")),
            \(ev(4, "1e19")),
            \(ev(5, "-1e400")),
            {"vehicle_id":"v","detection_time":"2024-01-01T00:00:06Z","detections":[{"object_type":"cars","object_value":2},{"object_type":"signs","object_value":1e400}]},
            \(ev(7, "9223372036854775807"))
            ]}
            """)
        let r = try ingest(store.path, [p])
        guard case .ingested(let rep) = r[0].outcome else {
            Issue.record("not ingested: \(r[0].outcome)")
            return
        }
        #expect(rep.rows == 3)
        #expect(rep.rejectCount == 6)
        let reasons = rep.rejects.map(\.reason)
        #expect(rep.rejects.map(\.index) == [1, 2, 3, 4, 5, 6])
        #expect(reasons[0] == "object_value must be an integer ≥ 0, found 1e400 (beyond the 64-bit range)")
        #expect(reasons[1] == "object_value must be an integer ≥ 0, found 99999999999999999999 (beyond the 64-bit range)")
        #expect(reasons[2] == "object_value must be an integer ≥ 0, found 1.5")
        #expect(reasons[3] == "object_value must be an integer ≥ 0, found 1e19 (beyond the 64-bit range)")
        #expect(reasons[5] == "detection 1: object_value must be an integer ≥ 0, found 1e400 (beyond the 64-bit range)")
        #expect(try allRows(store.path, .detections).map(\.value) == [1, 2, Int64.max])
        // The reasons go to rejected/<name>.rejects.ndjson like any other.
        let rj = RejectFiles(directory: inbox.path + "/rejected")
        try rj.writeRecordRejects(for: p, rep.rejects)
        let lines = try String(contentsOfFile: rj.rejectsPath(for: p), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6 && lines[0].contains("1e400"))

        // A number that is not a number is still a syntax error: the file is rejected.
        for bad in ["1e", "--1", "1.", "01"] {
            let q = write(inbox, "objects_detection_bad.json", "{\"objects_detection_events\":[\(ev(0, bad))]}")
            let s = try ingest(store.path, [q])
            guard case .rejected(let e) = s[0].outcome else {
                Issue.record("\(bad): not rejected")
                continue
            }
            #expect(e.line == 1 && e.column != nil, "\(bad): \(e)")
        }
    }

    /// Issue 12, item 9: a file holding both top-level arrays is read whole, each array as its
    /// kind, whatever the name's prefix says; nothing is skipped, in either order.
    @Test func bothTopLevelArraysAreReadAsTheirKinds() throws {
        let inbox = TempDir(), store = TempDir()
        let det = #""objects_detection_events":[{"vehicle_id":"v","detection_time":"2024-01-01T00:00:00Z","detections":[{"object_type":"cars","object_value":2}]}]"#
        let st = #""vehicle_status":[{"vehicle_id":"v","report_time":"2024-01-01T00:00:01Z","status":"driving"},{"vehicle_id":"w","report_time":"2024-01-01T00:00:02Z","status":"parking"}]"#
        let a = write(inbox, "objects_detection_x.json", "{\(det),\(st)}")
        let b = write(inbox, "vehicles_status_y.json", #"{\#(st.replacingOccurrences(of: ":0", with: ":1")),"meta":1,\#(det.replacingOccurrences(of: "00Z", with: "30Z"))}"#)
        let c = write(inbox, "dump.json", "{\(st.replacingOccurrences(of: ":0", with: ":2")),\(det.replacingOccurrences(of: "00Z", with: "40Z"))}")
        let r = try ingest(store.path, [a, b, c])
        var reports: [FileReport] = []
        for x in r {
            guard case .ingested(let rep) = x.outcome else {
                Issue.record("not ingested: \(x.outcome)")
                return
            }
            reports.append(rep)
        }
        #expect(reports.map(\.rows) == [3, 3, 3])
        #expect(reports.map(\.kind) == [.detections, .status, .status])
        #expect(reports.map(\.kinds) == [[.detections, .status], [.status, .detections], [.status, .detections]])
        #expect(reports[0].warnings.isEmpty)
        #expect(reports[1].warnings.count == 1 && reports[1].warnings[0].contains("\"meta\""))
        #expect(try allRows(store.path, .detections).count == 3)
        #expect(try allRows(store.path, .status).map(\.label) == ["driving", "driving", "driving", "parking", "parking", "parking"])
    }

    /// Issue 12, item 12b: an identity repeated within one file (the same object_type twice in
    /// an event, or the same event twice) keeps its last row; the report says how many rows
    /// were superseded so that rows − superseded is what is stored. Rows replaced by another
    /// file's are not the file's own duplicates and are not counted. Both ingest paths.
    @Test func rowsSupersededWithinAFileAreCounted() throws {
        let inbox = TempDir()
        let dup = write(inbox, "objects_detection_dup.json", """
            {"objects_detection_events":[
            {"vehicle_id":"v","detection_time":"2024-01-01T00:00:00Z","detections":[{"object_type":"cars","object_value":1},{"object_type":"cars","object_value":2}]},
            {"vehicle_id":"v","detection_time":"2024-01-01T00:00:01Z","object_type":"signs","object_value":1},
            {"vehicle_id":"v","detection_time":"2024-01-01T00:00:01Z","object_type":"signs","object_value":5}
            ]}
            """)
        let other = write(inbox, "objects_detection_other.json", """
            {"objects_detection_events":[{"vehicle_id":"v","detection_time":"2024-01-01T00:00:00Z","object_type":"cars","object_value":9}],
             "vehicle_status":[{"vehicle_id":"v","report_time":"2024-01-01T00:00:00Z","status":"a"},{"vehicle_id":"v","report_time":"2024-01-01T00:00:00Z","status":"b"}]}
            """)
        // One file at a time (streamed, one commit each).
        let s1 = TempDir()
        let r = try ingest(s1.path, [dup])
        guard case .ingested(let rep) = r[0].outcome else {
            Issue.record("not ingested: \(r[0].outcome)")
            return
        }
        #expect(rep.rows == 4 && rep.superseded == 2)
        #expect(try allRows(s1.path, .detections).map(\.value) == [2, 5])

        // A group: one seal for both files; `other` replaces dup's cars row (not counted for
        // either) and repeats a status (counted for `other`).
        let s2 = TempDir()
        let w = try StoreWriter(path: s2.path, options: quietOptions())
        let ing = Ingestor(writer: w, options: ReaderOptions(), logger: quietLogger())
        var results: [IngestResult] = []
        try ing.ingest(paths: [dup, other]) { results.append($0) }
        w.close()
        let reps = results.compactMap { r -> FileReport? in if case .ingested(let x) = r.outcome { x } else { nil } }
        #expect(reps.map(\.rows) == [4, 3])
        #expect(reps.map(\.superseded) == [2, 1])
        #expect(try allRows(s2.path, .detections).map(\.value) == [9, 5])
        #expect(try allRows(s2.path, .status).map(\.label) == ["b"])
    }

    @Test func fileWithoutEventArrayIsRejected() throws {
        let inbox = TempDir(), store = TempDir()
        let p = write(inbox, "objects_detection_2.json", #"{"vehicle_status":[]}"#)
        let r = try ingest(store.path, [p])
        guard case .rejected(let e) = r[0].outcome else {
            Issue.record("expected rejection")
            return
        }
        #expect(e.message.contains("objects_detection_events"))
    }

    /// Every prefix of a valid file is rejected with where it ended, and none of its rows
    /// become visible (the file's transaction is discarded).
    @Test func truncationAtEveryOffsetRejectsAndCommitsNothing() throws {
        let src = fixtures + "/mobileye-nested/objects_detection_20240718_140532.json"
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: src)))
        let inbox = TempDir(), store = TempDir()
        let w = try StoreWriter(path: store.path, options: quietOptions())
        let ing = Ingestor(writer: w, options: ReaderOptions(), logger: quietLogger())
        // The valid document ends at its closing brace; anything shorter is truncated.
        let end = (bytes.lastIndex(of: UInt8(ascii: "}")) ?? bytes.count - 1) + 1
        for cut in 0..<end {
            let p = inbox.path + "/objects_detection_cut.json"
            _ = FileManager.default.createFile(atPath: p, contents: Data(bytes[0..<cut]))
            let r = try ing.ingest(path: p)
            guard case .rejected(let e) = r.outcome else {
                Issue.record("prefix of \(cut) bytes was accepted")
                continue
            }
            #expect(e.offset != nil && e.offset! <= cut, "cut \(cut): \(e)")
        }
        w.close()
        #expect(try allRows(store.path, .detections).isEmpty)
        let snap = try Snapshot.open(path: store.path, options: quietOptions())
        #expect(snap.manifest.segments.isEmpty)
    }
}
