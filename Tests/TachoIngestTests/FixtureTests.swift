import Foundation
import Testing
import TachoFormat
import TachoIngest
import TachoJSON
import TachoStore
import TachoTestSupport

@Suite struct FixtureTests {
    /// Row counts written out by hand from the fixture files.
    @Test(arguments: [
        ("mobileye-nested/objects_detection_1654462955.json", 7, 6),  // 4+1+2 detections; pedestrians twice at one time
        ("mobileye-nested/objects_detection_20240718_140532.json", 6, 6),
        ("mobileye-nested/vehicles_status_1651788155.json", 3, 3),
        ("mobileye-nested/vehicles_status_20240718_140532.json", 3, 3),
        ("mobileye-flat/objects_detection_20240703T210234.json", 3, 3),
        ("mobileye-flat/vehicles_status_20240703T220234.json", 3, 3),
    ])
    func fixtureIngestsWithRightCounts(file: String, rowsRead: Int, rowsStored: Int) throws {
        let dir = TempDir()
        let r = try ingest(dir.path, [fixtures + "/" + file])
        guard case .ingested(let rep) = r[0].outcome else {
            Issue.record("\(file) not ingested: \(r[0].outcome)")
            return
        }
        #expect(rep.rows == rowsRead)
        #expect(rep.rejectCount == 0)
        let m: TachoFormat.Measurement = file.contains("objects") ? .detections : .status
        #expect(try allRows(dir.path, m).count == rowsStored)
    }

    @Test func nestedFixtureRowsAreExact() throws {
        let dir = TempDir()
        try ingest(dir.path, [fixtures + "/mobileye-nested/objects_detection_20240718_140532.json"])
        let t0 = Timestamp.parseMicros("2022-06-05T21:02:34.546Z")!
        let t1 = Timestamp.parseMicros("2022-06-05T21:05:20.590Z")!
        let t2 = Timestamp.parseMicros("2022-06-05T21:11:35.567Z")!
        let v = "ebab5f787798416fb2b8afc1340d7a4e"
        #expect(try allRows(dir.path, .detections) == [
            Row(vehicle: v, time: t0, label: "cars", value: 2),
            Row(vehicle: v, time: t0, label: "pedestrians", value: 3),
            Row(vehicle: v, time: t0, label: "signs", value: 3),
            Row(vehicle: v, time: t1, label: "cars", value: 4),
            Row(vehicle: v, time: t2, label: "obstacles", value: 2),
            Row(vehicle: v, time: t2, label: "trucks", value: 5),
        ])
    }

    @Test func malformedAppendixStrictRejectsAtPythonPositions() throws {
        let dir = TempDir()
        let base = fixtures + "/mobileye-appendix-malformed/"
        let r = try ingest(dir.path, [base + "objects_detection_1654462954.json", base + "vehicles_status_1651788154.json"])
        guard case .rejected(let e0) = r[0].outcome, case .rejected(let e1) = r[1].outcome else {
            Issue.record("expected both rejected, got \(r.map(\.outcome))")
            return
        }
        #expect(e0.line == 20 && e0.column == 7)
        #expect(e1.line == 7 && e1.column == 5)
        #expect(try allRows(dir.path, .detections).isEmpty)
        #expect(try allRows(dir.path, .status).isEmpty)
    }

    @Test func malformedAppendixLenientRepairs() throws {
        let dir = TempDir()
        let base = fixtures + "/mobileye-appendix-malformed/"
        let r = try ingest(dir.path, [base + "objects_detection_1654462954.json", base + "vehicles_status_1651788154.json"], lenient: true)
        guard case .ingested(let d) = r[0].outcome, case .ingested(let s) = r[1].outcome else {
            Issue.record("expected both ingested, got \(r.map(\.outcome))")
            return
        }
        #expect(d.repairCount == 2)  // missing comma + event-level fields beside detections
        #expect(s.repairCount == 3)  // two trailing commas + "status "
        #expect(try allRows(dir.path, .detections).count == 6)
        let status = try allRows(dir.path, .status)
        #expect(status.map(\.label) == ["driving", "accident", "parking"])
    }

    @Test func redeliveredFileIsANoOp() throws {
        let dir = TempDir()
        let inbox = TempDir()
        let src = fixtures + "/mobileye-nested/objects_detection_1654462955.json"
        let copy = inbox.path + "/objects_detection_again.json"
        try FileManager.default.copyItem(atPath: src, toPath: copy)
        let r = try ingest(dir.path, [src, copy])
        guard case .duplicate(_, let prior) = r[1].outcome else {
            Issue.record("second delivery not recognised: \(r[1].outcome)")
            return
        }
        #expect(prior.name == "objects_detection_1654462955.json")
        #expect(try allRows(dir.path, .detections).count == 6)
        let m = try Snapshot.open(path: dir.path, options: quietOptions()).manifest
        #expect(m.commit == 1)  // one commit: the first file; the copy wrote nothing
    }
}
