import Foundation
import Logging
import Synchronization
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// Collects log messages (to check that deletions and pauses are logged).
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "test") { _ in CaptureHandler(capture: self) }
    }

    struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let meta = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(meta)") }
        }
    }
}

@Suite struct RetentionTests {
    @Test func ageRetentionHidesAtOnceThenDrops() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 12, rowsPerCommit: 400, days: 3)
        let allDet = try scanDetections(w.snapshot())
        let allStatus = try scanStatus(w.snapshot())
        let now = july1 + 3 * dayMicros
        var policy = RetentionPolicy()
        policy.maxAge = [Measurement.detections.id: 36 * hourMicros]
        let cut = now - 36 * hourMicros  // the middle of day 2
        let log = LogCapture()
        let r = RetentionEnforcer(policy: policy, logger: log.logger(), clock: StoreClock.Manual(wallMicros: now).clock)
        let day1Files = w.manifest.segments.filter { $0.measurementID == Measurement.detections.id && $0.partitionStart == july1 }.map(\.name)
        #expect(!day1Files.isEmpty)

        let actions = try r.enforceAge(w)
        // Hidden at once, by the watermark.
        #expect(w.manifest.watermarks[Measurement.detections.id] == cut)
        #expect(try scanDetections(w.snapshot()) == allDet.filter { $0.time >= cut })
        #expect(try scanDetections(Snapshot.open(path: dir.path, options: smallOptions())) == allDet.filter { $0.time >= cut })
        // Only what the policy names: status keeps every row.
        #expect(try scanStatus(w.snapshot()) == allStatus)
        // Day 1 lies wholly below the watermark: its segments are deleted, and logged; after
        // the grace period for readers of the previous commit.
        let kept = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments"))
        #expect(day1Files.allSatisfy { kept.contains($0) })
        w.removeObsoleteFiles(all: true)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments"))
        #expect(day1Files.allSatisfy { !files.contains($0) })
        #expect(actions.contains { $0.kind == .dropPartition && $0.partition == StoreLayout.partitionLabel(july1) })
        #expect(log.all.contains { $0.contains("deleted partition") && $0.contains("detections=36h") })
        #expect(log.all.contains { $0.contains("rows expired") })
        // Day 2 still holds expired rows physically until compaction rewrites it.
        let day2 = w.manifest.segments.filter { $0.measurementID == Measurement.detections.id && $0.partitionStart == july1 + dayMicros }
        #expect(day2.contains { $0.minTime < cut })
        var o = compactOptions(now: now)
        o.mergeLedgers = false
        let out = try w.compact(o)
        let t2 = try #require(out.tasks.first { $0.task.partitionStart == july1 + dayMicros && $0.task.measurementID == Measurement.detections.id })
        #expect(t2.expiredRows > 0)
        let day2After = w.manifest.segments.filter { $0.measurementID == Measurement.detections.id && $0.partitionStart == july1 + dayMicros }
        #expect(day2After.count == 1 && day2After[0].minTime >= cut)
        #expect(try scanDetections(w.snapshot()) == allDet.filter { $0.time >= cut })
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
        // Running again an hour later moves the watermark; nothing is dropped twice.
        let again = RetentionEnforcer(policy: policy, logger: log.logger(), clock: StoreClock.Manual(wallMicros: now + hourMicros).clock)
        try again.enforceAge(w)
        #expect(try scanDetections(w.snapshot()) == allDet.filter { $0.time >= cut + hourMicros })
        w.close()
    }

    @Test func noPolicyDeletesNothing() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 3, rowsPerCommit: 100)
        let before = w.manifest
        let r = RetentionEnforcer(policy: RetentionPolicy(), logger: Logger(label: "x"), clock: StoreClock.Manual(wallMicros: .max / 2).clock)
        let rep = try r.enforce(w)
        #expect(rep.isEmpty)
        #expect(w.manifest == before)
        w.close()
    }

    /// Ingests three times the budget as live-like data (time moves forward, a processed/
    /// copy per commit); after every commit and its budget enforcement, the bytes on disk
    /// (directory walk) are within the budget, and exactly the newest rows survive.
    @Test func budgetHoldsAtEveryCommitBoundary() throws {
        let dir = TempDir()
        let store = dir.path + "/store", processed = dir.path + "/processed"
        try FileManager.default.createDirectory(atPath: processed, withIntermediateDirectories: true)
        var opts = smallOptions(partitionHours: 6)
        opts.logger.logLevel = .error
        let w = try StoreWriter(path: store, options: opts)
        let budget: UInt64 = 400_000
        var policy = RetentionPolicy()
        policy.maxBytes = budget
        policy.processedDirectory = processed
        let log = LogCapture()
        let r = RetentionEnforcer(policy: policy, logger: log.logger(), clock: StoreClock.Manual(wallMicros: july1).clock)
        var rng = SplitMix64(state: 7)
        var ingested: UInt64 = 0
        var model: [DetKey: Int64] = [:]
        var t = july1
        var commits = 0
        var trims = 0, drops = 0, fileDeletes = 0
        while ingested < 3 * budget {
            var b = RowBatch(.detections)
            for _ in 0..<600 {
                t += Int64(rng.next() % 20_000_000)
                let v = "veh\(rng.next() % 20)", type = ["cars", "signs", "trucks"][Int(rng.next() % 3)]
                let value = Int64(rng.next() % 1_000_000)
                b.append(vehicle: v, time: t, [.string(type), .int(value)])
                model[DetKey(vehicle: v, time: t, type: type)] = value
            }
            try w.append(b)
            let before = StoreUsage.bytes([store, processed])
            try w.commit()
            // The input file lands in processed/ as `tacho run` would move it.
            let copy = [UInt8](repeating: UInt8(commits % 251), count: 3000)
            _ = FileManager.default.createFile(atPath: processed + "/objects_detection_\(commits).json", contents: Data(copy))
            ingested += StoreUsage.bytes([store, processed]) - before
            commits += 1
            let rep = try r.enforceBudget(w)
            trims += rep.actions.filter { $0.kind == .trimPartition }.count
            drops += rep.actions.filter { $0.kind == .dropPartition }.count
            fileDeletes += rep.actions.filter { $0.kind == .deleteFile }.count
            #expect(rep.budgetMet)
            let onDisk = diskBytes([store, processed])
            #expect(onDisk <= budget, "commit \(commits): \(onDisk) bytes on disk, budget \(budget)")
            if onDisk > budget { break }
        }
        #expect(commits > 10)
        #expect(trims > 0)
        #expect(drops > 0)
        #expect(fileDeletes > 0)
        // Oldest first, by time: what is left is every row at or after the watermark.
        let wm = try #require(w.manifest.watermarks[Measurement.detections.id])
        let rows = try scanDetections(w.snapshot())
        let expected = model.filter { $0.key.time >= wm }.map { DetRow(vehicle: $0.key.vehicle.string, time: $0.key.time, type: $0.key.type.string, value: $0.value) }.sorted()
        #expect(rows == expected)
        #expect(rows.count > 1000)
        #expect(log.all.contains { $0.contains("deleted the oldest rows of a partition") })
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
        w.close()
    }

    /// `tacho run` checks the budget after every commit without walking processed/ each time:
    /// a running total follows the files it announces (`reserve`); a count that says "over"
    /// is walked afresh before anything is deleted, so a stale total never deletes data.
    @Test func budgetKeepsARunningTotalOfProcessed() throws {
        let dir = TempDir()
        let store = dir.path + "/store", processed = dir.path + "/processed"
        try FileManager.default.createDirectory(atPath: processed, withIntermediateDirectories: true)
        let w = try fillStore(store, commits: 4, rowsPerCommit: 200)
        defer { w.close() }
        let file = [UInt8](repeating: 7, count: 1000)
        for i in 0..<200 { _ = FileManager.default.createFile(atPath: processed + "/old-\(i)", contents: Data(file)) }
        var policy = RetentionPolicy()
        policy.processedDirectory = processed
        policy.maxBytes = StoreUsage.bytes([store, processed]) + 20 * 1000 + 50_000
        let r = RetentionEnforcer(policy: policy, logger: Logger(label: "x"))
        r.usageRewalkSeconds = 3600
        for i in 0..<20 {
            let rep = try r.enforceBudget(w, reserve: 1000)
            #expect(rep.isEmpty)
            // Files not named by the manifest (replaced files in their grace period, outputs
            // being built) are working space, not counted: as enforceBudget measures.
            #expect(rep.bytesBefore == StoreUsage.bytes([store, processed], skip: StoreUsage.unpublished(w.layout, w.manifest)), "commit \(i)")
            _ = FileManager.default.createFile(atPath: processed + "/new-\(i)", contents: Data(file))  // the move
        }
        #expect(r.outsideWalks == 1)
        // 100 KB removed behind its back: the running total is now 100 KB high. 120 KB
        // announced would put that total over the budget; the fresh walk says it fits.
        for i in 0..<100 { try FileManager.default.removeItem(atPath: processed + "/old-\(i)") }
        let rep = try r.enforceBudget(w, reserve: 120_000)
        #expect(rep.isEmpty)
        #expect(filesIn(processed).count == 120)
        #expect(r.outsideWalks == 2)
        r.forgetUsage()
        _ = try r.enforceBudget(w)
        #expect(r.outsideWalks == 3)
    }

    /// Outputs of a compaction still being built are working space: they must not make the
    /// budget delete telemetry.
    @Test func unpublishedCompactionOutputsDoNotCountAgainstTheBudget() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 10, rowsPerCommit: 300)
        let published = StoreUsage.bytes([dir.path])
        let plan = w.planCompaction(compactOptions())
        let out = try Compactor.build(plan, layout: w.layout, storeOptions: smallOptions(), options: compactOptions())
        #expect(StoreUsage.bytes([dir.path]) > published + 1000)
        var policy = RetentionPolicy()
        policy.maxBytes = published + 100
        let r = RetentionEnforcer(policy: policy, logger: Logger(label: "x"))
        let segments = w.manifest.segments
        let rep = try r.enforceBudget(w)
        #expect(rep.isEmpty)
        #expect(w.manifest.segments == segments)
        try w.applyCompaction(out)
        w.removeObsoleteFiles(all: true)  // the replaced inputs, after their grace period
        #expect(StoreUsage.bytes([dir.path]) < published)
        w.close()
    }

    @Test func freeSpaceFloorPausesIngestWithALogLine() throws {
        let dir = TempDir()
        let processed = dir.path + "/processed"
        try FileManager.default.createDirectory(atPath: processed, withIntermediateDirectories: true)
        for i in 0..<3 { _ = FileManager.default.createFile(atPath: processed + "/f\(i).json", contents: Data(count: 1000)) }
        let w = try fillStore(dir.path + "/store", commits: 2, rowsPerCommit: 100)
        let segments = w.manifest.segments
        var policy = RetentionPolicy()
        policy.minFreeBytes = 500 << 20
        policy.processedDirectory = processed
        let log = LogCapture()
        let free = Mutex<UInt64>(100 << 20)
        let r = RetentionEnforcer(policy: policy, logger: log.logger(), freeBytes: { _ in free.withLock { $0 } })
        #expect(!r.mayIngest(w.layout))
        #expect(r.ingestPaused)
        #expect(log.all.contains { $0.hasPrefix("warning ingest paused") && $0.contains("--min-free") })
        // Processed copies went first (logged); telemetry is never deleted for the floor.
        #expect(try FileManager.default.contentsOfDirectory(atPath: processed).isEmpty)
        #expect(log.all.filter { $0.contains("deleted file") }.count == 3)
        #expect(w.manifest.segments == segments)
        // One line per pause, not one per check.
        #expect(!r.mayIngest(w.layout))
        #expect(log.all.filter { $0.contains("ingest paused") }.count == 1)
        free.withLock { $0 = 600 << 20 }
        #expect(r.mayIngest(w.layout))
        #expect(log.all.contains { $0.contains("ingest resumed") })
        w.close()
    }

    @Test func parsesRetentionSpecs() throws {
        let d: (String) -> Int64? = { s in s.hasSuffix("d") ? Int64(s.dropLast()).map { $0 * dayMicros } : nil }
        let p = try RetentionPolicy.parseAges("detections=30d, status=365d", parseDuration: d)
        #expect(p == [Measurement.detections.id: 30 * dayMicros, Measurement.status.id: 365 * dayMicros])
        #expect(throws: StoreError.self) { try RetentionPolicy.parseAges("alarms=3d", parseDuration: d) }
        #expect(throws: StoreError.self) { try RetentionPolicy.parseAges("detections=soon", parseDuration: d) }
    }
}
