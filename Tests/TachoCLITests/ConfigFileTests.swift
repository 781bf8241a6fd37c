import Foundation
import Testing
import TachoTestSupport

/// `--config FILE` of `tacho run` and `tacho compact` in the old JSON form, read by our own
/// JSON parser (TachoJSON). (TOMLKit brings Foundation into the binary since the TOML config;
/// docs/CONFIG.md records what that costs.)
@Suite struct ConfigFileTests {
    func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The "N bytes used of B" figure of a `compact --dry-run` budget line.
    func budgetUsed(_ out: String) -> UInt64? {
        guard let line = out.split(separator: "\n").first(where: { $0.contains("budget: ") }),
              let words = Optional(line.split(separator: " ")), let i = words.firstIndex(of: "budget:"), i + 1 < words.count
        else { return nil }
        return UInt64(words[i + 1])
    }

    // MARK: Honoured keys

    /// Every key type of the file reaches `tacho compact`: strings (store, inbox, cold_after,
    /// retention), a nested retention object, a size as a number and as a string (max_bytes),
    /// a number (cold_level) and a bool (delete_processed).
    @Test func compactDryRunTakesEveryKeyTypeFromTheFile() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store, files: 12)
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/processed", withIntermediateDirectories: true)
        // 100,000 bytes in processed/ (beside the inbox): counted in the budget unless
        // delete_processed says processed files are not kept.
        try Data(count: 100_000).write(to: URL(fileURLWithPath: dir.path + "/processed/old.json"))

        func config(deleteProcessed: Bool) -> String {
            """
            {
              "store": "\(store)",
              "inbox": "\(inbox)",
              "delete_processed": \(deleteProcessed),
              "retention": {"status": "1d", "detections": "30d"},
              "max_clock_lead": "0",
              "max_bytes": 7000000,
              "compact_rate_mb_s": 2.5,
              "settle_seconds": 2
            }
            """
        }
        let cfg = dir.path + "/tacho.json"
        try write(cfg, config(deleteProcessed: false))
        // No --store: the store comes from the file.
        let kept = try tacho(["compact", "--dry-run", "--config", cfg], cwd: dir.path)
        #expect(kept.status == 0, "\(kept.stderr)")
        // Both members of the nested retention object reach the policy.
        #expect(kept.stdout.contains("drop status partition 20240701T000000Z"), "\(kept.stdout)")
        #expect(kept.stdout.contains("(age status=1d)"), "\(kept.stdout)")
        #expect(kept.stdout.contains("drop detections partition 20240701T000000Z"), "\(kept.stdout)")
        #expect(kept.stdout.contains("(age detections=30d)"), "\(kept.stdout)")
        #expect(kept.stdout.contains("bytes used of 7000000"), "\(kept.stdout)")

        try write(cfg, config(deleteProcessed: true))
        let deleted = try tacho(["compact", "--dry-run", "--config", cfg], cwd: dir.path)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        let a = try #require(budgetUsed(kept.stdout)), b = try #require(budgetUsed(deleted.stdout))
        #expect(a == b + 100_000, "processed/ counted only while delete_processed is false: \(a) vs \(b)")

        // Cold partitions are rewritten at cold_level (a number) once older than cold_after (a
        // string); a size as a string.
        try write(cfg, #"{"store": "\#(store)", "cold_after": "7d", "cold_level": 5, "max_bytes": "1MiB"}"#)
        let cold = try tacho(["compact", "--dry-run", "--config", cfg])
        #expect(cold.status == 0, "\(cold.stderr)")
        #expect(cold.stdout.contains("compact detections 20240701T000000Z"), "\(cold.stdout)")
        #expect(cold.stdout.contains("at zstd 5"), "\(cold.stdout)")
        #expect(!cold.stdout.contains("retention:"), "\(cold.stdout)")
        #expect(cold.stdout.contains("bytes used of 1048576"), "\(cold.stdout)")
        // Flags still win over the file.
        let flags = try tacho(["compact", "--dry-run", "--config", cfg, "--max-bytes", "2GiB", "--cold-level", "7"])
        #expect(flags.stdout.contains("bytes used of 2147483648"), "\(flags.stdout)")
        #expect(flags.stdout.contains("at zstd 7") && !flags.stdout.contains("at zstd 5"), "\(flags.stdout)")

        // Retention in the flag's string form.
        try write(cfg, #"{"store": "\#(store)", "retention": "detections=30d", "max_clock_lead": "0"}"#)
        let strings = try tacho(["compact", "--dry-run", "--config", cfg])
        #expect(strings.status == 0, "\(strings.stderr)")
        #expect(strings.stdout.contains("(age detections=30d)"), "\(strings.stdout)")
        #expect(!strings.stdout.contains("status"), "\(strings.stdout)")
    }

    /// compact_rate_mb_s from the file is the rate limit a real compaction reports, printed as
    /// `%g`; seconds as `%.2f` and MB/s as `%.1f`, exactly as before Foundation went.
    @Test func compactReportsTheRateLimitFromTheFile() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store, files: 12)
        let cfg = dir.path + "/tacho.json"
        try write(cfg, #"{"compact_rate_mb_s": 2.5, "cold_after": "0"}"#)
        let r = try tacho(["compact", "--store", store, "--config", cfg])
        #expect(r.status == 0, "\(r.stderr)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("compaction wrote ") }.map(String.init) ?? ""
        let pattern = #/^compaction wrote \d+ bytes in \d+\.\d\d s \(\d+\.\d MB/s, limit 2\.5 MB/s\)$/#
        #expect(line.wholeMatch(of: pattern) != nil, "\(r.stdout)")
    }

    /// `tacho run --config F` alone: store, inbox, processed and rejected directories, lenient,
    /// poll and settle_seconds all come from the file. The fixture is malformed JSON that only
    /// lenient mode ingests, so a file that was not honoured shows up in rejected/ instead.
    @Test func runTakesItsSettingsFromTheFile() throws {
        let dir = TempDir()
        let inbox = dir.path + "/in", store = dir.path + "/db", done = dir.path + "/done", bad = dir.path + "/bad"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let cfg = dir.path + "/run.json"
        try write(cfg, """
            {"store": "\(store)", "inbox": "\(inbox)", "processed": "\(done)", "rejected": "\(bad)",
             "delete_processed": false, "lenient": true, "poll": true, "settle_seconds": 0.2,
             "processed_max_age": "0", "retention": {"status": "36500d"}, "max_bytes": 1000000000,
             "min_free": "1MiB", "compact_every": "0", "compact_rate_mb_s": 16, "cold_after": "7d", "cold_level": 19}
            """)
        let name = "objects_detection_1654462954.json"
        try FileManager.default.copyItem(atPath: fixtures + "/mobileye-appendix-malformed/" + name, toPath: inbox + "/" + name)

        let errPath = dir.path + "/run.err"
        let p = try startProcess(["run", "--config", cfg, "--log-level", "warning"], cwd: dir.path, stderrPath: errPath)
        let taken = waitUntil(20) { files(in: done) == [name] || !files(in: bad).isEmpty || !p.isRunning }
        p.terminate()  // SIGTERM
        p.waitUntilExit()
        let stderr = readText(errPath)
        #expect(taken && files(in: done) == [name], "processed: \(files(in: done)), rejected: \(files(in: bad)), inbox: \(files(in: inbox)); \(stderr)")
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "\(stderr)")
        #expect(files(in: inbox).isEmpty)
        #expect(files(in: bad).isEmpty, "rejected: \(files(in: bad))")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/tacho-data"), "default store used")
        #expect(try detectionCount(store) > 0)
    }

    // MARK: Errors

    /// Each malformed file fails before anything happens, naming the file, line:column and
    /// what was expected.
    @Test(arguments: [
        ("{\"inbox\": \"/x\"}\ngarbage\n", ":2:1: expected the end of the file"),
        ("{\n  \"inbox\": \"/x\",\n  \"poll\": true\n", ":4:1: unexpected end of file"),
        ("[{\"inbox\": \"/x\"}]", ":1:1: expected a JSON object at the top level, found an array"),
        ("{\"inbox\": \"/x\" \"poll\": true}", ":1:16: expected ',' or '}'"),
        ("\"just a string\"", ":1:1: expected a JSON object at the top level, found a string"),
        ("", ":1:1: empty input: expected a JSON value"),
    ])
    func malformedConfigFailsWithFileLineAndColumn(text: String, expected: String) throws {
        let dir = TempDir()
        let cfg = dir.path + "/bad.json"
        try write(cfg, text)
        for cmd in [["compact", "--dry-run", "--store", dir.path + "/store"], ["run", "--store", dir.path + "/store", "--inbox", dir.path + "/inbox"]] {
            let r = try tacho(cmd + ["--config", cfg])
            #expect(r.status != 0, "\(cmd[0]): \(r.stdout)")
            #expect(r.stderr.contains("config file \(cfg)\(expected)"), "\(cmd[0]): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/store"), "\(cmd[0]) went ahead")
        }
    }

    @Test func missingConfigFileIsNamed() throws {
        let dir = TempDir()
        let cfg = dir.path + "/nowhere/tacho.json"
        for cmd in [["compact", "--dry-run", "--store", dir.path + "/store"], ["run", "--store", dir.path + "/store", "--inbox", dir.path + "/inbox"]] {
            let r = try tacho(cmd + ["--config", cfg])
            #expect(r.status != 0)
            #expect(r.stderr.contains("config file \(cfg): cannot be read"), "\(cmd[0]): \(r.stderr)")
        }
    }

    /// A value of the wrong kind in a well-formed file is reported as before (by meaning).
    @Test func badValuesAreReportedByMeaning() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store, files: 2)
        let cfg = dir.path + "/tacho.json"
        for (text, message) in [
            (#"{"max_bytes": 1e6}"#, "--max-bytes 1000000.0: expected a size"),
            (#"{"retention": {"detections": 30}}"#, "detections=30"),
            (#"{"cold_level": 99}"#, "--cold-level 99: zstd levels are 1…22"),
            (#"{"cold_level": 1e30}"#, "zstd levels are 1…22"),
            // The JSON parser leaves range to the reader; the config reader keeps refusing these.
            (#"{"cold_level": 1e400}"#, "number 1e400 is outside the Double range"),
            (#"{"max_bytes": 99999999999999999999}"#, "integer 99999999999999999999 is outside the Int64 range"),
        ] {
            try write(cfg, text)
            let r = try tacho(["compact", "--dry-run", "--store", store, "--config", cfg])
            #expect(r.status != 0, "\(text)")
            #expect(r.stderr.contains(message), "\(text): \(r.stderr)")
        }
    }
}
