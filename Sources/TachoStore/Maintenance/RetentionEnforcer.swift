import Logging
import TachoFormat

/// Applies a `RetentionPolicy` to the store of one writer, on the writer's thread, between
/// transactions (the daemon's `afterCommit`, `periodic` and `mayIngest` hooks, `tacho compact`).
/// Every deletion is logged at notice level with the policy that caused it.
public final class RetentionEnforcer {
    public let policy: RetentionPolicy
    /// The clock and whether to believe it (StoreClock.swift): age retention acts only on a
    /// trusted clock.
    public let clockTrust: ClockTrust
    /// The last verdict on the clock (nil before the first age round); `tacho compact` prints it.
    public private(set) var lastClockVerdict: ClockTrust.Verdict?
    /// Free bytes on the file system holding a path. Tests fake it.
    public var freeBytes: (String) -> UInt64?
    /// Files and clocks (the writer's, `StoreWriter.environment`).
    public let environment: StoreEnvironment
    var fs: any StoreFileSystem { environment.files }
    /// Levels for budget trims (cold partitions are rewritten at the cold level).
    public var compaction: CompactionOptions
    let logger: Logger
    public private(set) var ingestPaused = false
    /// Keep a running total of processed/ and rejected/ instead of walking them at every
    /// budget check (`tacho run` sets it: a walk per commit grows with processed/). The total
    /// is walked afresh when older than this many seconds, at `forgetUsage()`, and before
    /// the budget deletes anything (a stale count never causes a deletion); between walks it
    /// follows what this enforcer deletes and the `reserve` bytes announced as arriving.
    /// Nil (default): walk every time.
    public var usageRewalkSeconds: Double?
    /// How often processed/ and rejected/ were walked (tests, diagnostics).
    public private(set) var outsideWalks = 0
    /// Whether a partition's current content (measurement, partition start, newest segment
    /// seq) is shipped to the fleet lake. When set (`tacho run --ship-to … --ship-keep`), age
    /// retention hides and deletes no partition before it is shipped; the disk budget still
    /// deletes what it must, and logs each unshipped partition it deletes at error level.
    public var shipped: ((_ measurement: String, _ partitionStart: Int64, _ seq: UInt64) -> Bool)?
    private var outside: (bytes: UInt64, walkedAt: UInt64)?
    /// Partitions already logged as kept until shipped (logged once each).
    private var keptLogged: Set<String> = []

    /// `clock` replaces `environment.clock` (a test's manual clock).
    public init(policy: RetentionPolicy, logger: Logger, compaction: CompactionOptions = CompactionOptions(),
                environment: StoreEnvironment = .system, clock: StoreClock? = nil, freeBytes: ((String) -> UInt64?)? = nil) {
        self.policy = policy
        self.logger = logger
        self.compaction = compaction
        var env = environment
        if let clock { env.clock = clock }
        self.environment = env
        clockTrust = ClockTrust(clock: env.clock, maxLead: policy.maxClockLead)
        let files = env.files
        self.freeBytes = freeBytes ?? { files.freeBytes($0) }
    }

    /// Directories whose bytes count against the budget.
    public func budgetRoots(_ layout: StoreLayout) -> [String] {
        [layout.root] + outsideRoots
    }

    private var outsideRoots: [String] { [policy.processedDirectory, policy.rejectedDirectory].compactMap { $0 } }

    /// Bytes in processed/ and rejected/: the running total, or a fresh walk when `fresh`,
    /// when there is none, or when it is older than `usageRewalkSeconds`.
    func outsideBytes(fresh: Bool = false) -> UInt64 {
        let roots = outsideRoots
        guard !roots.isEmpty else { return 0 }
        let now = environment.clock.monotonicNanos()
        if !fresh, let every = usageRewalkSeconds, let o = outside, Double(now &- o.walkedAt) / 1e9 < every { return o.bytes }
        let b = StoreUsage.bytes(roots, fs: fs)
        outside = (b, now)
        outsideWalks += 1
        return b
    }

    /// Whether the next budget check may use the running total without walking.
    var outsideIsCached: Bool {
        guard let every = usageRewalkSeconds, let o = outside else { return false }
        return environment.clock.seconds(since: o.walkedAt) < every
    }

    private func outsideChanged(by delta: Int64) {
        guard let o = outside else { return }
        outside = (delta < 0 ? o.bytes - min(o.bytes, UInt64(-delta)) : o.bytes &+ UInt64(delta), o.walkedAt)
    }

    /// Drops the running total: the next check walks processed/ and rejected/ again
    /// (`tacho run` calls it once a minute; files moved into rejected/ are counted from then).
    public func forgetUsage() { outside = nil }

    /// Age, then budget. REQUIRES: no open transaction.
    @discardableResult
    public func enforce(_ w: StoreWriter) throws -> RetentionReport {
        var r = RetentionReport()
        r.actions = try enforceAge(w)
        let b = try enforceBudget(w)
        r.actions += b.actions
        (r.bytesBefore, r.bytesAfter, r.budgetMet) = (b.bytesBefore, b.bytesAfter, b.budgetMet)
        return r
    }

    // MARK: Age

    /// The manifest after age retention, and what it hides and drops: watermarks rise to
    /// `now − age` (only when that hides something), and segments whose rows are all below
    /// the watermark go. Pure (for `--dry-run`).
    public static func agePlan(
        _ manifest: Manifest, catalog: Catalog = .builtIn, policy: RetentionPolicy, now: Int64,
        shipped: ((String, Int64, UInt64) -> Bool)? = nil
    ) -> (next: Manifest, actions: [RetentionAction]) {
        var next = manifest
        var actions: [RetentionAction] = []
        for (mid, age) in policy.maxAge.sorted(by: { $0.key < $1.key }) {
            var (w, o) = now.subtractingReportingOverflow(age)
            guard !o, w > (next.watermarks[mid] ?? .min) else { continue }
            guard manifest.segments.contains(where: { $0.measurementID == mid && $0.minTime < w }) else { continue }
            let name = catalog.name(of: mid)
            let label = "age \(policy.describeAge(mid, catalog: catalog))"
            // Keep until shipped: the watermark stops at the first partition it would reach
            // that is not shipped (watermarks only rise, so every later partition stays too).
            if let shipped {
                let touched = Dictionary(grouping: manifest.segments.filter { $0.measurementID == mid && $0.minTime < w }, by: \.partitionStart)
                for (start, segs) in touched.sorted(by: { $0.key < $1.key }) where !shipped(name, start, segs.map(\.seq).max() ?? 0) {
                    w = max(start, next.watermarks[mid] ?? .min)
                    actions.append(RetentionAction(
                        kind: .keptUnshipped, policy: label, measurement: name, partition: StoreLayout.partitionLabel(start), time: start))
                    break
                }
                guard w > (next.watermarks[mid] ?? .min),
                      manifest.segments.contains(where: { $0.measurementID == mid && $0.minTime < w })
                else { continue }
            }
            next.watermarks[mid] = w
            actions.append(RetentionAction(kind: .watermark, policy: label, measurement: name, time: w))
            let dead = next.segments.filter { $0.measurementID == mid && $0.maxTime < w }
            for (start, segs) in Dictionary(grouping: dead, by: \.partitionStart).sorted(by: { $0.key < $1.key }) {
                actions.append(RetentionAction(
                    kind: .dropPartition, policy: label, measurement: name, partition: StoreLayout.partitionLabel(start),
                    rows: segs.reduce(0) { $0 + $1.rowCount }, bytes: segs.reduce(0) { $0 + $1.fileSize }))
            }
            let deadNames = Set(dead.map(\.name))
            next.segments.removeAll { deadNames.contains($0.name) }
        }
        return (next, actions)
    }

    @discardableResult
    public func enforceAge(_ w: StoreWriter) throws -> [RetentionAction] {
        guard !policy.maxAge.isEmpty else { return [] }
        let verdict = clockTrust.judge(newestData: w.manifest.newestTime)
        defer { lastClockVerdict = verdict }
        guard case .trusted(let now) = verdict else {
            if lastClockVerdict?.isTrusted != false, case .distrusted(let wall, _, let why) = verdict {
                logger.warning("age retention paused: \(why)", metadata: [
                    "clock": "\(wall)", "newest_row": "\(w.manifest.newestTime.map { "\($0)" } ?? "none")",
                ])
            }
            return []
        }
        if lastClockVerdict?.isTrusted == false { logger.notice("age retention resumed: the clock is trusted again") }
        let (next, actions) = Self.agePlan(w.manifest, catalog: w.catalog, policy: policy, now: now, shipped: shipped)
        guard next != w.manifest else {
            for a in actions where a.kind == .keptUnshipped && keptLogged.insert("\(a.measurement)/\(a.partition)").inserted { log(a) }
            return actions.filter { $0.kind == .keptUnshipped }
        }
        try w.switchManifest(next)
        for a in actions { log(a) }
        return actions
    }

    // MARK: Budget

    /// `reserve`: bytes about to arrive that the budget must already make room for (the
    /// daemon moves a commit's input files into processed/ right after this runs).
    @discardableResult
    public func enforceBudget(_ w: StoreWriter, reserve: UInt64 = 0) throws -> RetentionReport {
        var report = RetentionReport()
        guard let maxBytes = policy.maxBytes else { return report }
        let incoming = reserve
        let reserve = min(reserve, maxBytes / 2)
        // The store itself is walked each time (compaction keeps it to a few files per
        // partition); processed/ and rejected/, which grow with every file, may come from the
        // running total.
        func usage(fresh: Bool = false) -> UInt64 {
            StoreUsage.bytes([w.layout.root], skip: StoreUsage.unpublished(w.layout, w.manifest, fs: fs), fs: fs) + outsideBytes(fresh: fresh) + reserve
        }
        var used = usage()
        // Nothing is deleted on a running total: walk first.
        if used > maxBytes && outsideIsCached { used = usage(fresh: true) }
        report.bytesBefore = used - reserve
        defer {
            report.bytesAfter = used - reserve
            if policy.processedDirectory != nil { outsideChanged(by: Int64(clamping: incoming)) }  // about to land in processed/
        }
        guard used > maxBytes else { return report }
        // Replaced files waiting out their grace period hold disk space: it is needed now.
        // (They are not counted in `used`, so the drops below are sized right either way.)
        w.removeObsoleteFiles(all: true)
        let target = maxBytes - maxBytes / 20
        logger.notice("over the disk budget; freeing the oldest data", metadata: [
            "used": "\(used)", "budget": "\(maxBytes)", "target": "\(target)",
        ])
        let budgetLabel = "disk budget \(formatBytes(maxBytes))"
        // 1. processed/: copies of rows the store already holds, oldest first.
        if let dir = policy.processedDirectory, used > target {
            used = deleteOldest(in: dir, while: { used > target }, used: used,
                                label: "\(budgetLabel): processed/ oldest first", report: &report)
            used = usage()
        }
        // 2. Store rows, oldest partition first (whole, or trimmed by time).
        var rounds = 0
        while used > target && rounds < 100_000 {
            rounds += 1
            guard let unit = oldestUnit(w.manifest, catalog: w.catalog) else { break }
            let unitBytes = unit.segments.reduce(UInt64(0)) { $0 + $1.fileSize }
            let need = used - target
            var trimmed = false
            if unitBytes > need {
                trimmed = try trim(w, unit, need: need, unitBytes: unitBytes, label: budgetLabel, report: &report)
            }
            if !trimmed { try drop(w, unit, label: budgetLabel, report: &report) }
            used = usage()
        }
        // 3. rejected/ last: a rejected input is the only copy of its data. Each deletion is
        //    logged at warning level with the file's name.
        if let dir = policy.rejectedDirectory, used > target {
            logger.warning("disk budget: no store rows left to delete; deleting rejected/ files, the only copy of their data", metadata: [
                "used": "\(used)", "budget": "\(maxBytes)", "dir": "\(dir)",
            ])
            used = deleteOldest(in: dir, while: { used > target }, used: used,
                                label: "\(budgetLabel): rejected/ oldest first, after every store row", warn: true,
                                report: &report)
            used = usage()
        }
        report.budgetMet = used <= maxBytes
        if !report.budgetMet {
            logger.warning("disk budget cannot be met: no rows or files left to delete", metadata: [
                "used": "\(used)", "budget": "\(maxBytes)",
            ])
        }
        return report
    }

    /// Deletes regular files in `dir`, oldest first, while `more()`; logs each. Returns `used`
    /// less what was deleted.
    private func deleteOldest(in dir: String, while more: () -> Bool, used: UInt64, label: String, warn: Bool = false,
                              report: inout RetentionReport) -> UInt64 {
        var used = used
        for f in StoreUsage.filesOldestFirst(dir, fs: fs) {
            guard more() else { break }
            guard (try? fs.unlink(f.path)) != nil else { continue }  // a missing file is not an error
            used -= min(used, f.size)
            outsideChanged(by: -Int64(clamping: f.size))
            let a = RetentionAction(kind: .deleteFile, policy: label, path: f.path, bytes: f.size)
            report.actions.append(a)
            if warn {
                logger.warning("retention: deleted rejected file", metadata: ["file": "\(f.path)", "bytes": "\(f.size)", "policy": "\(label)"])
            } else {
                log(a)
            }
            if !more() { break }
        }
        return used
    }

    struct Unit {
        var measurementID: UInt8
        var partitionStart: Int64
        var segments: [SegmentMeta]
        var name: String
    }

    /// The oldest (partition, measurement) with segments, ordered by (age, measurement id). A
    /// partition of the store's width is as old as its start. A wider one (a measurement with
    /// a width of its own, FORMAT.md §3.3) is as old as the start of the store-width partition
    /// its oldest unexpired row falls in: its own start may lie months before its rows, and
    /// would make the budget take it before older rows of other measurements.
    func oldestUnit(_ m: Manifest, catalog: Catalog) -> Unit? {
        var groups: [CompactionPlanner.PartitionID: [SegmentMeta]] = [:]
        for s in m.segments { groups[CompactionPlanner.PartitionID(s.measurementID, s.partitionStart), default: []].append(s) }
        func age(_ key: CompactionPlanner.PartitionID, _ segs: [SegmentMeta]) -> Int64 {
            guard m.partitionWidth(of: key.mid, in: catalog) != m.partitionWidth,
                  let lo = segs.map(\.minTime).min(), let hi = segs.map(\.maxTime).max()
            else { return key.start }
            let oldest = min(max(lo, m.watermarks[key.mid] ?? .min), hi)
            return max(key.start, m.partitionStart(of: oldest))
        }
        guard let first = groups.min(by: { (age($0.key, $0.value), $0.key.mid) < (age($1.key, $1.value), $1.key.mid) }) else {
            return nil
        }
        return Unit(measurementID: first.key.mid, partitionStart: first.key.start, segments: first.value.sorted { $0.seq < $1.seq },
                    name: catalog.name(of: first.key.mid))
    }

    /// Deletes a whole partition. The watermark rises to its end: every older row of the
    /// measurement is gone, and the latest-status index must not name them.
    func drop(_ w: StoreWriter, _ u: Unit, label: String, report: inout RetentionReport) throws {
        var next = w.manifest
        let names = Set(u.segments.map(\.name))
        next.segments.removeAll { names.contains($0.name) }
        let end = next.partitionEnd(of: u.partitionStart, id: u.measurementID, in: w.catalog)
        if end > (next.watermarks[u.measurementID] ?? .min) { next.watermarks[u.measurementID] = end }
        try w.switchManifest(next, urgent: true)  // freeing space is the point: no grace
        var a = RetentionAction(
            kind: .dropPartition, policy: label, measurement: u.name, partition: StoreLayout.partitionLabel(u.partitionStart),
            time: end, rows: u.segments.reduce(0) { $0 + $1.rowCount }, bytes: u.segments.reduce(0) { $0 + $1.fileSize })
        a.unshipped = isUnshipped(u)
        report.actions.append(a)
        log(a)
    }

    /// Deletes the oldest rows of a partition, about `need` bytes' worth: the watermark rises
    /// to a cut time estimated from the chunks' sizes and times, and the partition is
    /// rewritten without the rows below it (one manifest switch does both). Returns false
    /// when the cut would take the whole partition (drop it instead).
    func trim(_ w: StoreWriter, _ u: Unit, need: UInt64, unitBytes: UInt64, label: String,
              report: inout RetentionReport) throws -> Bool {
        var view = w.manifest
        view.segments = u.segments
        let snap = try Snapshot(layout: w.layout, manifest: view, fs: w.fs, logger: logger)
        var chunks: [(lo: Int64, hi: Int64, bytes: Double)] = []
        var total = 0.0
        for s in u.segments {
            for v in try snap.footer(s).vehicles {
                for c in v.chunks {
                    let b = Double(c.blocks.reduce(0) { $0 + Int($1.length) + FormatConstants.blockTrailerSize })
                    chunks.append((c.minTime, c.maxTime, b))
                    total += b
                }
            }
        }
        let watermark = w.manifest.watermarks[u.measurementID] ?? .min
        let lo = max(u.partitionStart, watermark)
        guard let maxTime = u.segments.map(\.maxTime).max(), maxTime > lo, total > 0 else { return false }
        let goal = total * Double(need) / Double(unitBytes)
        func below(_ t: Int64) -> Double {
            var sum = 0.0
            for c in chunks where c.lo < t {
                if c.hi < t { sum += c.bytes } else { sum += c.bytes * Double(t - c.lo) / Double(c.hi - c.lo + 1) }
            }
            return sum
        }
        // Smallest cut with enough bytes below it.
        var a = lo, b = maxTime
        while a < b {
            let mid = a + (b - a) / 2
            if below(mid) >= goal { b = mid } else { a = mid + 1 }
        }
        let cut = a
        guard cut > lo, cut <= maxTime else { return false }
        let end = w.manifest.partitionEnd(of: u.partitionStart, id: u.measurementID, in: w.catalog)
        var level = w.options.segment.zstdLevel
        if let after = compaction.coldAfter, end &+ after <= clockTrust.clock.wallMicros() { level = max(level, compaction.coldLevel) }
        let task = CompactionTask(
            measurementID: u.measurementID, partitionStart: u.partitionStart, inputs: u.segments, zstdLevel: level,
            cutoff: cut, reasons: ["\(label): trim"], name: u.name)
        var plan = CompactionPlan(base: w.manifest, tasks: [task], ledgerMerge: nil)
        w.reserveNumbers(&plan)
        var unlimited = compaction
        unlimited.rateLimitBytesPerSecond = 0  // freeing space is urgent
        let out = try Compactor.build(plan, layout: w.layout, storeOptions: w.options, options: unlimited)
        let applied = try w.applyCompaction(out, watermarks: [u.measurementID: cut], urgent: true)
        guard applied.tasks.first?.applied == true else { return false }
        let freed = unitBytes > (applied.tasks.first?.outputBytes ?? 0) ? unitBytes - (applied.tasks.first?.outputBytes ?? 0) : 0
        var a2 = RetentionAction(
            kind: .trimPartition, policy: label, measurement: u.name, partition: StoreLayout.partitionLabel(u.partitionStart),
            time: cut, rows: applied.tasks.first?.expiredRows ?? 0, bytes: freed)
        a2.unshipped = isUnshipped(u)
        report.actions.append(a2)
        log(a2)
        return true
    }

    // MARK: Free-space floor

    /// False while free space is below the floor: ingest waits (files stay in the inbox).
    /// Before pausing, deletes processed/ copies oldest first. Logs each change of state.
    public func mayIngest(_ layout: StoreLayout) -> Bool {
        guard let floor = policy.minFreeBytes, var free = freeBytes(layout.root) else { return true }
        // Only files on the store's own file system free space there; processed/ elsewhere is
        // left alone (it is the documented restore source, and deleting it frees nothing here).
        if free < floor, let dir = policy.processedDirectory, fs.sameFileSystem(dir, layout.root) {
            for f in StoreUsage.filesOldestFirst(dir, fs: fs) {
                guard free < floor else { break }
                guard fs.status(f.path, followingLinks: false) != nil, (try? fs.unlink(f.path)) != nil else { continue }
                outsideChanged(by: -Int64(clamping: f.size))
                log(RetentionAction(kind: .deleteFile, policy: "free-space floor \(formatBytes(floor)): processed/ oldest first",
                                    path: f.path, bytes: f.size))
                free += f.size
            }
            free = min(free, freeBytes(layout.root) ?? free)
        }
        if free >= floor {
            if ingestPaused {
                logger.notice("ingest resumed: free space is back above the floor", metadata: [
                    "free": "\(free)", "floor": "\(floor)",
                ])
            }
            ingestPaused = false
            return true
        }
        if !ingestPaused {
            logger.warning(
                "ingest paused: \(formatBytes(free)) free on the store's file system, below the --min-free floor of \(formatBytes(floor)); files wait in the inbox until space is freed",
                metadata: ["free": "\(free)", "floor": "\(floor)", "store": "\(layout.root)"])
        }
        ingestPaused = true
        return false
    }

    /// The partition is not shipped, while shipping is watched (`shipped` set).
    func isUnshipped(_ u: Unit) -> Bool {
        guard let shipped else { return false }
        return !shipped(u.name, u.partitionStart, u.segments.map(\.seq).max() ?? 0)
    }

    func log(_ a: RetentionAction) {
        var meta: Logger.Metadata = ["policy": "\(a.policy)"]
        if a.unshipped {
            meta["measurement"] = "\(a.measurement)"
            meta["partition"] = "\(a.partition)"
            meta["rows"] = "\(a.rows)"
            logger.error("retention: the disk budget deletes rows that were never shipped to the lake", metadata: meta)
            return
        }
        if !a.measurement.isEmpty { meta["measurement"] = "\(a.measurement)" }
        if !a.partition.isEmpty { meta["partition"] = "\(a.partition)" }
        if !a.path.isEmpty { meta["file"] = "\(a.path)" }
        switch a.kind {
        case .watermark:
            meta["before"] = "\(a.time)"
            logger.notice("retention: rows expired (hidden now, deleted when their partition is dropped or compacted)", metadata: meta)
        case .dropPartition:
            meta["rows"] = "\(a.rows)"
            meta["bytes"] = "\(a.bytes)"
            logger.notice("retention: deleted partition", metadata: meta)
        case .trimPartition:
            meta["before"] = "\(a.time)"
            meta["rows"] = "\(a.rows)"
            meta["bytes_freed"] = "\(a.bytes)"
            logger.notice("retention: deleted the oldest rows of a partition", metadata: meta)
        case .deleteFile:
            meta["bytes"] = "\(a.bytes)"
            logger.notice("retention: deleted file", metadata: meta)
        case .keptUnshipped:
            logger.notice("retention: kept a partition past its age until it is shipped", metadata: meta)
        }
    }
}
