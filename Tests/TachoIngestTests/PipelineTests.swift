import Foundation
import Testing
import TachoFormat
@testable import TachoIngest
import TachoJSON
import TachoStore
import TachoTestSupport

/// Parsing beside the writer (Ingestor.ingest(paths:each:), TelemetryReader.readStreaming)
/// must be invisible: the same outcomes, rows and segment bytes as reading one file at a time.
@Suite struct PipelineTests {
    /// A detections file of `events` events over `vehicles` vehicles, times from `t0` seconds.
    static func detectionsJSON(events: Int, vehicles: Int, t0: Int, seed: Int, broken: Bool = false) -> String {
        var s = "{\"objects_detection_events\":[\n"
        for e in 0..<events {
            let v = (e * 7 + seed) % vehicles
            let t = t0 + (e * 13 + seed * 5) % (events * 2)  // out of order, some repeats
            let types = ["cars", "trucks", "pedestrians", "signs"]
            let dets = (0..<(1 + (e + seed) % 4)).map { k in
                "{\"object_type\":\"\(types[(k + e) % 4])\",\"object_value\":\((e * 31 + k + seed) % 9)}"
            }
            let secs = t % 60, mins = (t / 60) % 60, hours = t / 3600
            let time = String(format: "2024-07-01T%02d:%02d:%02d.%03dZ", hours, mins, secs, (e * 17) % 1000)
            if e > 0 { s += ",\n" }
            s += "{\"vehicle_id\":\"veh-\(v)\",\"detection_time\":\"\(time)\",\"detections\":[\(dets.joined(separator: ","))]}"
            if broken && e == events - 3 { s += ",{\"vehicle_id\": oops}" }
        }
        return s + "\n]}\n"
    }

    /// Files of every kind of outcome, in the order given to the ingestor.
    static func inputs(in dir: String) throws -> [String] {
        var paths: [String] = []
        func write(_ name: String, _ text: String) throws {
            let p = dir + "/" + name
            try text.write(toFile: p, atomically: false, encoding: .utf8)
            paths.append(p)
        }
        try write("objects_detection_a.json", detectionsJSON(events: 400, vehicles: 5, t0: 0, seed: 1))
        try write("objects_detection_big.json", detectionsJSON(events: 3000, vehicles: 7, t0: 100, seed: 2))
        try write("objects_detection_b.json", detectionsJSON(events: 300, vehicles: 5, t0: 50, seed: 3))
        try write("objects_detection_a_again.json", detectionsJSON(events: 400, vehicles: 5, t0: 0, seed: 1))
        try write("objects_detection_broken.json", detectionsJSON(events: 500, vehicles: 4, t0: 10, seed: 4, broken: true))
        try write("objects_detection_big_broken.json", detectionsJSON(events: 2500, vehicles: 4, t0: 10, seed: 5, broken: true))
        for f in ["mobileye-nested/objects_detection_1654462955.json", "mobileye-nested/vehicles_status_1651788155.json",
                  "mobileye-appendix-malformed/objects_detection_1654462954.json",
                  "mobileye-flat/objects_detection_20240703T210234.json", "mobileye-nested/vehicles_status_20240718_140532.json"]
        {
            paths.append(fixtures + "/" + f)
        }
        try write("objects_detection_c.json", detectionsJSON(events: 200, vehicles: 3, t0: 7, seed: 6))
        return paths
    }

    /// What a result says, minus timings.
    static func summary(_ path: String, _ outcome: IngestOutcome) -> String {
        switch outcome {
        case .ingested(let rep): "\(path) ingested \(rep.rows) rows \(rep.rejectCount) rejects \(rep.hash)"
        case .duplicate(let rep, let prior): "\(path) duplicate \(rep.rows) of \(prior.name)"
        case .rejected(let e): "\(path) rejected \(e)"
        }
    }

    /// Segment file names and bytes.
    static func segments(_ store: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: store + "/segments") {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: store + "/segments/" + name))
        }
        return out
    }

    static func options(bufferBytes: Int) -> StoreOptions {
        var o = quietOptions()
        o.bufferBytes = bufferBytes
        return o
    }

    /// The reference for `Ingestor.ingest(paths:each:)`: the commits `grouping` plans, each
    /// file read on the writer's thread, appended unless rejected or a re-delivery (of the
    /// ledger or of an earlier file of its group), one commit per unit with the new files'
    /// ledger entries.
    static func sequentialReference(_ paths: [String], grouping: CommitGrouping, store: String) throws -> [String] {
        var expected: [String] = []
        let w = try StoreWriter(path: store, options: Self.options(bufferBytes: 40_000))
        defer { w.close() }
        let reader = TelemetryReader()
        for unit in grouping.plan(sizes: paths.map(CommitGrouping.size(of:))) {
            var entries: [LedgerEntry] = []
            var inGroup: [ContentHash: LedgerEntry] = [:]
            for p in paths[unit.files] {
                var batches: [RowBatch] = []
                do {
                    let rep = try reader.read(path: p) { batches.append($0) }
                    if let prior = w.ledgerEntry(for: rep.hash) ?? inGroup[rep.hash], prior.size == rep.size {
                        expected.append(Self.summary(p, .duplicate(rep, of: prior)))
                        continue
                    }
                    for b in batches { try w.append(b) }
                    let name = p.split(separator: "/").last.map(String.init)!
                    let e = LedgerEntry(name: name, size: rep.size, hash: rep.hash, rows: rep.rows, ingestedAt: 1)
                    entries.append(e)
                    inGroup[rep.hash] = e
                    expected.append(Self.summary(p, .ingested(rep)))
                } catch let e as FileError {
                    expected.append(Self.summary(p, .rejected(e)))
                }
            }
            if !entries.isEmpty { try w.commit(ledger: entries) }
        }
        return expected
    }

    /// Parsing and sealing ahead, on any number of threads, in groups of any size, gives the
    /// same outcomes, rows and segment bytes as reading each group's files one by one on the
    /// writer's thread. The inputs hold every outcome: big (streamed) files, rejected files
    /// (also a big one), a re-delivery (in the same group or a later one, by group size),
    /// fixtures of both kinds and layouts.
    @Test(arguments: [(1, 1, 1), (2, 1, 1), (2, 4, 1), (3, 2, 1), (1, 1, 64), (2, 2, 2), (2, 1, 3), (3, 3, 64)])
    func parsingAheadChangesNothing(threads: Int, ahead: Int, groupFiles: Int) throws {
        let input = TempDir()
        let paths = try Self.inputs(in: input.path)
        // The two big files are streamed; groups hold at most `groupFiles` files or 250 kB.
        let grouping = CommitGrouping(maxFiles: groupFiles, maxBytes: 250_000, streamAbove: 100_000)
        let units = grouping.plan(sizes: paths.map(CommitGrouping.size(of:)))
        #expect(units.filter { if case .stream = $0 { true } else { false } }.count == 2)
        if groupFiles > 1 { #expect(units.contains { $0.files.count > 1 }) }
        let ref = TempDir()
        let expected = try Self.sequentialReference(paths, grouping: grouping, store: ref.path)
        let dir = TempDir()
        var got: [String] = []
        do {
            let w = try StoreWriter(path: dir.path, options: Self.options(bufferBytes: 40_000))
            defer { w.close() }
            let ing = Ingestor(writer: w, logger: quietLogger())
            ing.parseThreads = threads
            ing.parseAhead = ahead
            ing.grouping = grouping
            ing.streamDepth = 2
            try ing.ingest(paths: paths) { got.append(Self.summary($0.path, $0.outcome)) }
        }
        #expect(got == expected)
        #expect(try allRows(dir.path, .detections) == allRows(ref.path, .detections))
        #expect(try allRows(dir.path, .status) == allRows(ref.path, .status))
        #expect(try Self.segments(dir.path) == Self.segments(ref.path))
        #expect(try Self.latest(dir.path) == Self.latest(ref.path))
    }

    func names(_ dir: String) -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") })
    }

    /// `tacho run` drains a backlog through the same parse-ahead path (`InboxDaemon.ingest`):
    /// on any number of threads, parsed any number of groups ahead, in groups of any size, it
    /// stores exactly what reading each group's files one by one on the writer's thread stores
    /// (rows, segment bytes, latest index), and keeps the claim step's promises: every file
    /// was claimed and leaves the claim directory — ingested files and re-deliveries (of the
    /// ledger, of an earlier file in the group or of one committed in an earlier group) to
    /// processed/, rejected ones to rejected/ with their reports — and the ledger names
    /// exactly the ingested files.
    @Test(arguments: [(1, 1, 1), (2, 1, 1), (2, 4, 1), (3, 2, 1), (1, 1, 64), (2, 2, 2), (2, 1, 3), (3, 3, 64)])
    func theDaemonParsingAheadStoresWhatTheSequentialPathStores(threads: Int, ahead: Int, groupFiles: Int) throws {
        let input = TempDir()
        let paths = try Self.inputs(in: input.path)
        let grouping = CommitGrouping(maxFiles: groupFiles, maxBytes: 250_000, streamAbove: 100_000)
        let ref = TempDir()
        let expected = try Self.sequentialReference(paths, grouping: grouping, store: ref.path)
        func outcome(_ word: String) -> Set<String> {
            Set(zip(paths, expected).filter { $0.1.hasPrefix($0.0 + " " + word) }.map { baseName($0.0) })
        }
        let (ingested, duplicates, rejected) = (outcome("ingested"), outcome("duplicate"), outcome("rejected"))
        #expect(!duplicates.isEmpty && !rejected.isEmpty && ingested.count + duplicates.count + rejected.count == paths.count)

        let dir = TempDir()
        let inbox = dir.path + "/inbox", store = dir.path + "/store"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        for p in paths { try FileManager.default.copyItem(atPath: p, toPath: inbox + "/" + baseName(p)) }
        var config = InboxConfig()
        config.inbox = inbox
        config.grouping = grouping
        config.parseThreads = threads
        config.parseAhead = ahead
        let w = try StoreWriter(path: store, options: Self.options(bufferBytes: 40_000))
        do {
            defer { w.close() }
            let daemon = try InboxDaemon(config: config, writer: w, logger: quietLogger())
            let claimed = daemon.claim(paths.map { inbox + "/" + baseName($0) })
            #expect(claimed.count == paths.count && claimed.allSatisfy { $0.hasPrefix(inbox + "/.tacho-claimed/") })
            #expect(names(inbox).isEmpty, "claimed files left the inbox's own names")
            var commits = 0
            daemon.afterCommit = { commits += 1 }
            try daemon.ingest(claimed, stop: StopFlag())
            daemon.claims.removeIfEmpty()
            #expect(commits == grouping.plan(sizes: paths.map(CommitGrouping.size(of:))).count - 2 + 1)  // groups, and the one streamed file that parses
            #expect(Set(w.ledger.values.map(\.name)) == ingested)
        }
        #expect(names(inbox).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: inbox + "/.tacho-claimed"), "nothing stays claimed")
        #expect(names(dir.path + "/processed") == ingested.union(duplicates))
        #expect(names(dir.path + "/rejected") == Set(rejected.flatMap { [$0, $0 + ".error"] }))
        #expect(try allRows(store, .detections) == allRows(ref.path, .detections))
        #expect(try allRows(store, .status) == allRows(ref.path, .status))
        #expect(try Self.segments(store) == Self.segments(ref.path))
        #expect(try Self.latest(store) == Self.latest(ref.path))
    }

    /// Retention raises a watermark between two of the daemon's commits while later groups are
    /// already parsed ahead against the old one: those are parsed again, so their rows below
    /// the new watermark are rejected with the reason (rejects.ndjson) instead of being stored
    /// hidden and counted as ingested.
    @Test func theDaemonParsesAgainWhatARaisedWatermarkExpires() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox", store = dir.path + "/store"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let day: Int64 = 86_400_000_000
        let t0: Int64 = 1_719_792_000_000_000  // 2024-07-01
        func file(_ name: String, _ times: [Int64]) -> String {
            let events = times.map { #"{"vehicle_id":"v1","detection_time":"\#(Timestamp.format($0))","object_type":"cars","object_value":1}"# }
            let p = dir.path + "/" + name
            _ = FileManager.default.createFile(atPath: p, contents: Data(#"{"objects_detection_events":[\#(events.joined(separator: ","))]}"#.utf8))
            return p
        }
        try ingest(store, [file("objects_detection_0.json", [t0, t0 + 3 * day])])
        let backlog = [
            file("objects_detection_1.json", [t0 + 3 * day + 1]),
            file("objects_detection_2.json", [t0 + day, t0 + 3 * day + 2]),
            file("objects_detection_3.json", [t0 + day + 5, t0 + 3 * day + 3]),
        ].map { p in
            let q = inbox + "/" + baseName(p)
            rename(p, q)
            return q
        }
        let w = try StoreWriter(path: store, options: quietOptions())
        defer { w.close() }
        var config = InboxConfig()
        config.inbox = inbox
        config.grouping = CommitGrouping(maxFiles: 1, maxBytes: 1 << 20, streamAbove: 1 << 20)
        config.parseThreads = 1
        config.parseAhead = 3
        let daemon = try InboxDaemon(config: config, writer: w, logger: quietLogger())
        var policy = RetentionPolicy()
        policy.maxAge = [Measurement.detections.id: 2 * day]
        let retention = RetentionEnforcer(policy: policy, logger: quietLogger(), clock: StoreClock.Manual(wallMicros: t0 + 4 * day).clock)
        var first = true
        daemon.afterCommit = {
            guard first else { return }
            first = false
            usleep(200_000)  // the next groups are parsed and sealed meanwhile
            try retention.enforceAge(w)
        }
        try daemon.ingest(daemon.claim(backlog), stop: StopFlag())
        #expect(w.manifest.watermarks[Measurement.detections.id] == t0 + 2 * day)
        #expect(names(dir.path + "/processed") == Set(backlog.map(baseName)))
        #expect(names(dir.path + "/rejected") == ["objects_detection_2.json.rejects.ndjson", "objects_detection_3.json.rejects.ndjson"])
        let why = try String(contentsOfFile: dir.path + "/rejected/objects_detection_2.json.rejects.ndjson", encoding: .utf8)
        #expect(why.contains("older than the retention watermark of detections"), "\(why)")
        // Nothing below the watermark was written (retention dropped the first file's old row).
        #expect(w.manifest.segments.allSatisfy { $0.minTime >= t0 + 2 * day })
        #expect(w.ledger.values.map(\.rows).sorted() == [1, 1, 1, 2])
    }

    /// A re-delivery in a later group than its original (which the parse threads cannot know
    /// about when they seal) is still reported as a duplicate and stores nothing twice; a
    /// second copy in that group is reported as a duplicate of the original too, not of the
    /// first copy (which was itself skipped).
    @Test func aReDeliveryInALaterGroupStoresNothingTwice() throws {
        let input = TempDir()
        // Files 4 and 5 (one group) repeat file 1.
        let paths = try Self.writeFiles(in: input.path, count: 6) { i in
            let k = i >= 4 ? 1 : i
            return Self.detectionsJSON(events: 120, vehicles: 4, t0: 1000 * k, seed: k)
        }
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quietOptions())
        defer { w.close() }
        let ing = Ingestor(writer: w, logger: quietLogger())
        ing.grouping = CommitGrouping(maxFiles: 2, maxBytes: 1 << 20, streamAbove: 1 << 20)
        ing.parseAhead = 3  // groups 0–2 are sealed before group 0 is committed
        var outcomes: [String] = []
        try ing.ingest(paths: paths) { r in
            switch r.outcome {
            case .ingested(let rep): outcomes.append("ingested \(rep.rows)")
            case .duplicate(_, let prior): outcomes.append("duplicate of \(prior.name)")
            case .rejected(let e): outcomes.append("rejected \(e)")
            }
        }
        #expect(outcomes.count == 6)
        #expect(outcomes[4] == "duplicate of objects_detection_01.json")
        #expect(outcomes[5] == "duplicate of objects_detection_01.json")
        #expect(outcomes.filter { $0.hasPrefix("ingested") }.count == 4)
        #expect(w.ledger.count == 4)
        let stored = w.manifest.segments.reduce(0) { $0 + $1.rowCount }
        let rows = try allRows(dir.path, .detections).count
        #expect(stored == rows)  // no row stored twice
    }

    /// Groups really are one commit each: 12 small files in groups of 4 give 3 commits.
    @Test func smallFilesAreCommittedInGroups() throws {
        let input = TempDir()
        let paths = try Self.writeFiles(in: input.path, count: 12) { i in
            Self.detectionsJSON(events: 50, vehicles: 3, t0: 200 * i, seed: i)
        }
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quietOptions())
        defer { w.close() }
        let ing = Ingestor(writer: w, logger: quietLogger())
        ing.grouping = CommitGrouping(maxFiles: 4, maxBytes: 1 << 20, streamAbove: 1 << 20)
        var n = 0
        try ing.ingest(paths: paths) { _ in n += 1 }
        #expect(n == 12)
        #expect(w.manifest.commit == 3)
        #expect(w.manifest.segments.count == 3)  // one detections segment per group (one partition)
    }

    /// Writes `objects_detection_00.json`… with `text(i)`; the paths in name order.
    static func writeFiles(in dir: String, count: Int, _ text: (Int) -> String) throws -> [String] {
        try (0..<count).map { i in
            let p = dir + "/objects_detection_\(String(format: "%02d", i)).json"
            try text(i).write(toFile: p, atomically: false, encoding: .utf8)
            return p
        }
    }

    static func latest(_ store: String) throws -> LatestIndex {
        try Snapshot.open(path: store, options: quietOptions()).latestIndex()
    }

    /// A status file of `reports` reports; some repeat a (vehicle, time) with another status.
    static func statusJSON(reports: Int, vehicles: Int, seed: Int) -> String {
        let statuses = ["driving", "parked", "charging", "offline"]
        var s = "{\"vehicle_status\":[\n"
        for e in 0..<reports {
            let t = (e * 11 + seed) % (reports / 2 + 1)
            if e > 0 { s += ",\n" }
            s += "{\"vehicle_id\":\"veh-\((e * 3 + seed) % vehicles)\",\"report_time\":\"2024-07-01T00:\(String(format: "%02d:%02d", (t / 60) % 60, t % 60))Z\",\"status\":\"\(statuses[(e + seed) % 4])\"}"
        }
        return s + "\n]}\n"
    }

    /// `StoreWriter.seal` + `append(_ sealed:)` write what appending the batches would, also
    /// when the rows spill in the middle (several segments, statuses offered in between) and
    /// after earlier commits whose latest statuses they compete with.
    @Test(arguments: [300, 2_000, 1 << 20])
    func sealingElsewhereWritesTheSameStore(bufferBytes: Int) throws {
        let input = TempDir()
        var files: [String] = []
        for (i, text) in [Self.statusJSON(reports: 3000, vehicles: 7, seed: 1), Self.detectionsJSON(events: 900, vehicles: 5, t0: 3, seed: 2),
                          Self.statusJSON(reports: 2000, vehicles: 9, seed: 4)].enumerated()
        {
            let p = input.path + (i == 1 ? "/objects_detection_\(i).json" : "/vehicles_status_\(i).json")
            try text.write(toFile: p, atomically: false, encoding: .utf8)
            files.append(p)
        }
        var opts = ReaderOptions()
        opts.batchRows = 250
        let reader = TelemetryReader(options: opts)
        let a = TempDir(), b = TempDir()
        let wa = try StoreWriter(path: a.path, options: Self.options(bufferBytes: bufferBytes))
        let wb = try StoreWriter(path: b.path, options: Self.options(bufferBytes: bufferBytes))
        for f in files {
            var batches: [RowBatch] = []
            _ = try reader.read(path: f) { batches.append($0) }
            for x in batches { try wa.append(x) }
            try wa.commit()
            try wb.append(try StoreWriter.seal(&batches, wb.sealParameters))
            #expect(batches.isEmpty)
            try wb.commit()
        }
        wa.close()
        wb.close()
        #expect(try Self.segments(a.path).count > (bufferBytes < 10_000 ? files.count : 0))
        #expect(try Self.segments(a.path) == Self.segments(b.path))
        #expect(try Self.latest(a.path) == Self.latest(b.path))
        #expect(try allRows(a.path, .status) == allRows(b.path, .status))
    }

    @Test func anUnreadableFileIsThrownInItsTurn() throws {
        let input = TempDir()
        var paths = Array(try Self.inputs(in: input.path).prefix(3))
        paths.insert(input.path + "/objects_detection_missing.json", at: 2)
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quietOptions())
        defer { w.close() }
        let ing = Ingestor(writer: w, logger: quietLogger())
        ing.grouping.streamAbove = 60_000
        var seen: [String] = []
        #expect(throws: InputReadError.self) {
            try ing.ingest(paths: paths) { seen.append($0.path) }
        }
        #expect(seen == Array(paths.prefix(2)))
        #expect(w.ledger.count == 2)  // the two files before the missing one are committed
    }

    @Test func aStreamedFileRejectedLateLeavesNothing() throws {
        let input = TempDir()
        let p = input.path + "/objects_detection_late.json"
        try Self.detectionsJSON(events: 4000, vehicles: 6, t0: 0, seed: 9, broken: true).write(toFile: p, atomically: false, encoding: .utf8)
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: Self.options(bufferBytes: 20_000))  // spills while streaming
        defer { w.close() }
        var opts = ReaderOptions()
        opts.batchRows = 100
        let ing = Ingestor(writer: w, options: opts, logger: quietLogger())
        let r = try ing.ingest(path: p)
        guard case .rejected = r.outcome else {
            Issue.record("expected a rejection, got \(r.outcome)")
            return
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments").isEmpty)
        #expect(try allRows(dir.path, .detections).isEmpty)
    }

    @Test func aFailingSinkStopsTheParserAndItsErrorWins() throws {
        struct Stop: Error {}
        let input = TempDir()
        let p = input.path + "/objects_detection_x.json"
        try Self.detectionsJSON(events: 5000, vehicles: 6, t0: 0, seed: 3).write(toFile: p, atomically: false, encoding: .utf8)
        var opts = ReaderOptions()
        opts.batchRows = 50
        var batches = 0
        #expect(throws: Stop.self) {
            _ = try TelemetryReader(options: opts).readStreaming(path: p, depth: 1) { _ in
                batches += 1
                if batches == 3 { throw Stop() }
            }
        }
        #expect(batches == 3)
    }

    @Test func streamingReadsTheSameRowsAndHash() throws {
        let input = TempDir()
        let p = input.path + "/objects_detection_x.json"
        // Larger than the read-ahead chunks, so several are handed over.
        try Self.detectionsJSON(events: 20_000, vehicles: 9, t0: 0, seed: 8).write(toFile: p, atomically: false, encoding: .utf8)
        var plain: [RowBatch] = []
        let a = try TelemetryReader().read(path: p) { plain.append($0) }
        var streamed: [RowBatch] = []
        let b = try TelemetryReader().readStreaming(path: p, depth: 1) { streamed.append($0) }
        #expect(a.hash == b.hash && a.size == b.size && a.rows == b.rows)
        func rows(_ bs: [RowBatch]) -> [String] {
            bs.flatMap { b in
                (0..<b.count).map { i in
                    "\(b.dictionary[Int(b.vehicles[i])]) \(b.times[i]) \(b.dictionary[Int(b.columns[0].ids[i])]) \(b.columns[1].ints[i])"
                }
            }
        }
        #expect(rows(plain) == rows(streamed))
    }
}
