import Foundation
import Testing
@testable import TachoCLI
import TachoOutput

/// `--format chart` of `agg` and `stats` (issue 19 item 7), compared with golden/chart/ at a
/// fixed width. `TACHO_WRITE_GOLDEN=1` rewrites them (review the diff!).
@Suite(.serialized) struct ChartGoldenTests {
    static let commands: [(name: String, args: [String])] = [
        ("agg-sum-type", ["agg", "detections", "--every", "5m", "--fn", "sum", "--by", "type"]),
        ("agg-count", ["agg", "detections", "--every", "5m", "--fn", "count"]),
        ("stats", ["stats"]),
    ]

    @Test(arguments: commands.map(\.name))
    func chartMatchesGolden(command: String) throws {
        let store = try GoldenCLITests.ingested.get()
        let args = Self.commands.first { $0.name == command }!.args + ["-s", store, "-f", "chart"]
        let r = try tacho(args, env: ["COLUMNS": "70"])
        #expect(r.status == 0, "\(r.stderr)")
        for line in r.stdout.split(separator: "\n") { #expect(displayWidth(String(line)) <= 70, "\(line)") }
        let golden = repoRoot.appendingPathComponent("Tests/TachoCLITests/golden/chart/\(command).txt").path
        if ProcessInfo.processInfo.environment["TACHO_WRITE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: (golden as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try r.stdout.write(toFile: golden, atomically: true, encoding: .utf8)
        }
        #expect(r.stdout == (try String(contentsOfFile: golden, encoding: .utf8)), "tacho \(args.joined(separator: " "))")
    }

    /// Bars scale to the largest value in eighths of a column; a long series is a sparkline
    /// whose lowest point is ▁ and highest █; only agg and stats accept chart.
    @Test func barsScaleAndLongSeriesAreSparklines() throws {
        var c = ChartWriter(columns: ["bucket", "value"], width: 40)
        c.append([.time(0), .int(8)])
        c.append([.time(60_000_000), .int(1)])
        var lines: [String] = []
        c.render { lines.append($0) }
        // width 40 - label 24 - value 1 - 3 = 12 columns: 8 → 12 full blocks, 1 → 1.5 → "█▌".
        #expect(lines[1] == "1970-01-01T00:00:00.000Z │████████████ 8\n", "\(lines)")
        #expect(lines[2] == "1970-01-01T00:01:00.000Z │█▌ 1\n", "\(lines)")

        var s = ChartWriter(columns: ["bucket", "value"], width: 40)
        s.maxBars = 3
        for i in 0..<5 { s.append([.time(Int64(i) * 60_000_000), .int(Int64(i))]) }
        var spark: [String] = []
        s.render { spark.append($0) }
        #expect(spark[1] == "1970-01-01T00:00:00.000Z │▁▃▅▆█\n", "\(spark)")

        let store = try GoldenCLITests.ingested.get()
        let refused = try tacho(["query", "detections", "-s", store, "-f", "chart"])
        #expect(refused.status == 64 && refused.stderr.contains("'chart' is invalid"), "\(refused.stderr)")
    }
}
