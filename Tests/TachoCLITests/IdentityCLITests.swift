import Foundation
import Testing
import TachoTestSupport

/// Issue 17 item 3 through the CLI: vehicle ids are byte strings. "é" as U+00E9 and as
/// "e" + U+0301 are two vehicles in every command, before and after compaction, and every
/// output lists vehicles in byte order (not Swift `String` order).
@Suite struct IdentityCLITests {
    static let composed = "\u{E9}"
    static let decomposed = "e\u{301}"
    /// "e\u{301}" < "f" by bytes but not as a String; the others agree either way.
    static let others = ["f", "Z", "a", "e", "\u{FFFF}", "😀"]

    static func byteSorted(_ a: [String]) -> [[UInt8]] {
        a.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The first CSV field of every line after the header, as bytes.
    static func firstColumn(_ out: String) -> [[UInt8]] {
        out.split(separator: "\n", omittingEmptySubsequences: true).dropFirst()
            .map { Array($0.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)[0].utf8) }
    }

    static func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func canonicallyEquivalentIdsStayTwoVehiclesEverywhere() throws {
        let dir = TempDir("tacho-identity")
        let store = dir.path + "/store", input = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        let t = "2022-06-05T21:02:34Z"
        // The two status files of the report: same time, so merging the ids would also
        // dedupe the rows.
        try Self.write(input + "/vehicles_status_1.json", #"{"vehicle_status":[{"vehicle_id":"\#(Self.composed)","report_time":"\#(t)","status":"driving"}]}"#)
        try Self.write(input + "/vehicles_status_2.json", #"{"vehicle_status":[{"vehicle_id":"\#(Self.decomposed)","report_time":"\#(t)","status":"parking"}]}"#)
        let rest = Self.others.map { #"{"vehicle_id":"\#($0)","report_time":"\#(t)","status":"driving"}"# }.joined(separator: ",")
        try Self.write(input + "/vehicles_status_3.json", #"{"vehicle_status":[\#(rest)]}"#)
        let all = Self.others + [Self.composed, Self.decomposed]
        let det = all.map { #"{"vehicle_id":"\#($0)","detection_time":"\#(t)","object_type":"cars","object_value":1}"# }.joined(separator: ",")
        try Self.write(input + "/objects_detection_1.json", #"{"objects_detection_events":[\#(det)]}"#)
        // Each file its own commit, then a second copy of the detections: several segments.
        let ing = try tacho(["ingest", "--store", store, "--log-level", "error", "--commit-per-file", input])
        #expect(ing.status == 0, "\(ing.stderr)")
        try Self.write(input + "/objects_detection_2.json", #"{"objects_detection_events":[\#(det)]}"#.replacingOccurrences(of: "\"object_value\":1", with: "\"object_value\":2"))
        #expect(try tacho(["ingest", "--store", store, "--log-level", "error", input + "/objects_detection_2.json"]).status == 0)

        let want = Self.byteSorted(all)
        #expect(want != all.sorted().map { Array($0.utf8) })  // String order differs here

        func outputs() throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            for args in [["latest"], ["query", "status"], ["query", "detections"], ["vehicles"],
                         ["agg", "detections", "--every", "1h", "--fn", "sum", "--by", "vehicle"]] {
                let r = try tacho(args + ["--store", store])
                #expect(r.status == 0, "\(args): \(r.stderr)")
                let col = args[0] == "agg"
                    ? Self.firstColumn(r.stdout.split(separator: "\n").map { $0.split(separator: ",", maxSplits: 1).last.map(String.init) ?? "" }.joined(separator: "\n"))
                    : Self.firstColumn(r.stdout)
                #expect(col == want, "\(args): \(r.stdout)")
                out.append(Array(r.stdout.utf8))
            }
            // Filters match by bytes: one of the two, not both.
            for (v, status) in [(Self.composed, "driving"), (Self.decomposed, "parking")] {
                let l = try tacho(["latest", "--store", store, "--vehicle", v])
                #expect(Self.firstColumn(l.stdout) == [Array(v.utf8)], "\(l.stdout)")
                #expect(l.stdout.hasSuffix(",\(status)\n"), "\(l.stdout)")
                let q = try tacho(["query", "detections", "--store", store, "--vehicle", v])
                #expect(Self.firstColumn(q.stdout) == [Array(v.utf8)], "\(q.stdout)")
                out.append(Array(l.stdout.utf8) + Array(q.stdout.utf8))
            }
            return out
        }
        let before = try outputs()
        let r = try tacho(["compact", "--store", store, "--compact-rate", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("segments"), "\(r.stdout)")
        #expect(try segmentCount(store) == 2)  // one detections and one status segment
        #expect(try outputs() == before)
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }
}
