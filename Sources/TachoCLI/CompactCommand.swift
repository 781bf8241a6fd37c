import ArgumentParser
import TachoOutput
import Logging
import TachoFormat
import TachoIngest
import TachoJSON
import TachoStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Retention and compaction settings shared by `tacho run` and `tacho compact`.
struct MaintenanceOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Maximum row age per measurement, e.g. detections=30d,status=365d. Default: none (nothing expires by age).",
        valueName: "M=AGE,…"))
    var retention: String?
    @Option(help: ArgumentHelp(
        "Disk budget for the store plus processed/ and rejected/ (e.g. 2GiB). Over it, the oldest data goes first.",
        valueName: "SIZE"))
    var maxBytes: String?
    @Option(help: ArgumentHelp(
        "Free-space floor of the store's file system (e.g. 500MiB). Below it ingest pauses.", valueName: "SIZE"))
    var minFree: String?
    @Option(help: ArgumentHelp("Compaction write rate limit in MB/s; 0 = unlimited (default 16).", valueName: "MB/S"))
    var compactRate: Double?
    @Option(help: ArgumentHelp(
        "Partitions whose end is older than this are rewritten once at --cold-level (default 7d; 0 = never).", valueName: "AGE"))
    var coldAfter: String?
    @Option(help: ArgumentHelp("zstd level for cold partitions (default 19).", valueName: "N"))
    var coldLevel: Int32?
    @Option(help: ArgumentHelp(
        "When merging ledger files, forget files ingested longer ago than this (default: keep all; a file re-delivered after that is ingested again).",
        valueName: "AGE"))
    var ledgerMaxAge: String?
    @Option(help: ArgumentHelp(
        "Age retention acts only while the clock is at most this far ahead of the newest stored row (default 7d; 0 = always trust the clock). Guards against a box booting with a wrong clock.",
        valueName: "AGE"))
    var maxClockLead: String?

    /// Flags, then the config file (`[store]` keys: retention, max_bytes, min_free,
    /// compact_rate_mb_s, cold_after, cold_level, ledger_max_age, max_clock_lead; and the
    /// declared measurements' retention), then defaults.
    /// Measurement names resolve in `catalog` (the store's); before the store is open, in
    /// the catalog of the declarations alone (names checked; ids resolved again once open).
    func resolve(config: LoadedConfig, processed: String?, rejected: String?, catalog: Catalog? = nil) throws -> (RetentionPolicy, CompactionOptions) {
        let file = config.config.store
        var p = RetentionPolicy()
        p.processedDirectory = processed
        p.rejectedDirectory = rejected
        let names = try catalog ?? config.declarationCatalog()
        // A flag replaces the file's ages but not the rollups' own (a rollup the flag names
        // takes the flag's).
        let ages: String? = retention.map { flag in
            ([flag] + config.rollupRetentionParts(in: names, except: LoadedConfig.namesInRetentionSpec(flag))).joined(separator: ",")
        } ?? config.retentionSpec(in: names)
        if let ages {
            do {
                p.maxAge = try RetentionPolicy.parseAges(ages, catalog: names, parseDuration: Units.durationMicros)
            } catch {
                throw ValidationError("--retention \(ages): \(error)")
            }
        }
        if let s = maxBytes ?? file.maxBytes {
            guard let b = Units.bytes(s), b > 0 else { throw ValidationError("--max-bytes \(s): expected a size like 2GiB, 500MiB") }
            p.maxBytes = b
        }
        if let s = maxClockLead ?? file.maxClockLead {
            guard let d = Units.durationMicrosOrZero(s) else { throw ValidationError("--max-clock-lead \(s): expected a duration like 7d, or 0") }
            p.maxClockLead = d
        }
        if let s = minFree ?? file.minFree {
            guard let b = Units.bytes(s) else { throw ValidationError("--min-free \(s): expected a size like 500MiB") }
            p.minFreeBytes = b
        }
        var c = CompactionOptions()
        let rate = compactRate ?? file.compactRateMBs ?? 16
        guard rate >= 0 else { throw ValidationError("--compact-rate must be ≥ 0 (0 = unlimited)") }
        c.rateLimitBytesPerSecond = rate * 1_000_000
        if let s = coldAfter ?? file.coldAfter {
            guard let d = Units.durationMicrosOrZero(s) else { throw ValidationError("--cold-after \(s): expected a duration like 7d, or 0") }
            c.coldAfter = d == 0 ? nil : d
        }
        // A fractional level from the file is truncated (19.5 → 19), as before; a huge one is
        // out of range instead of a crash.
        if let l = try coldLevel ?? file.coldLevel.map({ d throws(ValidationError) -> Int32 in
            guard let l = Int32(exactly: d.rounded(.towardZero)) else { throw ValidationError("--cold-level \(d): zstd levels are 1…22") }
            return l
        }) {
            guard (1...22).contains(l) else { throw ValidationError("--cold-level \(l): zstd levels are 1…22") }
            c.coldLevel = l
        }
        if let s = ledgerMaxAge ?? file.ledgerMaxAge {
            guard let d = Units.durationMicros(s) else { throw ValidationError("--ledger-max-age \(s): expected a duration like 30d") }
            c.ledgerMaxAge = d
        }
        return (p, c)
    }
}

struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Apply retention and compact partitions; print the plan and the result.",
        discussion: """
            In order: age retention (--retention), compaction, then the disk budget (--max-bytes). Compaction merges each partition's segments into one (each vehicle's rows contiguous, superseded copies and expired rows dropped), rewrites cold partitions at a higher zstd level and merges the ingest ledger files. Queries keep working throughout and see the same rows before and after (apart from what retention expires).

            Nothing is deleted unless a policy names it; every deletion is logged. The budget counts processed/ and rejected/ only when they are known: --processed/--rejected, or --config (the `tacho run` config file: inbox, processed, rejected and the keys below). --dry-run takes no lock and changes nothing.

            Holds the writer lock only briefly: to apply age retention and plan (reserving the output files' numbers), to switch the manifest, and for the disk budget. The merge runs without it, so `tacho ingest` can commit meanwhile; a partition whose segments changed in between is skipped, not merged (run again), and rows ingested meanwhile win over the merged copies as they should. Exit status 75 when another writer (`tacho run`, which compacts on its own schedule, or `tacho ingest`) holds the lock at the start, or another `tacho compact` runs; --wait-lock waits instead. For the switch it waits up to 5 minutes (or --wait-lock, if longer) for the lock, else deletes its outputs.
            """
    )

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var lockWait: LockWaitOptionGroup
    @OptionGroup var maintenance: MaintenanceOptionGroup
    @Flag(help: "Print the plan only; change nothing.") var dryRun = false
    @Option(help: ArgumentHelp("processed/ directory counted in --max-bytes.", valueName: "DIR")) var processed: String?
    @Option(help: ArgumentHelp("rejected/ directory counted in --max-bytes.", valueName: "DIR")) var rejected: String?

    func run() throws {
        let logger = log.logger("tacho.compact")
        let loaded = try storeOption.loadedConfig()
        let file = loaded.config.run
        var processedDir = processed ?? file.processed
        var rejectedDir = rejected ?? file.rejected
        if let inbox = file.inbox {
            var ic = InboxConfig()
            ic.inbox = inbox
            if file.deleteProcessed != true { processedDir = processedDir ?? ic.processedDir }
            rejectedDir = rejectedDir ?? ic.rejectedDir
        }
        let storePath = storeOption.path
        var opts = StoreOptions()
        opts.logger = logger
        if let s = try lockWait.seconds() { opts.lockWaitSeconds = s }
        opts.commitParticipant = loaded.rollupParticipant()
        // Never create a store here: compacting a path that is not one is a mistake.
        let opened = try Snapshot.open(path: storePath, options: opts)
        // Retention by name: the ids of the store's catalog.
        var (policy, copts) = try maintenance.resolve(
            config: loaded, processed: processedDir, rejected: rejectedDir, catalog: opened.catalog)
        if dryRun {
            try printDryRun(storePath, policy: policy, compaction: copts, options: opts)
            return
        }
        let advice = ". `tacho run` applies retention and compacts on its own schedule (--compact-every)."
        // The writer lock is held briefly, three times: age retention and the plan (its output
        // numbers reserved and committed), the switch, the disk budget. The build runs without
        // it: `tacho ingest` can commit meanwhile (FORMAT.md §3.5 "Standalone compaction").
        var writer = try openWriter(storePath, options: opts, command: "compact", advice: advice, maintenance: true)
        defer { writer.close() }
        let enforcer = RetentionEnforcer(policy: policy, logger: logger, compaction: copts, environment: writer.environment)
        let before = try summary(writer)
        let usageBefore = StoreUsage.bytes(enforcer.budgetRoots(writer.layout))

        let age = try enforcer.enforceAge(writer)
        let verdict = enforcer.lastClockVerdict ?? enforcer.clockTrust.judge(newestData: writer.manifest.newestTime)
        (copts.now, copts.clockTrusted) = (copts.now ?? verdict.wallNow, verdict.isTrusted)
        let job: DetachedCompaction
        do {
            job = try writer.reserveDetachedCompaction(copts)
        } catch let e as StoreError where e.code == .locked {
            printError("tacho compact: \(e)")
            throw ExitCode(75)
        }
        let plan = job.plan
        print("plan:")
        if case .distrusted(_, _, let why) = verdict, !policy.maxAge.isEmpty || copts.ledgerMaxAge != nil {
            print("  retention: skipped, nothing expires by age: \(why)")
        }
        for a in age { print("  retention: \(describe(a))") }
        printPlan(plan)
        if let b = policy.maxBytes {
            print("  budget: \(usageBefore) bytes used of \(b)\(usageBefore > b ? ": the oldest data goes after compaction" : "")")
        }
        if age.isEmpty && plan.isEmpty && (policy.maxBytes.map { usageBefore <= $0 } ?? true) { print("  nothing to do") }

        var tasks: [CompactionTaskResult] = []
        var ledger: LedgerMergeResult?
        var written: UInt64 = 0
        var seconds = 0.0
        if !plan.isEmpty {
            writer.close()
            let out = try job.build(storeOptions: opts, options: copts)
            // Ingest holds the lock for its whole run: wait for it (the build is done and
            // worth publishing), at least 5 minutes or --wait-lock.
            var switchOptions = opts
            switchOptions.lockWaitSeconds = max(opts.lockWaitSeconds, 300)
            do {
                writer = try openWriter(storePath, options: switchOptions, command: "compact", advice: advice + " The compaction's outputs were deleted; the store is unchanged.", maintenance: true)
            } catch {
                job.abandon(out, fs: opts.fileSystem)
                throw error
            }
            let r = try job.publish(out, on: writer)
            (tasks, ledger, written, seconds) = (r.tasks, r.ledger, r.bytesWritten, r.seconds)
        }
        let applied = tasks.filter { $0.applied }
        let budget = try enforcer.enforceBudget(writer)
        let after = try summary(writer)

        print("result:")
        for t in tasks {
            guard t.applied else { print("  \(t.task.measurementName) \(t.task.partitionLabel): skipped (inputs changed)"); continue }
            print("  \(t.task.measurementName) \(t.task.partitionLabel): segments \(t.task.inputs.count) → \(t.output == nil ? 0 : 1), bytes \(t.task.inputBytes) → \(t.outputBytes), rows \(t.task.inputRows) → \(t.outputRows) (dropped: \(t.supersededRows) superseded [dedupe], \(t.expiredRows) expired [retention watermark])")
        }
        if let l = ledger, l.applied {
            print("  ledger: \(l.task.inputs.count) files → 1, \(l.bytesIn) → \(l.bytesOut) bytes, entries \(l.entriesIn) → \(l.entriesOut)\(l.entriesOut < l.entriesIn ? " (pruned by --ledger-max-age)" : "")")
        }
        for a in budget.actions { print("  budget: \(describe(a))") }
        if !budget.budgetMet { print("  budget: cannot be met; only metadata is left") }
        let superseded = applied.reduce(0) { $0 + $1.supersededRows }
        let expired = applied.reduce(0) { $0 + $1.expiredRows }
        let ageRows = age.filter { $0.kind == .dropPartition }.reduce(0) { $0 + $1.rows }
        let budgetRows = budget.actions.filter { $0.kind != .deleteFile }.reduce(0) { $0 + $1.rows }
        let touched = Set(applied.map { "\($0.task.measurementID)/\($0.task.partitionStart)" })
            .union(age.filter { $0.kind == .dropPartition }.map { "\($0.measurement)/\($0.partition)" })
            .union(budget.actions.filter { $0.kind != .deleteFile && $0.kind != .watermark }.map { "\($0.measurement)/\($0.partition)" })
        print("total: partitions touched \(touched.count), segments \(before.segments) → \(after.segments), segment bytes \(before.bytes) → \(after.bytes), store bytes \(usageBefore) → \(StoreUsage.bytes(enforcer.budgetRoots(writer.layout)))")
        print("rows dropped: \(superseded) superseded copies (dedupe), \(expired) expired rows rewritten away (retention watermark), \(ageRows) in partitions dropped by age, \(budgetRows) by the disk budget")
        if written > 0 {
            print("compaction wrote \(written) bytes in \(String(format2: seconds)) s (\(String(format1: Double(written) / 1e6 / max(seconds, 1e-9))) MB/s\(copts.rateLimitBytesPerSecond > 0 ? ", limit \(String(formatG: copts.rateLimitBytesPerSecond / 1e6)) MB/s" : ", no rate limit"))")
        }
    }

    private func summary(_ w: StoreWriter) throws -> (segments: Int, bytes: UInt64) {
        (w.manifest.segments.count, w.manifest.segments.reduce(0) { $0 + $1.fileSize })
    }

    private func printPlan(_ plan: CompactionPlan) {
        for t in plan.tasks {
            print("  compact \(t.measurementName) \(t.partitionLabel): \(t.inputs.count) segments, \(t.inputBytes) bytes, \(t.inputRows) stored rows → 1 segment at zstd \(t.zstdLevel) (\(t.reasons.joined(separator: ", ")))")
        }
        if let l = plan.ledgerMerge {
            print("  merge \(l.inputs.count) ledger files into one\(l.pruneBefore != nil ? ", forgetting entries older than --ledger-max-age" : "")")
        }
    }

    private func printDryRun(_ path: String, policy: RetentionPolicy, compaction: CompactionOptions, options: StoreOptions) throws {
        let snap = try Snapshot.open(path: path, options: options)
        let verdict = ClockTrust(maxLead: policy.maxClockLead).judge(newestData: snap.manifest.newestTime)
        var compaction = compaction
        (compaction.now, compaction.clockTrusted) = (compaction.now ?? verdict.wallNow, verdict.isTrusted)
        var afterAge = snap.manifest, age: [RetentionAction] = []
        if case .trusted(let now) = verdict { (afterAge, age) = RetentionEnforcer.agePlan(snap.manifest, catalog: snap.catalog, policy: policy, now: now) }
        let layout = snap.layout
        let plan = CompactionPlanner.plan(afterAge, catalog: snap.catalog, options: compaction, defaultLevel: options.segment.zstdLevel) { s in
            options.fileSystem.mtimeMicros(layout.segmentPath(s.name))  // as the writer's planner: the dry run plans what compact would
        }
        print("plan (dry run, nothing changed):")
        if case .distrusted(_, _, let why) = verdict, !policy.maxAge.isEmpty || compaction.ledgerMaxAge != nil {
            print("  retention: would skip, nothing expires by age: \(why)")
        }
        for a in age { print("  retention: \(describe(a))") }
        printPlan(plan)
        if let b = policy.maxBytes {
            let enforcer = RetentionEnforcer(policy: policy, logger: options.logger)
            let used = StoreUsage.bytes(enforcer.budgetRoots(layout))
            if used > b {
                print("  budget: \(used) bytes used of \(b): would free \(used - (b - b / 20)) bytes — processed/ and rejected/ files oldest first, then the oldest store rows (exact cut decided after compaction)")
            } else {
                print("  budget: \(used) bytes used of \(b): within budget (before compaction)")
            }
        }
        if age.isEmpty && plan.isEmpty { print("  nothing to do") }
        let segs = afterAge.segments.count
        let result = segs - plan.tasks.reduce(0) { $0 + $1.inputs.count - 1 }
        print("total: partitions \(plan.tasks.count) to compact, segments \(snap.manifest.segments.count) → \(result) (before any budget trim)")
    }

    private func describe(_ a: RetentionAction) -> String {
        switch a.kind {
        case .watermark: "\(a.measurement): rows before \(Timestamp.format(a.time)) expire now (\(a.policy))"
        case .dropPartition: "drop \(a.measurement) partition \(a.partition): \(a.rows) stored rows, \(a.bytes) bytes (\(a.policy))"
        case .trimPartition: "trim \(a.measurement) partition \(a.partition): rows before \(Timestamp.format(a.time)) deleted (\(a.rows) stored rows), \(a.bytes) bytes freed (\(a.policy))"
        case .deleteFile: "delete \(escapedForLog(a.path)): \(a.bytes) bytes (\(a.policy))"
        case .keptUnshipped: "keep \(a.measurement) partition \(a.partition) until it is shipped (\(a.policy))"
        }
    }
}
