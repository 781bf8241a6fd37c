import Foundation
import Testing

/// Exact CLI output on the public fixtures (mobileye-nested), every command in every format,
/// compared with the files in golden/. `TACHO_WRITE_GOLDEN=1` rewrites them (review the diff!).
@Suite(.serialized) struct GoldenCLITests {
    static let commands: [(name: String, args: [String])] = [
        ("latest", ["latest"]),
        ("latest-at", ["latest", "--at", "2022-05-06T00:00:00Z"]),
        ("query-detections", ["query", "detections"]),
        ("query-detections-filtered", ["query", "detections", "--from", "2022-06-05T21:05:00Z", "--to", "2022-06-06", "--type", "cars", "--type", "trucks"]),
        ("query-status", ["query", "status"]),
        ("agg-sum-vehicle-type", ["agg", "detections", "--every", "15m", "--fn", "sum", "--by", "vehicle,type"]),
        ("agg-count", ["agg", "detections", "--every", "5m", "--fn", "count"]),
        ("agg-avg-type", ["agg", "detections", "--every", "1h", "--fn", "avg", "--by", "type"]),
        ("vehicles", ["vehicles"]),
        ("stats", ["stats"]),
    ]

    /// The fixture store, ingested once; a failed ingest fails each test that uses it.
    static let ingested: Result<String, FixtureError> = {
        let dir = NSTemporaryDirectory() + "tacho-golden-\(UUID().uuidString)"
        guard let r = try? tacho(["ingest", "--store", dir, fixtures + "/mobileye-nested"]), r.status == 0 else {
            return .failure(FixtureError(message: "ingest of \(fixtures)/mobileye-nested failed"))
        }
        return .success(dir)
    }()

    struct FixtureError: Error { var message: String }

    var store: String { get throws { try Self.ingested.get() } }

    @Test(arguments: commands.map(\.name), ["table", "csv", "json", "ndjson"])
    func outputMatchesGolden(command: String, format: String) throws {
        let args = Self.commands.first { $0.name == command }!.args + ["--store", try store, "--format", format]
        let r = try tacho(args)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        let golden = repoRoot.appendingPathComponent("Tests/TachoCLITests/golden/\(command).\(format)").path
        if ProcessInfo.processInfo.environment["TACHO_WRITE_GOLDEN"] == "1" {
            try r.stdout.write(toFile: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        #expect(r.stdout == expected, "tacho \(args.joined(separator: " "))")
    }

    @Test func errorsAreClearAndExitNonZero() throws {
        let bad = try tacho(["query", "detections", "--store", try store, "--from", "2022-06-06", "--to", "2022-06-05"])
        #expect(bad.status != 0 && bad.stderr.contains("--from must be before --to"))
        let badTime = try tacho(["query", "detections", "--store", try store, "--from", "yesterdayish"])
        #expect(badTime.status != 0 && badTime.stderr.contains("yesterdayish"))
        let badFormat = try tacho(["latest", "--store", try store, "--format", "xml"])
        #expect(badFormat.status != 0 && badFormat.stderr.contains("xml"))
        let unknown = try tacho(["query", "detections", "--store", try store, "--vehicle", "nope"])
        #expect(unknown.status == 0 && unknown.stdout == "vehicle_id,time,object_type,value\n")
        #expect(unknown.stderr.contains("no data for vehicle nope"))
        let noStore = try tacho(["latest", "--store", (try store) + "-missing"])
        #expect(noStore.status != 0 && noStore.stderr.contains("not a Tacho store"))
    }

    @Test func relativeTimesAndEnvironmentStore() throws {
        // Every fixture row is years old: the last 2 hours are empty, the last 100000 days are not.
        let recent = try tacho(["query", "detections", "--from", "-2h"], env: ["TACHO_STORE": try store])
        #expect(recent.stdout == "vehicle_id,time,object_type,value\n")
        let all = try tacho(["query", "detections", "--from", "-100000d", "--to", "now"], env: ["TACHO_STORE": try store])
        #expect(all.stdout.split(separator: "\n").count == 7)
    }
}
