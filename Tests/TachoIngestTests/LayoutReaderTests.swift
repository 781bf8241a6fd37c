import Foundation
import Testing
import TachoFormat
import TachoIngest
import TachoJSON
import TachoStore
import TachoTestSupport

/// The generic reader on the fixtures and on the cases the model tests do not draw.
@Suite struct LayoutReaderTests {
    /// Every fixture reads with all built-in layouts active; the fleet-power documents
    /// (numeric `spaceship_id`, `datetime` key, no `power_` prefix: told by their `data` key).
    @Test func everyFixtureReads() throws {
        let expected: [String: (rows: Int, measurement: String)] = [
            "fleet-power/post_example1_kWh_hourly.json": (3, "power"),
            "fleet-power/post_example2_kW_5min.json": (0, "power"),
            "fleet-power/post_example3_kWh_15min.json": (4, "power"),
            "mobileye-nested/objects_detection_1654462955.json": (7, "detections"),
            "mobileye-flat/objects_detection_20240703T210234.json": (3, "detections"),
            "mobileye-flat/vehicles_status_20240703T220234.json": (3, "status"),
        ]
        for (file, want) in expected {
            let text = try String(contentsOfFile: fixtures + "/" + file, encoding: .utf8)
            let name = String(file.split(separator: "/").last ?? "")
            let r = try readFile(text, name: name, layouts: RecordLayout.builtin)
            #expect(r.report.kind?.measurement.name == want.measurement, "\(file)")
            #expect(r.report.rejectCount == 0, "\(file): \(r.rejects)")
            if want.rows > 0 { #expect(r.rows.count == want.rows, "\(file)") }
        }
        let p = try String(contentsOfFile: fixtures + "/fleet-power/post_example1_kWh_hourly.json", encoding: .utf8)
        let rows = try readFile(p, name: "post_example1_kWh_hourly.json", layouts: RecordLayout.builtin).rows
        #expect(rows.first == ModelRow(vehicle: "1", time: Timestamp.parseMicros("2018-08-24T00:00:00Z") ?? 0, values: ["12.0", "kWh"]))
        let kw = try String(contentsOfFile: fixtures + "/fleet-power/post_example2_kW_5min.json", encoding: .utf8)
        let kwRows = try readFile(kw, name: "post_example2_kW_5min.json", layouts: RecordLayout.builtin).rows
        #expect(!kwRows.isEmpty && kwRows.allSatisfy { $0.vehicle == "2" && $0.values[1] == "kW" })
    }

    /// The malformed appendix: lenient keeps the event-level pair beside `detections` as one
    /// more detection (a repair); the same document made valid JSON is rejected per event in
    /// strict mode with the reason.
    @Test func eventLevelPairBesideDetections() throws {
        let doc = #"{"objects_detection_events":[{"vehicle_id":"v","detection_time":"2024-01-01T00:00:00Z","detections":[{"object_type":"cars","object_value":2}],"object_type":"signs","object_value":1},{"vehicle_id":"w","detection_time":"2024-01-01T00:00:00Z","object_type":"cars","object_value":1}]}"#
        let strict = try readFile(doc, name: "objects_detection_q.json", layouts: [.detections])
        #expect(strict.rejects == [ModelReject(index: 0, reason: "object_type/object_value beside a detections array (accepted with --lenient)")])
        #expect(strict.report.rejects.first?.record == #"{"vehicle_id":"v","detection_time":"2024-01-01T00:00:00.000Z","detections":[{"object_type":"cars","object_value":2}]}"#)
        #expect(strict.report.rejects.first?.measurement == "detections")
        #expect(strict.rows.count == 1)
        let lenient = try readFile(doc, name: "objects_detection_q.json", layouts: [.detections], lenient: true)
        #expect(lenient.rows.count == 3 && lenient.rejects.isEmpty)
        #expect(lenient.report.repairCount == 1)
        #expect(lenient.report.repairs.first?.contains("event 0 has object_type/object_value beside detections; kept as one more detection") == true)
    }

    /// Records that lack a field an envelope may supply after their array wait, bounded:
    /// past `maxWaitingRecords` the file is rejected, naming the field to move.
    @Test func waitingRecordsAreBounded() throws {
        let samples = (0..<10).map { #"{"timestamp":"2024-01-01T00:0\#($0):00Z","value":\#($0)}"# }.joined(separator: ",")
        let after = #"{"data":[\#(samples)],"units":"kW","spaceship_id":"s"}"#
        let ok = try readFile(after, name: "power_a.json", layouts: [.power], maxWaiting: 10)
        #expect(ok.rows.count == 10 && ok.rows.allSatisfy { $0.vehicle == "s" && $0.values[1] == "kW" })
        #expect(throws: FileError.self) {
            try readFile(after, name: "power_a.json", layouts: [.power], maxWaiting: 9)
        }
        do {
            _ = try readFile(after, name: "power_a.json", layouts: [.power], maxWaiting: 9)
        } catch let e as FileError {
            #expect(e.message.contains("spaceship_id, units") && e.message.contains("before the array"))
        }
        // Before the array nothing waits, whatever the limit.
        let before = #"{"units":"kW","spaceship_id":"s","data":[\#(samples)]}"#
        #expect(try readFile(before, name: "power_b.json", layouts: [.power], batchRows: 3, maxWaiting: 0).rows.count == 10)
    }

    /// Unix-time layouts: seconds (with fractions), milliseconds, microseconds, nanoseconds.
    @Test func unixTimes() throws {
        let t = Timestamp.parseMicros("2024-07-18T14:05:32.250Z") ?? 0
        for (format, json) in [
            (TimeFormat.unixSeconds, "1721311532.25"), (.unixMillis, "1721311532250"),
            (.unixMicros, "1721311532250000"), (.unixNanos, "1721311532250000999"),
        ] {
            var layout = RecordLayout.status
            layout.time = TimeLayout(keys: ["t"], format: format)
            let doc = #"{"vehicle_status":[{"vehicle_id":"v","t":\#(json),"status":"ok"},{"vehicle_id":"v","t":"x","status":"ok"}]}"#
            let r = try readFile(doc, name: "vehicles_status_u.json", layouts: [layout])
            #expect(r.rows.map(\.time) == [t], "\(format)")
            #expect(r.rejects == [ModelReject(index: 1, reason: "t must be a number (\(format.rawValue))")])
        }
    }

    /// NDJSON: two records on one line are a syntax error with line:column; a file without a
    /// known name prefix cannot say its measurement.
    @Test func ndjsonNeedsOneRecordPerLineAndAName() throws {
        let rec = #"{"vehicle_id":"v","report_time":"2024-01-01T00:00:00Z","status":"a"}"#
        #expect(try readFile(rec + "\n\n" + rec + "\n", name: "vehicles_status_n.ndjson", layouts: [.status]).rows.count == 2)
        do {
            _ = try readFile(rec + " " + rec, name: "vehicles_status_n.ndjson", layouts: [.status])
            Issue.record("two records on one line accepted")
        } catch let e as FileError {
            #expect(e.line == 1 && e.column == rec.utf8.count + 2)
        }
        #expect(throws: FileError.self) { try readFile(rec, name: "dump.ndjson", layouts: [.status]) }
    }
}
