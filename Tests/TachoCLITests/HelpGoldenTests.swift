import Foundation
import Testing

/// `--help` of every command at 80 columns (issue 19 item 6), compared with golden/help/:
/// ArgumentParser wraps the prose (no hard line breaks of ours), examples stay verbatim, and
/// no line is wider than the terminal. `TACHO_WRITE_GOLDEN=1` rewrites them (review the diff!).
@Suite struct HelpGoldenTests {
    static let commands = ["", "run", "ingest", "latest", "query", "agg", "vehicles", "stats", "measurements", "compact",
                           "verify", "inspect", "config", "config check", "config defaults", "rollup", "rollup backfill", "rollup status",
                           "export", "ship", "serve"]

    @Test(arguments: commands)
    func helpAt80ColumnsMatchesGolden(command: String) throws {
        let args = command.split(separator: " ").map(String.init) + ["--help"]
        let r = try tacho(args, env: ["COLUMNS": "80"])
        #expect(r.status == 0, "\(r.stderr)")
        for line in r.stdout.split(separator: "\n") {
            #expect(line.count <= 80, "tacho \(command) --help: \(line.count) columns: \(line)")
        }
        let name = command.isEmpty ? "tacho" : "tacho-" + command.replacingOccurrences(of: " ", with: "-")
        let golden = repoRoot.appendingPathComponent("Tests/TachoCLITests/golden/help/\(name).txt").path
        if ProcessInfo.processInfo.environment["TACHO_WRITE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: (golden as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try r.stdout.write(toFile: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        #expect(r.stdout == expected, "tacho \(command) --help differs from \(golden)")
    }

    /// Abstracts fit one 80-column line; --log-level lists its values once.
    @Test func abstractsFitAndValuesAreListedOnce() throws {
        let root = try tacho(["--help"], env: ["COLUMNS": "200"]).stdout
        let listing = root.components(separatedBy: "SUBCOMMANDS:").last ?? ""
        for line in listing.split(separator: "\n") where line.hasPrefix("  ") && !line.hasPrefix("  See") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            let abstract = words.dropFirst().joined(separator: " ")
            #expect(abstract.count <= 80, "\(line)")
        }
        let query = try tacho(["query", "--help"], env: ["COLUMNS": "200"]).stdout
        #expect(query.components(separatedBy: "critical").count == 2, "log levels listed more than once")
    }
}
