import Dispatch
import Logging
import Synchronization
import TachoFormat

/// Retention and compaction inside a long-running writer (`tacho run`), driven by the
/// daemon's hooks on the writer's thread:
///
/// * `afterCommit()` — after every commit: enforces the disk budget, publishes a finished
///   compaction, starts one when due.
/// * `periodic()` — about once a minute: the same, plus age retention.
/// * `mayIngest()` — before each group: the free-space floor.
///
/// A compaction is planned here (numbers reserved), built on a background thread from a
/// snapshot (readers and ingest carry on), and published here by one manifest switch: the
/// writer is held only for the plan and the switch.
public final class StoreMaintenance {
    public let writer: StoreWriter
    public let retention: RetentionEnforcer
    public var compaction: CompactionOptions
    /// Seconds between compaction runs; 0 disables scheduled compaction.
    public let compactEvery: Double
    let logger: Logger
    private let started: UInt64
    private var lastStart: UInt64?
    private var running = false
    private let slot = BuildSlot()
    private let cancelFlag = CompactionCancel()
    private let group = DispatchGroup()
    /// Results of published runs (for tests and logs).
    public private(set) var completedRuns = 0
    /// The error of the last build that failed (not cancelled), for callers to match on.
    public private(set) var lastFailure: (any Error)?
    /// Told of every run that ended (on the writer's thread): nil error and the seconds, the
    /// bytes read and the bytes written of a published run, or the error of a failed one.
    public var onRunEnded: ((_ failure: (any Error)?, _ seconds: Double, _ bytesIn: UInt64, _ bytesOut: UInt64) -> Void)?

    final class BuildSlot: Sendable {
        let state = Mutex<BuildState>(.idle)
        func withLock<R>(_ body: (inout BuildState) -> R) -> R { state.withLock { body(&$0) } }
    }

    enum BuildState: Sendable {
        case idle
        case done(CompactionOutput)
        /// The build's error, kept whole (a `StoreError`, `CompactionCancelled`, …).
        case failed(any Error)
    }

    public init(writer: StoreWriter, retention: RetentionEnforcer, compaction: CompactionOptions,
                compactEvery: Double, logger: Logger) {
        self.writer = writer
        self.retention = retention
        self.compaction = compaction
        self.compactEvery = compactEvery
        self.logger = logger
        started = writer.environment.clock.monotonicNanos()
        seenLedgers = Set(writer.manifest.ledgers)
        // A budget check follows every commit: keep processed/ and rejected/ as a running
        // total, walked again once a minute (`periodic`) and before anything is deleted.
        if retention.usageRewalkSeconds == nil { retention.usageRewalkSeconds = 120 }
    }

    public func afterCommit() throws {
        try publishFinished()
        try retention.enforceBudget(writer, reserve: incomingProcessedBytes())
        startIfDue()
    }

    /// Ledger files already accounted for: the newest at start, the ones reserved for, and
    /// merge outputs (which hold old files, not incoming ones).
    private var seenLedgers: Set<String>

    /// Bytes of the input files the last commit ingested: the daemon moves them into
    /// processed/ right after this hook, so the budget makes room for them first. Read from
    /// that commit's ledger file (names and sizes), once per commit.
    func incomingProcessedBytes() -> UInt64 {
        guard retention.policy.processedDirectory != nil, let last = writer.manifest.ledgers.last,
              seenLedgers.insert(last).inserted,
              let bytes = try? readFile(writer.layout.indexPath(last), fs: writer.fs),
              let entries = LedgerFile.decode(bytes)
        else { return 0 }
        return entries.reduce(0) { $0 + $1.size }
    }

    public func periodic() throws {
        writer.removeObsoleteFiles()
        try publishFinished()
        try retention.enforceAge(writer)
        retention.forgetUsage()  // files moved into rejected/, or removed by others, count from here
        try retention.enforceBudget(writer)
        startIfDue()
    }

    public func mayIngest() -> Bool {
        if retention.mayIngest(writer.layout) { return true }
        // Short of space: replaced files waiting out their grace period go now.
        guard writer.obsoleteFileCount > 0 else { return false }
        writer.removeObsoleteFiles(all: true)
        return retention.mayIngest(writer.layout)
    }

    /// Whether a background build is under way (not yet published).
    public var isBuilding: Bool { running }

    /// Stops a running build and waits for it; its files are deleted (a build that finished
    /// is still published).
    public func shutdown() {
        guard running else { return }
        cancelFlag.cancel()
        group.wait()
        do { try publishFinished() } catch { logger.error("compaction at shutdown: \(error)") }
    }

    /// Waits for a running build and publishes it (tests, `tacho compact`-like use).
    public func waitForBuild() throws {
        guard running else { return }
        group.wait()
        try publishFinished()
    }

    func startIfDue() {
        guard compactEvery > 0, !running, !writer.hasOpenTransaction else { return }
        let now = writer.environment.clock.monotonicNanos()
        // The first run comes soon after start (a box that restarts often still compacts),
        // then every `compactEvery` seconds.
        let interval = lastStart == nil ? min(compactEvery, 60) : compactEvery
        if Double(now - (lastStart ?? started)) / 1e9 < interval { return }
        lastStart = now
        var options = compaction
        let verdict = retention.clockTrust.judge(newestData: writer.manifest.newestTime)
        (options.now, options.clockTrusted) = (verdict.wallNow, verdict.isTrusted)
        let plan = writer.planCompaction(options)
        guard !plan.isEmpty else { return }
        let need = plan.tasks.reduce(UInt64(0)) { $0 + $1.inputBytes }
        if let floor = retention.policy.minFreeBytes, let free = retention.freeBytes(writer.layout.root), free < floor &+ need {
            logger.warning("compaction skipped: it needs up to \(need) bytes and free space would fall below the floor", metadata: [
                "free": "\(free)", "floor": "\(floor)",
            ])
            return
        }
        logger.info("compaction started", metadata: [
            "partitions": "\(plan.tasks.count)", "segments": "\(plan.tasks.reduce(0) { $0 + $1.inputs.count })",
            "bytes": "\(need)", "ledgers": "\(plan.ledgerMerge?.inputs.count ?? 0)",
        ])
        running = true
        group.enter()
        let layout = writer.layout, storeOptions = writer.options, buildOptions = options
        let slot = self.slot, cancel = cancelFlag, group = self.group
        // Its own thread: it sleeps for the rate limit, which must not hold a pool thread the
        // daemon's parsers (concurrentPerform) would wait for.
        spawnThread {
            let state: BuildState
            do {
                state = .done(try Compactor.build(plan, layout: layout, storeOptions: storeOptions, options: buildOptions, cancel: cancel))
            } catch {
                state = .failed(error)
            }
            slot.withLock { $0 = state }
            group.leave()
        }
    }

    func publishFinished() throws {
        guard running else { return }
        let state = slot.withLock { s -> BuildState in
            let v = s
            if case .idle = v { return v }
            s = .idle
            return v
        }
        switch state {
        case .idle:
            return
        case .failed(let error):
            running = false
            if error is CompactionCancelled || cancelFlag.isCancelled { return }
            lastFailure = error
            logger.error("compaction failed; the store is unchanged: \(error)")
            onRunEnded?(error, 0, 0, 0)
        case .done(let out):
            running = false
            guard !writer.hasOpenTransaction else {
                // Cannot happen from the daemon's hooks; keep the store consistent anyway.
                slot.withLock { $0 = .done(out) }
                running = true
                return
            }
            let r = try writer.applyCompaction(out)
            if let l = r.ledger { seenLedgers.insert(l.name) }
            completedRuns += 1
            let before = r.tasks.filter(\.applied).reduce(UInt64(0)) { $0 + $1.task.inputBytes }
            let after = r.tasks.filter(\.applied).reduce(UInt64(0)) { $0 + $1.outputBytes }
            logger.info("compaction finished", metadata: [
                "partitions": "\(r.tasks.filter(\.applied).count)", "bytes_before": "\(before)", "bytes_after": "\(after)",
                "seconds": "\((r.seconds * 10).rounded() / 10)", "mb_per_s": "\((r.megabytesPerSecond * 10).rounded() / 10)",
            ])
            onRunEnded?(nil, r.seconds, before, after)
        }
    }
}
