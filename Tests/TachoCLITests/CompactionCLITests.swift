import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// A detection file of vehicle veh<index % 5> on July `day`, 2024. Files `index` and
/// `index + 10` share their times, so later files supersede earlier rows (other values).
func writeFleetFile(_ dir: String, index: Int, day: Int, events: Int = 40) {
    var text = "{\"objects_detection_events\":[\n"
    for e in 0..<events {
        let sec = (index % 10) * 600 + e * 7
        let time = String(format: "2024-07-%02dT%02d:%02d:%02d.%03dZ", day, sec / 3600 % 24, sec / 60 % 60, sec % 60, e)
        let v = "veh\(index % 5)"
        text += (e > 0 ? ",\n" : "")
            + "{\"vehicle_id\":\"\(v)\",\"detection_time\":\"\(time)\",\"detections\":[{\"object_type\":\"cars\",\"object_value\":\((index * 31 + e) % 97)},{\"object_type\":\"signs\",\"object_value\":\(index % 3)}]}"
    }
    text += "\n]}\n"
    let name = String(format: "objects_detection_%04d.json", index)
    _ = FileManager.default.createFile(atPath: dir + "/." + name + ".tmp", contents: Data(text.utf8))
    try? FileManager.default.moveItem(atPath: dir + "/." + name + ".tmp", toPath: dir + "/" + name)
}

func writeStatusFile(_ dir: String, index: Int, day: Int) {
    var text = "{\"vehicle_status\":[\n"
    for v in 0..<5 {
        let time = String(format: "2024-07-%02dT%02d:%02d:00.000Z", day, index % 24, v)
        text += (v > 0 ? ",\n" : "") + "{\"vehicle_id\":\"veh\(v)\",\"report_time\":\"\(time)\",\"status\":\"\(["driving", "parking", "accident"][(index + v) % 3])\"}"
    }
    text += "\n]}\n"
    _ = FileManager.default.createFile(atPath: dir + String(format: "/vehicles_status_%04d.json", index), contents: Data(text.utf8))
}

/// `files` detection files over three days plus a status file per ten, ingested one commit each
/// (`--commit-per-file`: many small segments for compaction to merge).
func buildFleetStore(_ store: String, files: Int = 60) throws {
    let input = store + ".input"
    try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
    for i in 0..<files {
        writeFleetFile(input, index: i, day: 1 + i % 3)
        if i % 10 == 0 { writeStatusFile(input, index: i, day: 1 + i % 3) }
    }
    let r = try tacho(["ingest", "--store", store, "--log-level", "error", "--commit-per-file", input])
    #expect(r.status == 0, "\(r.stderr)")
    try FileManager.default.removeItem(atPath: input)
}

/// Every query command's output, concatenated (what must not change).
func queryAll(_ store: String) throws -> String {
    var out = ""
    for args in [["query", "detections"], ["query", "status"], ["latest"], ["vehicles"],
                 ["agg", "detections", "--every", "15m", "--fn", "sum", "--by", "vehicle,type"]] {
        let r = try tacho(args + ["--store", store])
        out += "\(args) exit \(r.status)\n\(r.stdout)"
    }
    return out
}

func segmentCount(_ store: String) throws -> Int {
    try Snapshot.open(path: store, options: quietOptions()).manifest.segments.count
}

/// The store holds no file its manifest does not name.
func noOrphans(_ store: String) throws -> Bool {
    let m = try Snapshot.open(path: store, options: quietOptions()).manifest
    return Set(files(in: store + "/segments")) == Set(m.segments.map(\.name))
        && Set(files(in: store + "/index")) == Set(m.ledgers + [m.latestIndex]).subtracting([""])
}

func readText(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

@Suite struct CompactionCLITests {
    @Test func compactKeepsEveryQueryIdenticalAndMergesSegments() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store)
        let before = try queryAll(store)
        let segsBefore = try segmentCount(store)
        let manifest = try Data(contentsOf: URL(fileURLWithPath: store + "/MANIFEST"))

        let dry = try tacho(["compact", "--store", store, "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("plan (dry run, nothing changed):"))
        #expect(dry.stdout.contains("compact detections 20240701T000000Z: 20 segments"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/MANIFEST")) == manifest)

        let r = try tacho(["compact", "--store", store, "--compact-rate", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("result:"))
        #expect(r.stdout.contains("detections 20240702T000000Z: segments 20 → 1"))
        #expect(r.stdout.contains("superseded [dedupe]"))
        #expect(r.stdout.contains("ledger: 66 files → 1"))
        #expect(r.stdout.contains("partitions touched 6"))
        #expect(r.stdout.contains("segments \(segsBefore) → 6"))
        #expect(try segmentCount(store) == 6)
        #expect(try queryAll(store) == before)
        #expect(try tacho(["verify", "--store", store]).status == 0)
        #expect(try noOrphans(store))
        // Nothing left to do; still identical.
        let again = try tacho(["compact", "--store", store])
        #expect(again.stdout.contains("nothing to do"))
        #expect(try queryAll(store) == before)
    }

    @Test func ageRetentionFlagExpiresRowsAndSaysWhy() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store, files: 30)
        // The data is from 2024, so the clock is years ahead of the newest row: exactly what a
        // box that boots with a wrong clock sees. Age retention refuses to act and says why.
        let detections = try tacho(["query", "detections", "--store", store]).stdout
        let status = try tacho(["query", "status", "--store", store]).stdout
        let distrusted = try tacho(["compact", "--store", store, "--retention", "detections=30d", "--log-level", "notice"])
        #expect(distrusted.status == 0, "\(distrusted.stderr)")
        #expect(distrusted.stdout.contains("retention: skipped, nothing expires by age: the wall clock is"), "\(distrusted.stdout)")
        #expect(distrusted.stderr.contains("age retention paused"), "\(distrusted.stderr)")
        #expect(!distrusted.stdout.contains("drop detections"), "\(distrusted.stdout)")
        #expect(try tacho(["query", "detections", "--store", store]).stdout == detections)
        // The operator vouches for the clock (--max-clock-lead 0): a 30-day policy expires all
        // of it, status (no policy) stays.
        let r = try tacho(["compact", "--store", store, "--retention", "detections=30d", "--max-clock-lead", "0", "--log-level", "notice"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("retention: detections: rows before"))
        #expect(r.stdout.contains("drop detections partition 20240701T000000Z"))
        #expect(r.stderr.contains("retention: deleted partition"))
        #expect(try tacho(["query", "detections", "--store", store]).stdout == "vehicle_id,time,object_type,value\n")
        #expect(try tacho(["query", "status", "--store", store]).stdout == status)
        #expect(try tacho(["verify", "--store", store]).status == 0)
        // Every catalog name is known (ingest declared the built-ins); others are refused.
        let bad = try tacho(["compact", "--store", store, "--retention", "nosuch=3d"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("nosuch=3d"))
    }

    /// A second process queries in a loop while `tacho compact` runs (slowed by its rate
    /// limit so the loop spans the build and the switch): every answer is the same.
    @Test func queriesInAnotherProcessStayIdenticalDuringCompaction() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildFleetStore(store)
        let baseline = try tacho(["query", "detections", "--store", store]).stdout
        let latest = try tacho(["latest", "--store", store]).stdout
        let p = try startProcess(["compact", "--store", store, "--compact-rate", "0.006"])
        var during = 0, bad = 0
        var extra = 0
        while p.isRunning || extra < 2 {
            if p.isRunning { during += 1 } else { extra += 1 }
            let q = try tacho(["query", "detections", "--store", store])
            let l = try tacho(["latest", "--store", store])
            if q.status != 0 || q.stdout != baseline || l.stdout != latest { bad += 1 }
        }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(bad == 0)
        // Queries overlapped the compaction (started while it ran), whatever the load: a
        // count of all runs (was ≥ 6) failed on a loaded box, where each query takes longer
        // while the rate-limited compaction does not.
        #expect(during >= 3, "only \(during) queries started while tacho compact ran")
        #expect(try segmentCount(store) == 6)
    }

    /// SIGKILL at the compaction crash points and at random moments (12 kills). After each,
    /// the store verifies and answers exactly as before; a writer's restart removes what the
    /// killed run left behind and a new run completes the job.
    @Test func sigkillDuringCompactionLosesNothing() throws {
        let dir = TempDir()
        let template = dir.path + "/template"
        try buildFleetStore(template)
        let baseline = try queryAll(template)
        let points = [CrashPoint.compactionWritten, CrashPoint.beforeManifestSwitch,
                      CrashPoint.afterManifestSwitch, CrashPoint.compactionSwitched]
        var seed: UInt64 = 0x5EED
        func random(_ n: UInt64) -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (seed >> 33) % n
        }
        var kills = 0
        for i in 0..<12 {
            let store = dir.path + "/s\(i)"
            try FileManager.default.copyItem(atPath: template, toPath: store)
            if i < points.count {
                let r = try tacho(["compact", "--store", store, "--compact-rate", "0"], env: ["TACHO_CRASH_POINT": points[i]])
                #expect(r.killedBySignal == SIGKILL, "\(points[i])")
                if r.killedBySignal == SIGKILL { kills += 1 }
            } else {
                // ~7 KB written at 8 KB/s: the run lasts about a second.
                let p = try startProcess(["compact", "--store", store, "--compact-rate", "0.008"])
                usleep(UInt32(60_000 + random(900_000)))
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                if p.terminationReason == .uncaughtSignal { kills += 1 }
            }
            // Readers right after the crash (no writer has cleaned up yet).
            #expect(try tacho(["verify", "--store", store]).status == 0, "kill \(i)")
            #expect(try queryAll(store) == baseline, "kill \(i)")
            // Restart: the writer removes orphans and the job completes.
            let r = try tacho(["compact", "--store", store, "--compact-rate", "0"])
            #expect(r.status == 0, "kill \(i): \(r.stderr)")
            #expect(try tacho(["verify", "--store", store]).status == 0, "kill \(i)")
            #expect(try queryAll(store) == baseline, "kill \(i)")
            #expect(try segmentCount(store) == 6)
            #expect(try noOrphans(store), "kill \(i)")
            try? FileManager.default.removeItem(atPath: store)
        }
        #expect(kills >= 10)
    }

    /// `tacho run` compacts in the background on its schedule; the results equal a one-shot
    /// ingest of the same files.
    @Test func runCompactsOnItsSchedule() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox", copies = dir.path + "/copies"
        for d in [inbox, copies] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let log = dir.path + "/run.log"
        let p = try startProcess(
            ["run", "--store", dir.path + "/store", "--inbox", inbox, "--settle", "0.2", "--compact-every", "1s",
             "--compact-rate", "0", "--log-level", "info"], stderrPath: log)
        defer { if p.isRunning { p.terminate(); p.waitUntilExit() } }
        var i = 0
        func drop() {
            writeFleetFile(copies, index: i, day: 1 + i % 3)
            try? FileManager.default.copyItem(atPath: copies + String(format: "/objects_detection_%04d.json", i),
                                              toPath: inbox + String(format: "/objects_detection_%04d.json", i))
            i += 1
        }
        // Files keep coming until a compaction has been published (at a later commit).
        let done = waitUntil(30) {
            drop()
            usleep(150_000)
            return readText(log).contains("compaction finished")
        }
        #expect(done)
        #expect(waitUntil(10) { files(in: inbox).isEmpty })
        usleep(500_000)
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let ref = dir.path + "/ref"
        #expect(try tacho(["ingest", "--store", ref, "--log-level", "error", "--commit-per-file", copies]).status == 0)
        #expect(try queryAll(dir.path + "/store") == queryAll(ref))
        #expect(try segmentCount(dir.path + "/store") < segmentCount(ref))
        #expect(try tacho(["verify", "--store", dir.path + "/store"]).status == 0)
        #expect(try noOrphans(dir.path + "/store"))
    }

    /// `tacho run --max-bytes`: with three times the budget delivered, what Tacho keeps
    /// (store, processed/, rejected/) ends within the budget, the oldest processed copies went
    /// first (logged), and the newest rows are all there.
    @Test func runKeepsTheDiskBudget() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox", store = dir.path + "/store"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let budget: UInt64 = 120_000
        let log = dir.path + "/run.log"
        let p = try startProcess(
            ["run", "--store", store, "--inbox", inbox, "--settle", "0.2", "--max-bytes", "\(budget)",
             "--compact-every", "0", "--log-level", "notice"], stderrPath: log)
        defer { if p.isRunning { p.terminate(); p.waitUntilExit() } }
        var delivered: UInt64 = 0
        var i = 0
        while delivered < 3 * budget {
            writeFleetFile(inbox, index: i, day: 1 + i / 20)
            delivered += (try? FileManager.default.attributesOfItem(atPath: inbox + String(format: "/objects_detection_%04d.json", i))[.size] as? UInt64) ?? 0
            i += 1
            usleep(20_000)
        }
        #expect(waitUntil(20) { files(in: inbox).isEmpty })
        usleep(800_000)
        p.terminate()
        p.waitUntilExit()
        let kept = StoreUsage.bytes([store, dir.path + "/processed", dir.path + "/rejected"])
        #expect(kept <= budget, "\(kept) bytes kept, budget \(budget)")
        #expect(readText(log).contains("retention: deleted file"))
        // The newest file's rows are all queryable.
        let last = try tacho(["query", "detections", "--store", store, "--vehicle", "veh\((i - 1) % 5)", "--from", String(format: "2024-07-%02d", 1 + (i - 1) / 20)])
        #expect(last.stdout.split(separator: "\n").count >= 80)
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }

    /// The free-space floor pauses `tacho run` (a clear log line, files stay in the inbox,
    /// nothing fails) and ingest resumes when space is back. Free space is faked through a file.
    @Test func freeSpaceFloorPausesRun() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox", store = dir.path + "/store"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let freeFile = dir.path + "/free"
        try "1000".write(toFile: freeFile, atomically: true, encoding: .utf8)
        let log = dir.path + "/run.log"
        let p = try startProcess(
            ["run", "--store", store, "--inbox", inbox, "--settle", "0.2", "--min-free", "500MiB", "--log-level", "info"],
            env: ["TACHO_FAKE_FREE_BYTES_FILE": freeFile], stderrPath: log)
        defer { if p.isRunning { p.terminate(); p.waitUntilExit() } }
        for i in 0..<3 { writeFleetFile(inbox, index: i, day: 1) }
        #expect(waitUntil(10) { readText(log).contains("ingest paused") })
        usleep(1_500_000)
        #expect(files(in: inbox).count == 3)
        #expect(readText(log).contains("below the --min-free floor of 500.0 MiB"))
        try "\(1 << 40)".write(toFile: freeFile, atomically: true, encoding: .utf8)
        #expect(waitUntil(15) { files(in: inbox).isEmpty })
        #expect(readText(log).contains("ingest resumed"))
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(try detectionCount(store) == 3 * 80)
    }
}
