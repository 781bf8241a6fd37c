import Foundation
import Testing
import TachoStore
import TachoTestSupport

/// A declared rollup is maintained by `tacho ingest` and read back by `tacho query` as rows
/// (docs/CONFIG.md "Rollups"): after two ingests, the second re-delivering and correcting rows
/// of the first, the 15m buckets equal the counts and sums of the raw rows `tacho query` prints.
@Suite(.serialized) struct RollupCLITests {
    static let config = """
        [[measurement]]
        name = "detections"
        records = "objects_detection_events[].detections[]"
        files = { prefixes = ["objects_detection"], key = "objects_detection_events" }
        vehicle = { keys = ["vehicle_id"] }
        time = { key = "detection_time", format = "rfc3339" }
        identity = ["object_type"]
        fields = [
          { name = "object_type", type = "string", max_bytes = 64 },
          { name = "value", key = "object_value", type = "int64", min = 0 },
        ]
        rollups = [
          { every = "15m", by = ["object_type"], of = ["value"], fns = ["count", "sum"] },
        ]

        """

    /// One event per (vehicle, minute) in `minutes`, each with a car and (odd minutes) a sign.
    static func events(_ minutes: Range<Int>, salt: Int, day: Int = 1) -> String {
        var out: [String] = []
        for v in ["v1", "v2"] {
            for m in minutes {
                let time = String(format: "2024-07-%02dT%02d:%02d:00.000Z", day, m / 60, m % 60)
                var dets = [#"{"object_type":"cars","object_value":\#((m * 7 + salt) % 11)}"#]
                if m % 2 == 1 { dets.append(#"{"object_type":"signs","object_value":\#(m % 3)}"#) }
                out.append(#"{"vehicle_id":"\#(v)","detection_time":"\#(time)","detections":[\#(dets.joined(separator: ","))]}"#)
            }
        }
        return #"{"objects_detection_events":[\#(out.joined(separator: ","))]}"#
    }

    struct Bucket: Hashable { var vehicle: String, window: String, type: String }

    /// "2024-07-01T00:37:00.000Z" → "00:30" (the 15m window's start, hour and minute).
    static func window(_ time: Substring) -> String? {
        guard let t = time.split(separator: "T").last, t.count >= 5,
              let h = Int(t.prefix(2)), let m = Int(t.dropFirst(3).prefix(2)) else { return nil }
        return String(format: "%02d:%02d", h, m / 15 * 15)
    }

    @Test func ingestMaintainsDeclaredRollup() throws {
        let dir = TempDir("tacho-rollup-cli")
        defer { withExtendedLifetime(dir) {} }
        let inbox = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: inbox + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: inbox + "/b", withIntermediateDirectories: true)
        let cfg = dir.path + "/tacho.toml"
        try Self.config.write(toFile: cfg, atomically: true, encoding: .utf8)
        // The second file re-delivers minutes 20..<50 of the first with other values (the
        // identity replaces them) and adds minutes 50..<80.
        try Self.events(0..<50, salt: 0).write(toFile: inbox + "/a/objects_detection_1.json", atomically: true, encoding: .utf8)
        try Self.events(20..<80, salt: 5).write(toFile: inbox + "/b/objects_detection_2.json", atomically: true, encoding: .utf8)
        let store = dir.path + "/store"
        for sub in ["a", "b"] {
            let ing = try tacho(["ingest", "--store", store, "--config", cfg, inbox + "/" + sub])
            #expect(ing.status == 0, "\(ing.stderr)")
        }

        let raw = try tacho(["query", "detections", "--store", store, "--config", cfg])
        #expect(raw.status == 0, "\(raw.stderr)")
        var want: [Bucket: (count: Int, sum: Int)] = [:]
        let rawLines = raw.stdout.split(separator: "\n").dropFirst()
        for line in rawLines {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 4, let w = Self.window(f[1]), let v = Int(f[3]) else { Issue.record("raw line \(line)"); continue }
            let k = Bucket(vehicle: String(f[0]), window: w, type: String(f[2]))
            want[k, default: (0, 0)].count += 1
            want[k, default: (0, 0)].sum += v
        }
        // 2 vehicles × 80 minutes of cars, 40 odd minutes of signs: the re-delivered rows replaced.
        #expect(rawLines.count == 2 * (80 + 40))

        let rolled = try tacho(["query", "detections__15m", "--store", store, "--config", cfg])
        #expect(rolled.status == 0, "\(rolled.stderr)")
        let lines = rolled.stdout.split(separator: "\n")
        #expect(lines.first == "vehicle_id,time,object_type,count,value_sum", "\(rolled.stdout)")
        var got: [Bucket: (count: Int, sum: Int)] = [:]
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 5, let w = Self.window(f[1]), let c = Int(f[3]), let s = Int(f[4]) else { Issue.record("rollup line \(line)"); continue }
            let k = Bucket(vehicle: String(f[0]), window: w, type: String(f[2]))
            #expect(got[k] == nil, "bucket \(k) twice")
            got[k] = (c, s)
        }
        #expect(got.count == want.count && !got.isEmpty, "\(got.count) buckets, \(want.count) wanted")
        for (k, w) in want {
            #expect(got[k]?.count == w.count && got[k]?.sum == w.sum, "\(k): got \(String(describing: got[k])), want \(w)")
        }
    }

    /// Declaring a rollup on a store that already holds rows of its measurement: ingest is
    /// refused until a backfill has started (its buckets would miss those rows), and nothing
    /// is written.
    @Test func rollupOnAStoreWithRowsNeedsABackfillFirst() throws {
        let dir = TempDir("tacho-rollup-cli")
        defer { withExtendedLifetime(dir) {} }
        let cfg = dir.path + "/tacho.toml"
        try Self.config.write(toFile: cfg, atomically: true, encoding: .utf8)
        let file = dir.path + "/objects_detection_1.json"
        try Self.events(0..<10, salt: 0).write(toFile: file, atomically: true, encoding: .utf8)
        let store = dir.path + "/store"
        let plain = try tacho(["ingest", "--store", store, file])
        #expect(plain.status == 0, "\(plain.stderr)")
        let file2 = dir.path + "/objects_detection_2.json"
        try Self.events(10..<20, salt: 0).write(toFile: file2, atomically: true, encoding: .utf8)
        let ing = try tacho(["ingest", "--store", store, "--config", cfg, file2])
        #expect(ing.status == 64)
        #expect(ing.stderr.contains("build the rollup from them first with `tacho rollup backfill`"), "\(ing.stderr)")
        let raw = try tacho(["query", "detections", "--store", store])
        #expect(raw.stdout.split(separator: "\n").count == 1 + 2 * (10 + 5), "\(raw.stdout)")
        let status = try tacho(["rollup", "status", "--store", store, "--config", cfg])
        #expect(status.stdout.contains("detections:15m,detections__15m,not started,"), "\(status.stdout)")
    }

    /// "2024-07-03T00:37:00.000Z" → "2024-07-03T00:30" (the 15m window's start).
    static func dayWindow(_ time: Substring) -> String? {
        guard let w = window(time) else { return nil }
        return "\(time.prefix(10))T\(w)"
    }

    /// count and sum of `value` per (vehicle, 15m window, type), from the raw rows and from the
    /// rollup's stored rows (tombstones skipped).
    static func buckets(_ store: String, _ cfg: String) throws -> (want: [Bucket: [Int]], got: [Bucket: [Int]]) {
        var want: [Bucket: [Int]] = [:], got: [Bucket: [Int]] = [:]
        let raw = try tacho(["query", "detections", "--store", store, "--config", cfg])
        for line in raw.stdout.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 4, let w = dayWindow(f[1]), let v = Int(f[3]) else { Issue.record("raw line \(line)"); continue }
            let k = Bucket(vehicle: String(f[0]), window: w, type: String(f[2]))
            want[k, default: [0, 0]][0] += 1
            want[k, default: [0, 0]][1] += v
        }
        let rolled = try tacho(["query", "detections__15m", "--store", store, "--config", cfg])
        for line in rolled.stdout.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == 5, let w = dayWindow(f[1]), let c = Int(f[3]) else { Issue.record("rollup line \(line)"); continue }
            guard c > 0 else { continue }
            let k = Bucket(vehicle: String(f[0]), window: w, type: String(f[2]))
            #expect(got[k] == nil, "bucket \(k) twice")
            got[k] = [c, Int(f[4]) ?? -1]
        }
        return (want, got)
    }

    /// The config declaring the rollup (`tacho.toml`), the store's path and a directory of
    /// detection files of `days` days, `minutes` minutes each, not ingested yet.
    static func rowsBeforeTheRollup(_ dir: TempDir, days: Int, minutes: Int) throws -> (cfg: String, store: String, before: String) {
        let cfg = dir.path + "/tacho.toml"
        try Self.config.write(toFile: cfg, atomically: true, encoding: .utf8)
        let before = dir.path + "/before"
        try FileManager.default.createDirectory(atPath: before, withIntermediateDirectories: true)
        for day in 1...days {
            try Self.events(0..<minutes, salt: day, day: day)
                .write(toFile: before + "/objects_detection_\(day).json", atomically: true, encoding: .utf8)
        }
        return (cfg, dir.path + "/store", before)
    }

    /// `tacho rollup backfill` builds a rollup from the rows the store held before it was
    /// declared; killed after a range's commit (before its record) and after a range's record,
    /// it resumes; `tacho agg` answers from the raw rows until it completes (the same numbers
    /// as `--raw`), from the rollup after; ingest between the runs (a new day, corrections of a
    /// built day and of an unbuilt one) is counted once.
    @Test func backfillIsResumableAndAggWaitsForIt() throws {
        let dir = TempDir("tacho-rollup-backfill")
        defer { withExtendedLifetime(dir) {} }
        let (cfg, store, before) = try Self.rowsBeforeTheRollup(dir, days: 6, minutes: 6 * 60)
        let plain = try tacho(["ingest", "--store", store, before])
        #expect(plain.status == 0, "\(plain.stderr)")
        let agg = ["agg", "detections", "--store", store, "--config", cfg, "--every", "1h", "--fn", "sum", "--by", "vehicle,type", "--explain"]
        let rawAnswer = try tacho(agg + ["--raw"])
        #expect(rawAnswer.status == 0, "\(rawAnswer.stderr)")

        // Killed just after the second range's commit (before its record), then after the
        // second range's record of the next run.
        let k1 = try tacho(["rollup", "backfill", "--store", store, "--config", cfg], env: ["TACHO_CRASH_POINT": "commit.after-switch@2"])
        #expect(k1.killedBySignal == SIGKILL, "\(k1.status) \(k1.stderr)")
        var status = try tacho(["rollup", "status", "--store", store, "--config", cfg])
        #expect(status.stdout.contains("detections:15m,detections__15m,building,2024-07-02T00:00:00.000Z"), "\(status.stdout)")
        var partial = try tacho(agg)
        #expect(partial.stdout == rawAnswer.stdout)
        #expect(!partial.stderr.contains("rollup"), "\(partial.stderr)")

        // Ingest is allowed once the backfill has started: a new day, a correction of day 1
        // (built) and of day 5 (not built yet).
        let more = dir.path + "/more"
        try FileManager.default.createDirectory(atPath: more, withIntermediateDirectories: true)
        try Self.events(0..<60, salt: 3, day: 7).write(toFile: more + "/objects_detection_7.json", atomically: true, encoding: .utf8)
        try Self.events(30..<90, salt: 9, day: 1).write(toFile: more + "/objects_detection_1b.json", atomically: true, encoding: .utf8)
        try Self.events(30..<90, salt: 8, day: 5).write(toFile: more + "/objects_detection_5b.json", atomically: true, encoding: .utf8)
        let ing = try tacho(["ingest", "--store", store, "--config", cfg, more])
        #expect(ing.status == 0, "\(ing.stderr)")
        let rawAfter = try tacho(agg + ["--raw"])
        #expect(rawAfter.stdout != rawAnswer.stdout)
        partial = try tacho(agg)
        #expect(partial.stdout == rawAfter.stdout)

        let k2 = try tacho(["rollup", "backfill", "--store", store, "--config", cfg], env: ["TACHO_CRASH_POINT": CrashPoint.backfillRecorded + "@2"])
        #expect(k2.killedBySignal == SIGKILL, "\(k2.status) \(k2.stderr)")
        status = try tacho(["rollup", "status", "--store", store, "--config", cfg])
        #expect(status.stdout.contains(",building,2024-07-04T00:00:00.000Z"), "\(status.stdout)")

        let done = try tacho(["rollup", "backfill", "--store", store, "--config", cfg])
        #expect(done.status == 0, "\(done.stderr)")
        #expect(done.stdout.contains("detections:15m: complete ("), "\(done.stdout)")
        status = try tacho(["rollup", "status", "--store", store, "--config", cfg])
        #expect(status.stdout.contains("detections:15m,detections__15m,complete,"), "\(status.stdout)")
        let again = try tacho(["rollup", "backfill", "--store", store, "--config", cfg])
        #expect(again.stdout.contains("detections:15m: complete already"), "\(again.stdout)")

        let full = try tacho(agg)
        #expect(full.stdout == rawAfter.stdout)
        #expect(full.stderr.contains("rollup detections:15m"), "\(full.stderr)")
        var (want, got) = try Self.buckets(store, cfg)
        #expect(!want.isEmpty && got == want, "\(got.count) buckets, \(want.count) wanted")

        // Ingest after the backfill keeps the rollup exact.
        try Self.events(60..<120, salt: 4, day: 7).write(toFile: more + "/objects_detection_7b.json", atomically: true, encoding: .utf8)
        try Self.events(0..<30, salt: 2, day: 3).write(toFile: more + "/objects_detection_3b.json", atomically: true, encoding: .utf8)
        #expect(try tacho(["ingest", "--store", store, "--config", cfg, more]).status == 0)
        (want, got) = try Self.buckets(store, cfg)
        #expect(got == want)
        #expect(try tacho(agg).stdout == (try tacho(agg + ["--raw"])).stdout)
        #expect(try tacho(["verify", "--store", store, "--config", cfg]).status == 0)
    }

    /// The backfill lets go of the writer lock between slices: `tacho ingest --wait-lock`
    /// commits while it runs (one range per slice here), and its rows are counted once.
    @Test func ingestWithWaitLockCommitsWhileTheBackfillRuns() throws {
        let dir = TempDir("tacho-rollup-backfill-lock")
        defer { withExtendedLifetime(dir) {} }
        let (cfg, store, before) = try Self.rowsBeforeTheRollup(dir, days: 10, minutes: 120)
        #expect(try tacho(["ingest", "--store", store, before]).status == 0)
        let backfill = try startProcess(["rollup", "backfill", "--store", store, "--config", cfg, "--slice-seconds", "0"])
        #expect(waitUntil(20) { FileManager.default.fileExists(atPath: store + "/BACKFILL") })
        let more = dir.path + "/more"
        try FileManager.default.createDirectory(atPath: more, withIntermediateDirectories: true)
        try Self.events(60..<100, salt: 7, day: 2).write(toFile: more + "/objects_detection_2b.json", atomically: true, encoding: .utf8)
        try Self.events(60..<100, salt: 7, day: 9).write(toFile: more + "/objects_detection_9b.json", atomically: true, encoding: .utf8)
        let ing = try tacho(["ingest", "--store", store, "--config", cfg, "--wait-lock", "30s", more])
        #expect(ing.status == 0, "\(ing.stderr)")
        #expect(backfill.isRunning, "the ingest committed only after the backfill ended")
        backfill.waitUntilExit()
        #expect(backfill.terminationStatus == 0)
        let status = try tacho(["rollup", "status", "--store", store, "--config", cfg])
        #expect(status.stdout.contains("detections:15m,detections__15m,complete,"), "\(status.stdout)")
        let (want, got) = try Self.buckets(store, cfg)
        #expect(!want.isEmpty && got == want, "\(got.count) buckets, \(want.count) wanted")
    }

    /// Tiered retention and transparent reads (issue 14 items 3 and 4): raw detections kept
    /// 30 days, a daily rollup ten years, a 15m rollup 100 days. After `tacho compact` expires a
    /// year-old day of raw rows, `tacho agg` answers that day from the daily rollup with the
    /// numbers the raw rows gave before, `--explain` says so, and the 15m rollup's year-old
    /// rows are gone by its own retention while its recent ones stay.
    @Test func aggAnswersExpiredRawRangeFromRollup() throws {
        let dir = TempDir("tacho-rollup-tier")
        defer { withExtendedLifetime(dir) {} }
        let cfg = dir.path + "/tacho.toml"
        let config = Self.config
            .replacingOccurrences(of: #"{ every = "15m", by = ["object_type"], of = ["value"], fns = ["count", "sum"] },"#,
                                  with: #"""
                { every = "15m", by = ["object_type"], of = ["value"], fns = ["count", "sum"], retention = "100d" },
                  { every = "1d", name = "daily", by = ["object_type"], of = ["value"], fns = ["count", "sum", "min", "max"], retention = "3650d" },
                """#)
            + "retention = \"30d\"\n"
        #expect(config.contains("daily"))
        try config.write(toFile: cfg, atomically: true, encoding: .utf8)
        let day = 86_400.0
        let today = (Date().timeIntervalSince1970 / day).rounded(.down) * day
        let fmt = ISO8601DateFormatter()
        fmt.formatOptions = [.withFullDate]
        let oldDay = fmt.string(from: Date(timeIntervalSince1970: today - 365 * day))
        let oldNext = fmt.string(from: Date(timeIntervalSince1970: today - 364 * day))
        let recentDay = fmt.string(from: Date(timeIntervalSince1970: today - day))
        let store = dir.path + "/store"
        for (n, d) in [oldDay, recentDay].enumerated() {
            let file = dir.path + "/objects_detection_\(n).json"
            try Self.events(0..<90, salt: n).replacingOccurrences(of: "2024-07-01", with: d).write(toFile: file, atomically: true, encoding: .utf8)
            let ing = try tacho(["ingest", "--store", store, "--config", cfg, file])
            #expect(ing.status == 0, "\(ing.stderr)")
        }
        let agg = ["agg", "detections", "--store", store, "--config", cfg, "--every", "1d", "--by", "vehicle,type",
                   "--from", oldDay, "--to", oldNext]
        let before = try tacho(agg + ["--fn", "sum", "--raw"])
        #expect(before.status == 0, "\(before.stderr)")
        #expect(before.stdout.split(separator: "\n").count == 1 + 2 * 2, "\(before.stdout)")
        let viaRollup = try tacho(agg + ["--fn", "sum", "--explain"])
        #expect(viaRollup.stdout == before.stdout)
        #expect(viaRollup.stderr.contains("rollup detections:daily"), "\(viaRollup.stderr)")

        let compact = try tacho(["compact", "--store", store, "--config", cfg])
        #expect(compact.status == 0, "\(compact.stderr)")
        // The raw rows of that day are gone…
        let raw = try tacho(["query", "detections", "--store", store, "--config", cfg, "--from", oldDay, "--to", oldNext])
        #expect(raw.stdout.split(separator: "\n").count == 1, "\(raw.stdout)")
        let rawAgg = try tacho(agg + ["--fn", "sum", "--raw", "--explain"])
        #expect(rawAgg.stdout.split(separator: "\n").count == 1, "\(rawAgg.stdout)")
        #expect(rawAgg.stderr.contains("have expired"), "\(rawAgg.stderr)")
        // …and the daily rollup answers it as they did.
        let after = try tacho(agg + ["--fn", "sum", "--explain"])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(after.stdout == before.stdout, "\(after.stdout)")
        #expect(after.stderr.contains("rollup detections:daily"), "\(after.stderr)")
        #expect(!after.stderr.contains(" raw"), "\(after.stderr)")
        // The 15m rollup's own retention (100d) took its year-old rows, not its recent ones.
        let q15 = try tacho(["query", "detections__15m", "--store", store, "--config", cfg])
        #expect(!q15.stdout.contains(oldDay), "\(q15.stdout)")
        #expect(q15.stdout.contains(recentDay), "\(q15.stdout)")
        let daily = try tacho(["query", "detections__daily", "--store", store, "--config", cfg])
        #expect(daily.stdout.contains(oldDay) && daily.stdout.contains(recentDay), "\(daily.stdout)")
    }
}
