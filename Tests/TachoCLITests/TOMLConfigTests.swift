import Foundation
import Testing
import TachoTestSupport

/// `--config FILE` in TOML (docs/CONFIG.md) on `tacho compact`, `run`, `ingest` and the query
/// commands, and `tacho config defaults|check`. The JSON form is ConfigFileTests'.
@Suite struct TOMLConfigTests {
    func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The TOML keys reach the same settings the JSON keys do (ConfigFileTests' first test).
    @Test func compactDryRunTakesTheStoreSettings() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store, files: 12)
        let cfg = dir.path + "/tacho.toml"
        try write(cfg, """
            [store]
            path = "\(store)"
            retention = { status = "1d", detections = "30d" }
            max_clock_lead = "0"
            max_bytes = 7000000

            [run]
            delete_processed = true
            """)
        let r = try tacho(["compact", "--dry-run", "--config", cfg], cwd: dir.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("(age status=1d)"), "\(r.stdout)")
        #expect(r.stdout.contains("(age detections=30d)"), "\(r.stdout)")
        #expect(r.stdout.contains("bytes used of 7000000"), "\(r.stdout)")

        // A measurement's declared retention is its default; [store] retention wins over it.
        try write(cfg, """
            [store]
            path = "\(store)"
            max_clock_lead = "0"
            retention = { status = "36500d" }

            [[measurement]]
            name = "detections"
            records = "objects_detection_events[].detections[]"
            files = { prefixes = ["objects_detection"], key = "objects_detection_events" }
            vehicle = { keys = ["vehicle_id"] }
            time = { key = "detection_time", format = "rfc3339" }
            identity = ["object_type"]
            retention = "30d"
            fields = [
              { name = "object_type", type = "string", max_bytes = 64 },
              { name = "value", key = "object_value", type = "int64", min = 0 },
            ]
            """)
        let d = try tacho(["compact", "--dry-run", "--config", cfg], cwd: dir.path)
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stdout.contains("(age detections=30d)"), "\(d.stdout)")
        #expect(!d.stdout.contains("drop status"), "\(d.stdout)")
    }

    /// `tacho ingest` and the query commands find the store through the file.
    @Test func ingestAndQueriesTakeTheStoreFromTheFile() throws {
        let dir = TempDir()
        let store = dir.path + "/db"
        let cfg = dir.path + "/tacho.toml"
        try write(cfg, "[store]\npath = \"\(store)\"\n")
        let ing = try tacho(["ingest", "--config", cfg, fixtures + "/mobileye-flat"], cwd: dir.path)
        #expect(ing.status == 0, "\(ing.stderr)")
        #expect(try detectionCount(store) > 0)
        let q = try tacho(["query", "status", "--config", cfg, "--format", "csv"], cwd: dir.path)
        #expect(q.status == 0, "\(q.stderr)")
        #expect(q.stdout.hasPrefix("vehicle_id,time,status\n") && q.stdout.split(separator: "\n").count > 1, "\(q.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/tacho-data"), "default store used")
    }

    /// `tacho run --config F` alone: every [run] and [store] key reaches the daemon (the
    /// malformed fixture is ingested only when `lenient` from the file is honoured).
    @Test func runTakesItsSettingsFromTheFile() throws {
        let dir = TempDir()
        let inbox = dir.path + "/in", store = dir.path + "/db", done = dir.path + "/done", bad = dir.path + "/bad"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let cfg = dir.path + "/run.toml"
        try write(cfg, """
            [store]
            path = "\(store)"
            retention = { status = "36500d" }
            max_bytes = 1000000000
            min_free = "1MiB"
            compact_rate_mb_s = 16
            cold_after = "7d"
            cold_level = 19

            [run]
            inbox = "\(inbox)"
            processed = "\(done)"
            rejected = "\(bad)"
            delete_processed = false
            lenient = true
            poll = true
            settle_seconds = 0.2
            processed_max_age = "0"
            compact_every = "0"
            """)
        let name = "objects_detection_1654462954.json"
        try FileManager.default.copyItem(atPath: fixtures + "/mobileye-appendix-malformed/" + name, toPath: inbox + "/" + name)
        let errPath = dir.path + "/run.err"
        let p = try startProcess(["run", "--config", cfg, "--log-level", "warning"], cwd: dir.path, stderrPath: errPath)
        let taken = waitUntil(20) { files(in: done) == [name] || !files(in: bad).isEmpty || !p.isRunning }
        p.terminate()
        p.waitUntilExit()
        let stderr = readText(errPath)
        #expect(taken && files(in: done) == [name], "processed: \(files(in: done)), rejected: \(files(in: bad)); \(stderr)")
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "\(stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/tacho-data"), "default store used")
        #expect(try detectionCount(store) > 0)
    }

    /// A retention for a measurement nothing declares stops `tacho run` before the store is
    /// created (every declared one, locations included, can be expired).
    @Test func runChecksRetentionBeforeOpeningTheStore() throws {
        let dir = TempDir()
        let store = dir.path + "/db"
        let cfg = dir.path + "/run.toml"
        try write(cfg, "[store]\npath = \"\(store)\"\nretention = { nosuch = \"30d\" }\n")
        let r = try tacho(["run", "--config", cfg, "--inbox", dir.path + "/in"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("unknown key 'nosuch'"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store), "the store was created")
    }

    /// A wrong file stops every command before it does anything, naming file, line, table,
    /// measurement and column.
    @Test(arguments: [
        ("[store]\nretension = \"30d\"\n", ":2:13: [store]: unknown key 'retension' in [store]; did you mean 'retention'?"),
        ("[run]\ninbox = /data\n", ":2:9: "),
        ("""
         [[measurement]]
         name = "can"
         records = "signals[]"
         files = { prefixes = ["can_"] }
         vehicle = { keys = ["vin"] }
         time = { key = "ts", format = "unix_ms" }
         fields = [{ name = "rpm", type = "uint16" }]
         """, ":7:34: measurement 'can', column 'rpm' ([measurement[0].fields[0]]): unknown type 'uint16'"),
    ])
    func badFilesAreRefusedBeforeAnythingHappens(text: String, expected: String) throws {
        let dir = TempDir()
        let cfg = dir.path + "/bad.toml"
        try write(cfg, text)
        let store = dir.path + "/store"
        for cmd in [["compact", "--dry-run"], ["run", "--inbox", dir.path + "/inbox"], ["ingest", fixtures + "/mobileye-flat"],
                    ["query", "status"], ["latest"]] {
            let r = try tacho(cmd + ["--store", store, "--config", cfg])
            #expect(r.status != 0, "\(cmd[0]): \(r.stdout)")
            #expect(r.stderr.contains("config file \(cfg)\(expected)"), "\(cmd[0]): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: store), "\(cmd[0]) went ahead")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/inbox"), "\(cmd[0]) went ahead")
        }
    }

    /// `tacho config defaults` prints the built-ins in the form a file uses: fed back as a
    /// config, `tacho config check` accepts it and reports the same five measurements.
    @Test func defaultsPrintAndCheck() throws {
        let dir = TempDir()
        let d = try tacho(["config", "defaults"])
        #expect(d.status == 0, "\(d.stderr)")
        for name in ["detections", "status", "locations", "alarms", "power"] {
            #expect(d.stdout.contains("name = \"\(name)\""), "\(name)")
        }
        let cfg = dir.path + "/defaults.toml"
        try write(cfg, d.stdout)
        let c = try tacho(["config", "check", cfg])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.hasPrefix("# measurements in force: detections (from the file), status (from the file), locations (from the file), alarms (from the file), power (from the file)\n"), "\(c.stdout)")
        // An older JSON file is checked too.
        let json = dir.path + "/old.json"
        try write(json, #"{"inbox": "/data/inbox"}"#)
        let j = try tacho(["config", "check", json])
        #expect(j.status == 0, "\(j.stderr)")
        #expect(j.stdout.contains("the older JSON form"), "\(j.stdout)")
        let bad = dir.path + "/bad.toml"
        try write(bad, "[[measurement]]\nname = \"x\"\n")
        let b = try tacho(["config", "check", bad])
        #expect(b.status != 0)
        #expect(b.stderr.contains("config file \(bad):1:1: measurement 'x' ([measurement[0]]): missing key 'records'"), "\(b.stderr)")
    }
}
