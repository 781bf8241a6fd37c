import Foundation
import Testing
import TachoTestSupport
@testable import TachoCLI
import TachoOutput

/// Conventions of the CLIs operators know (issue 19 item 1): short flags, table on a terminal
/// and csv in a pipe, readable tables, comma lists, -q/-v, JSON from verify and inspect.
@Suite(.serialized) struct OutputConventionsTests {
    var store: String { get throws { try GoldenCLITests.ingested.get() } }

    /// `-s`, `-f`, `-c`, `-q`, `-v` mean the same in every subcommand that takes them.
    @Test func shortFlagsAreTheSameEverywhere() throws {
        let queries: [[String]] = [["latest"], ["query", "detections"], ["agg", "detections", "--every", "1h", "--fn", "count"],
                                   ["vehicles"], ["stats"], ["measurements"]]
        for q in queries {
            let long = try tacho(q + ["--store", try store, "--format", "json"])
            let short = try tacho(q + ["-s", try store, "-f", "json", "-q"])
            #expect(long.status == 0 && short.status == 0, "\(q): \(short.stderr)")
            #expect(short.stdout == long.stdout, "\(q)")
        }
        // The options every subcommand takes may also come before its name.
        let before = try tacho(["-q", "-s", try store, "latest", "-f", "json"])
        let after = try tacho(["latest", "--store", try store, "--format", "json"])
        #expect(before.status == 0 && before.stdout == after.stdout, "\(before.stderr)")
        for sub in ["run", "ingest", "latest", "query", "agg", "vehicles", "stats", "measurements", "compact", "verify", "inspect"] {
            let help = try tacho([sub, "--help"], env: ["COLUMNS": "200"]).stdout
            for flag in ["-s, --store", "-c, --config", "-q, --quiet", "-v, --verbose"] {
                #expect(help.contains(flag), "\(sub) lacks \(flag)")
            }
            if !["run", "ingest", "compact"].contains(sub) { #expect(help.contains("-f, --format"), "\(sub) lacks -f") }
        }
    }

    /// As duckdb and sqlite3: a table on a terminal, csv into a pipe.
    @Test func formatDefaultsToTableOnATerminalAndCSVInAPipe() throws {
        let piped = try tacho(["latest", "-s", try store])
        #expect(piped.stdout.hasPrefix("vehicle_id,time,status\n"))
        let tty = try runToCompletion(repoRoot.path + "/tools/pty-run", ["--stdout-tty", tachoPath, "latest", "-s", try store])
        #expect(tty.status == 0, "\(tty.stdout)")
        let expected = try String(contentsOfFile: repoRoot.path + "/Tests/TachoCLITests/golden/latest.table", encoding: .utf8)
        #expect(tty.stdout == expected, "\(tty.stdout)")
    }

    @Test func commaListsForVehicleTypeAndStatus() throws {
        let v = ["ebab5f787798416fb2b8afc1340d7a4e", "qbae3f787798416fb2b8afc1340ddf19"]
        let repeated = try tacho(["latest", "-s", try store, "--vehicle", v[0], "--vehicle", v[1]])
        let listed = try tacho(["latest", "-s", try store, "--vehicle", v.joined(separator: ",")])
        #expect(listed.stdout == repeated.stdout && listed.stdout.split(separator: "\n").count == 3, "\(listed.stdout)")
        let types = try tacho(["query", "detections", "-s", try store, "--type", "cars,trucks"])
        let typesRepeated = try tacho(["query", "detections", "-s", try store, "--type", "cars", "--type", "trucks"])
        #expect(types.stdout == typesRepeated.stdout && types.stdout.split(separator: "\n").count == 4, "\(types.stdout)")
        let statuses = try tacho(["query", "status", "-s", try store, "--status", "driving,parking"])
        #expect(statuses.stdout.split(separator: "\n").count == 3, "\(statuses.stdout)")
    }

    /// Tables round doubles for reading; csv and json keep them exact.
    @Test func tableNumbersAreReadableAndExactElsewhere() {
        #expect(TableWriter.number(2.3333333333333335) == "2.33333")
        #expect(TableWriter.number(43.667) == "43.667")
        #expect(TableWriter.number(1234567.891) == "1234567.9")
        #expect(TableWriter.number(0.000123456789) == "0.000123457")
        #expect(TableWriter.number(-7.25) == "-7.25")
        #expect(TableWriter.number(16) == "16")
        #expect(formatDouble(2.3333333333333335) == "2.3333333333333335")
    }

    /// CJK characters take two columns, combining marks none: columns still line up, numbers
    /// are right-aligned under a right-aligned header, and a footer counts the rows.
    @Test func wideCharactersAlignAndNumbersRightAlign() throws {
        var t = TableWriter(columns: ["name", "n"])
        t.append([.text("駐車中"), .int(5)])
        t.append([.text("e\u{301}t\u{301}e\u{301}"), .int(123)])
        t.append([.text("ab"), .double(2.5)])
        var lines: [String] = []
        t.render { lines.append($0) }
        #expect(lines == [
            "name      n\n",
            "------  ---\n",
            "駐車中    5\n",
            "e\u{301}t\u{301}e\u{301}     123\n",
            "ab      2.5\n",
            "(3 rows)\n",
        ])
        #expect(displayWidth("駐車中") == 6 && displayWidth("e\u{301}") == 1 && displayWidth("abc") == 3)
    }

    /// -q silences ingest's per-file lines and its notes; errors still print.
    @Test func quietSilencesPerFileLines() throws {
        let dir = TempDir()
        let loud = try tacho(["ingest", "-s", dir.path + "/a", fixtures + "/mobileye-nested"])
        #expect(loud.stdout.contains("rows"), "\(loud.stdout)")
        let quiet = try tacho(["ingest", "-q", "-s", dir.path + "/b", fixtures + "/mobileye-nested"])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet.stdout)\(quiet.stderr)")
        let empty = dir.path + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(try tacho(["ingest", "-q", "-s", dir.path + "/b", empty]).stderr.isEmpty)
        let both = try tacho(["ingest", "-q", "-v", "-s", dir.path + "/b", empty])
        #expect(both.status == 64 && both.stderr.contains("contradict"), "\(both.stderr)")
    }

    @Test func verifyAndInspectSpeakJSON() throws {
        let v = try tacho(["verify", "-s", try store, "-f", "json"])
        #expect(v.status == 0)
        let obj = try #require(JSONSerialization.jsonObject(with: Data(v.stdout.utf8)) as? [String: Any])
        #expect(obj["clean"] as? Bool == true && obj["segments"] as? Int == 4 && (obj["problems"] as? [Any])?.isEmpty == true, "\(v.stdout)")
        let text = try tacho(["verify", "-s", try store])
        #expect(text.stdout.contains("verified 4 segments, 4 chunks, 9 rows, \(obj["bytes"] as? Int ?? -1) bytes: clean"), "\(text.stdout)")

        let i = try tacho(["inspect", "-s", try store, "-f", "json"])
        let m = try #require(JSONSerialization.jsonObject(with: Data(i.stdout.utf8)) as? [String: Any])
        let segs = try #require(m["segments"] as? [[String: Any]])
        #expect(segs.count == 4)
        let first = try #require(segs.first)
        #expect(first["min_time"] as? String == "2022-06-05T21:02:34.546Z", "\(first)")
        let name = try #require(first["name"] as? String)
        let seg = try tacho(["inspect", "-s", try store, "--segment", name])
        #expect(seg.stdout.contains("time=[2022-06-05T21:02:34.546Z, 2022-06-05T21:11:35.567Z]"), "\(seg.stdout)")
        let segJSON = try tacho(["inspect", "-s", try store, "--segment", name, "-f", "json"])
        let s = try #require(JSONSerialization.jsonObject(with: Data(segJSON.stdout.utf8)) as? [String: Any])
        #expect(s["rows"] as? Int == 6 && s["measurement"] as? String == "detections", "\(segJSON.stdout)")
    }
}
