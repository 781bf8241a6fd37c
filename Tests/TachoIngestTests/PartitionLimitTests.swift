import Foundation
import Testing
import TachoFormat
import TachoIngest
import TachoJSON
import TachoStore
import TachoTestSupport

/// One input file may create at most `ReaderOptions.maxPartitionsPerFile` partitions (issue
/// 12, item 3): a file spread over years of daily partitions is rejected with a precise error
/// instead of committing thousands of segments at once.
@Suite struct PartitionLimitTests {
    /// A detections file with one event per day for `days` days from 2020-01-01.
    static func write(_ path: String, days: Int) throws {
        let day0: Int64 = 18_262 * 86_400_000_000  // 2020-01-01
        var text = "{\"objects_detection_events\":[\n"
        for d in 0..<days {
            let t = Timestamp.format(day0 + Int64(d) * 86_400_000_000 + 3_600_000_000)
            text += (d > 0 ? ",\n" : "") + "{\"vehicle_id\":\"v1\",\"detection_time\":\"\(t)\",\"object_type\":\"cars\",\"object_value\":\(d % 9)}"
        }
        text += "\n]}\n"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func aFileOverThePartitionLimitIsRejectedByName() throws {
        let input = TempDir()
        let wide = input.path + "/objects_detection_wide.json"
        let ok = input.path + "/objects_detection_ok.json"
        try Self.write(wide, days: 401)
        try Self.write(ok, days: 400)
        for streamed in [false, true] {
            let dir = TempDir()
            let w = try StoreWriter(path: dir.path, options: quietOptions())
            defer { w.close() }
            var opts = ReaderOptions()
            opts.batchRows = 64  // the limit is crossed after some rows were already handed on
            let ing = Ingestor(writer: w, options: opts, logger: quietLogger())
            var results: [IngestResult] = []
            if streamed {
                results = [try ing.ingest(path: wide), try ing.ingest(path: ok)]
            } else {
                try ing.ingest(paths: [wide, ok]) { results.append($0) }
            }
            guard case .rejected(let e) = results[0].outcome else {
                Issue.record("expected a rejection (streamed: \(streamed)), got \(results[0].outcome)")
                continue
            }
            let text = "\(e)"
            #expect(text.contains("objects_detection_wide.json") && text.contains("401 partitions") && text.contains("400"), "\(text)")
            guard case .ingested = results[1].outcome else {
                Issue.record("expected the 400-partition file to commit, got \(results[1].outcome)")
                continue
            }
            #expect(Set(w.manifest.segments.map(\.partitionStart)).count == 400)
            #expect(try allRows(dir.path, .detections).count == 400)
        }
    }
}
