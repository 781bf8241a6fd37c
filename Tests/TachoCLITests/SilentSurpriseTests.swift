import Foundation
import Testing
import TachoTestSupport

/// No silent surprises (issue 19 item 3): a filter value no row holds is noted with the known
/// values, rejects reports keep the record whole, and a file with rejected records is re-read
/// when it is delivered again.
@Suite(.serialized) struct SilentSurpriseTests {
    var store: String { get throws { try GoldenCLITests.ingested.get() } }

    @Test func anUnknownFilterValueIsNotedWithTheKnownValues() throws {
        let car = try tacho(["query", "detections", "-s", try store, "--type", "car"])
        #expect(car.status == 0 && car.stdout == "vehicle_id,time,object_type,value\n")
        #expect(car.stderr.contains("note: no detections row has object_type \"car\"; known values: cars, obstacles, pedestrians, signs, trucks"),
                "\(car.stderr)")
        let status = try tacho(["query", "status", "-s", try store, "--status", "Driving"])
        #expect(status.stderr.contains("status \"Driving\"; known values: accident, driving, parking"), "\(status.stderr)")
        let whereEq = try tacho(["agg", "detections", "-s", try store, "--every", "1h", "--fn", "count", "--where", "object_type=truck"])
        #expect(whereEq.stderr.contains("object_type \"truck\"; known values: cars,"), "\(whereEq.stderr)")
        // A known value that matches nothing in the range is not a typo: no note.
        let empty = try tacho(["query", "detections", "-s", try store, "--type", "cars", "--from", "2030-01-01"])
        #expect(empty.stderr.isEmpty, "\(empty.stderr)")
    }

    static let twoBadRecords = """
        {
          "vehicle_status": [
            {
              "vehicle_id": "v1",
              "report_time": "2022-05-05T22:02:34.546Z",
              "status": 5
            },
            {"vehicle_id": "v2", "report_time": "not a time", "status": "driving", "extra": [1, {"a": "b"}]},
            {"vehicle_id": "v3", "report_time": "2022-05-05T22:02:34.546Z", "status": "parking"}
          ]
        }
        """

    /// The offending field stays in the reported record (it used to be dropped), and each
    /// report line is one JSON object.
    @Test func rejectsKeepTheRecordWhole() throws {
        let dir = TempDir()
        let input = dir.path + "/vehicles_status_1.json"
        try Self.twoBadRecords.write(toFile: input, atomically: true, encoding: .utf8)
        let r = try tacho(["ingest", "-s", dir.path + "/s", "--rejected", dir.path + "/rej", input])
        #expect(r.status == 1)
        let report = try String(contentsOfFile: dir.path + "/rej/vehicles_status_1.json.rejects.ndjson", encoding: .utf8)
        let lines = report.split(separator: "\n")
        #expect(lines.count == 2)
        let records = try lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let first = try #require(records.first?["record"] as? [String: Any])
        #expect(first["status"] as? Int == 5 && first["vehicle_id"] as? String == "v1", "\(report)")
        let second = try #require(records.last?["record"] as? [String: Any])
        #expect(second["report_time"] as? String == "not a time" && second["extra"] != nil, "\(report)")
        #expect(records.last?["field"] as? String == "report_time")
    }

    /// Putting a file with rejected records back (or naming it again) re-reads it without
    /// --force: the report is written again and nothing is doubled. A clean file is still
    /// skipped as a re-delivery.
    @Test func aFileWithRejectsIsReadAgainWhenRedelivered() throws {
        let dir = TempDir()
        let input = dir.path + "/vehicles_status_1.json"
        try Self.twoBadRecords.write(toFile: input, atomically: true, encoding: .utf8)
        let store = dir.path + "/s", rej = dir.path + "/rej"
        _ = try tacho(["ingest", "-s", store, "--rejected", rej, input])
        let reportPath = rej + "/vehicles_status_1.json.rejects.ndjson"
        try FileManager.default.removeItem(atPath: reportPath)
        let again = try tacho(["ingest", "-s", store, "--rejected", rej, input])
        #expect(again.status == 1 && !again.stdout.contains("duplicate"), "\(again.stdout)")
        #expect(FileManager.default.fileExists(atPath: reportPath))
        #expect(try tacho(["query", "status", "-s", store]).stdout.split(separator: "\n").count == 2)
        let clean = try tacho(["ingest", "-s", store, fixtures + "/mobileye-nested/vehicles_status_1651788155.json"])
        let cleanAgain = try tacho(["ingest", "-s", store, fixtures + "/mobileye-nested/vehicles_status_1651788155.json"])
        #expect(clean.status == 0 && cleanAgain.stdout.contains("duplicate"), "\(cleanAgain.stdout)")
    }
}
