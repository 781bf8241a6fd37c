import Dispatch
import Logging
import Synchronization
import TachoJSON
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// Settings of `tacho run`. Every default is what an edge box wants without configuration.
public struct InboxConfig: Sendable {
    /// Directory watched for telemetry files. Default `./inbox`.
    public var inbox = "./inbox"
    /// Where ingested files go. Default `<inbox>/../processed`.
    public var processed: String?
    /// Delete ingested files instead of moving them. Default off.
    public var deleteProcessed = false
    /// Where unparseable files and reject reports go. Default `<inbox>/../rejected`.
    public var rejected: String?
    /// Lenient JSON (SEMANTICS §1). Default off.
    public var lenient = false
    /// The layouts files are read by (the declared measurements, `RecordLayout.layouts`).
    /// Default detections and status.
    public var layouts: [RecordLayout] = ReaderOptions().layouts
    /// How `*.lp` files are read. Lines of undeclared measurements create them unless
    /// `autoCreate` is off (`InboxDaemon.readerCreatingMeasurements`).
    public var lineProtocol = LineInputOptions()
    /// Poll the directory instead of inotify (also used automatically without inotify).
    public var poll = false
    /// Seconds a file's size and mtime must stay unchanged before a polled (or already
    /// present) file is taken. Default 2.
    public var settleSeconds = 2.0
    /// Files in processed/ older than this are deleted (seconds). Default 7 days; 0 keeps them.
    public var processedMaxAgeSeconds: Double = 7 * 86_400
    /// Most files and input bytes parsed in parallel and published by one commit; larger
    /// files are streamed alone (bounded memory). Defaults 64 files, 16 MiB; above 32 MiB streamed.
    public var grouping = CommitGrouping()
    /// Parser threads. Default: the number of online CPUs.
    public var parseThreads = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Commit groups of a backlog parsed and sealed ahead of the one being committed, at
    /// most (as `Ingestor.parseAhead`). Bounds memory: each holds up to `grouping.maxBytes`
    /// of input parsed into rows until it is sealed. Default 2.
    public var parseAhead = 2
    /// Seconds between throughput log lines. Default 10.
    public var statsEverySeconds = 10.0
    /// Wake-ups from a producer in this process (the HTTP front of `tacho run --listen`):
    /// the files it publishes are taken at once, without polling or settling. Default nil.
    public var wakeup: InboxWakeup?

    public init() {}

    public var processedDir: String { processed ?? parent(inbox) + "/processed" }
    public var rejectedDir: String { rejected ?? parent(inbox) + "/rejected" }

    /// Refuses settings that would loop or lose files: processed/ or rejected/ equal to the
    /// inbox or inside it (every moved file would be taken again: `x.1.1.1…`, or the daemon
    /// would parse its own `.error` reports), processed/ equal to rejected/ (the processed/
    /// clean-up would delete rejected inputs), and any of them inside the store or the store
    /// inside one of them. Paths are compared after resolving symlinks; all must exist.
    public func checkDirectories(store: String, fs: any StoreFileSystem = PosixFileSystem()) throws {
        func real(_ p: String) -> String { fs.resolvedPath(p) ?? p }
        func within(_ a: String, _ b: String) -> Bool { a == b || a.hasPrefix(b == "/" ? "/" : b + "/") }
        let inbox = real(inbox), store = real(store), rejected = real(rejectedDir)
        var named: [(String, String)] = [("rejected", rejected)]
        if !deleteProcessed { named.append(("processed", real(processedDir))) }
        for (what, dir) in named where within(dir, inbox) {
            throw InboxConfigError(message: "the \(what) directory \(dir) is \(dir == inbox ? "the inbox itself" : "inside the inbox \(inbox)"): every file moved there would be taken again. Choose a directory outside the inbox (the default is \(what)/ beside it)")
        }
        if !deleteProcessed, real(processedDir) == rejected {
            throw InboxConfigError(message: "processed and rejected are the same directory \(rejected): the clean-up of old processed files would delete rejected inputs. Give them separate directories")
        }
        for (what, dir) in named + [("inbox", inbox)] where within(dir, store) || within(store, dir) {
            throw InboxConfigError(message: "the \(what) directory \(dir) and the store \(store) overlap: keep the store's directory for the store alone")
        }
    }

    private func parent(_ p: String) -> String {
        var s = p
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        guard let slash = s.lastIndex(of: "/") else { return "." }
        return slash == s.startIndex ? "/" : String(s[..<slash])
    }
}

/// Settings of `tacho run` that cannot work together, refused at start.
public struct InboxConfigError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// A stop request from a signal handler (or a test).
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func stop() { flag.store(true, ordering: .relaxed) }
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}

struct Cancelled: Error {}

/// `tacho run`: takes ready files from the inbox, parses and seals them on all cores (ahead of
/// the writer when there is a backlog), publishes them through the one writer in group
/// commits (each file all-or-nothing), then moves them out of the inbox. The inbox is the
/// log: a file leaves it only after its rows are durable.
public final class InboxDaemon {
    public let config: InboxConfig
    let writer: StoreWriter
    let logger: Logger
    /// Reader settings; `reader` adds the store's current retention watermarks.
    let readerOptions: ReaderOptions
    let watcher: InboxWatcher
    let claims: InboxClaims
    /// The grouping in force: `config.grouping`, halved after a failed commit (a disk too full
    /// for a 64-file commit may still take smaller ones) and doubled back after each success.
    var grouping: CommitGrouping
    /// Claimed files that ended early: retried when they change, rejected after the grace.
    var truncated: [String: (until: UInt64, size: UInt64, mtime: Int64)] = [:]
    let mover: FileMover
    /// The writer's clock (`StoreWriter.environment`): waits, settle and clean-up times.
    var clock: StoreClock { writer.environment.clock }
    let rejects: RejectFiles
    /// Runs after every commit (retention's disk budget, …). Errors are logged.
    public var afterCommit: (() throws -> Void)?
    /// Runs about once a minute while idle or between groups (scheduled compaction, …).
    public var periodic: (() throws -> Void)?
    /// Whether the wall clock may be acted on (StoreClock.swift): the clean-up of old
    /// processed/ files deletes by age, so a clock years ahead must not empty the restore source.
    public var clockTrust: ClockTrust
    /// Returns false to pause ingest (the free-space floor); checked before each batch of
    /// ready files.
    public var mayIngest: (() -> Bool)?
    /// Called on every pass of the loop and between commit groups (the systemd watchdog):
    /// a loop that hangs stops calling it.
    public var heartbeat: (() -> Void)?

    /// The totals, for any thread (`IngestCounters.snapshot()`).
    public let counters: IngestCounters
    public internal(set) var filesIngested = 0
    public internal(set) var rowsIngested = 0
    var windowRows = 0
    private var windowStart: UInt64
    var lastCleanup: UInt64 = 0
    private var lastPeriodic: UInt64

    public init(config: InboxConfig, writer: StoreWriter, logger: Logger, counters: IngestCounters = IngestCounters()) throws {
        self.config = config
        self.counters = counters
        self.writer = writer
        self.logger = logger
        var readerOptions = ReaderOptions(lenient: config.lenient)
        readerOptions.layouts = config.layouts
        readerOptions.lineProtocol = config.lineProtocol
        readerOptions.partitionWidth = writer.manifest.partitionWidth
        let env = writer.environment
        readerOptions.files = env.files
        self.readerOptions = readerOptions
        mover = FileMover(fs: env.files)
        clockTrust = ClockTrust(clock: env.clock)
        windowStart = env.clock.monotonicNanos()
        lastPeriodic = windowStart
        try mover.ensureDirectory(config.inbox)
        if !config.deleteProcessed { try mover.ensureDirectory(config.processedDir) }
        try mover.ensureDirectory(config.rejectedDir)
        try config.checkDirectories(store: writer.layout.root, fs: env.files)
        claims = InboxClaims(inbox: config.inbox, fs: env.files)
        grouping = config.grouping
        rejects = RejectFiles(directory: config.rejectedDir, fs: env.files)
        rejects.removeStaleTemporaries()
        watcher = InboxWatcher(inbox: config.inbox, settleSeconds: config.settleSeconds, forcePolling: config.poll, environment: env,
                               wakeup: config.wakeup)
        let log = logger
        watcher.onSkipped = { path, why in log.warning("not ingesting \(escapedForLog(path)): \(why)") }
        if !watcher.usingInotify && !config.poll {
            logger.notice("inotify unavailable; polling the inbox")
        }
    }

    /// A reader for the next group: retention may have raised a watermark since the last one,
    /// and a row below it is rejected as expired instead of being stored hidden.
    var reader: TelemetryReader {
        var o = readerOptions
        o.expiredBefore = writer.manifest.watermarks
        o.hashAlgorithm = writer.hashAlgorithm
        return TelemetryReader(options: o)
    }

    /// Runs until `stop` is set. Returns after finishing (or abandoning) the current work;
    /// claimed files not finished go back to the inbox.
    public func run(until stop: StopFlag) throws {
        logger.info("watching inbox", metadata: [
            "inbox": "\(escapedForLog(config.inbox))", "mode": "\(watcher.usingInotify ? "inotify" : "poll")",
        ])
        cleanupProcessed()
        lastCleanup = clock.monotonicNanos()
        defer { releaseClaims() }
        var first = true
        while !stop.isSet {
            // The first look takes what is already waiting without delay.
            let ready = watcher.ready(timeoutMs: first ? 0 : 250)
            first = false
            if stop.isSet { break }
            runPeriodic()
            let leftovers = claims.leftovers().filter(isDue)
            guard !ready.isEmpty || !leftovers.isEmpty else { continue }
            if let may = mayIngest, !may() {
                clock.sleep(seconds: 1)
                continue
            }
            try ingest(leftovers + claim(ready), stop: stop)
            claims.removeIfEmpty()
        }
        logger.info("stopping", metadata: ["files": "\(filesIngested)", "rows": "\(rowsIngested)"])
    }

    /// Claims ready inbox files (InboxClaims.swift): returns their claimed paths.
    func claim(_ ready: [String]) -> [String] {
        guard !ready.isEmpty else { return [] }
        if let why = claims.ensureDirectory() {
            logger.warning("cannot claim inbox files, will retry: \(why)")
            for path in ready { watcher.forget(path) }
            return []
        }
        var out: [String] = []
        for path in ready {
            watcher.forget(path)
            switch claims.claim(path) {
            case .claimed(let c): out.append(c)
            case .busy, .vanished: continue  // busy: taken after the claimed one of its name
            case .failed(let why): logger.warning("cannot claim \(escapedForLog(path)), will retry: \(why)")
            }
        }
        return out
    }

    /// A claimed file is due unless it ended early and has neither changed nor run out of grace.
    func isDue(_ path: String) -> Bool {
        guard let t = truncated[baseName(path)] else { return true }
        if clock.monotonicNanos() >= t.until { return true }
        if case .file(_, let size, let mtime) = InputFiles.stat(path, fs: mover.fs) { return size != t.size || mtime != t.mtime }
        return true
    }

    /// Puts unfinished claimed files back into the inbox (at stop, after a failed commit).
    func release(_ paths: [String]) {
        for p in paths where claims.isClaimed(p) {
            if !claims.release(p) && mover.fs.exists(p) {
                logger.notice("\(escapedForLog(baseName(p))) stays claimed (a new file of that name is in the inbox); it is retried first")
            }
        }
    }

    func releaseClaims() {
        let left = claims.leftovers()
        guard !left.isEmpty else { return claims.removeIfEmpty() }
        release(left)
        syncDirectories([config.inbox, claims.directory])
        claims.removeIfEmpty()
    }

    /// After a failed commit of `files` files: smaller commits next time (they may fit).
    func shrinkGroups(after files: Int) {
        guard files > 1 else { return }
        let smaller = CommitGrouping(maxFiles: max(1, files / 2), maxBytes: grouping.maxBytes / 2, streamAbove: grouping.streamAbove)
        if smaller.maxFiles < grouping.maxFiles {
            logger.notice("retrying in smaller commits", metadata: ["files_per_commit": "\(smaller.maxFiles)"])
            grouping = smaller
        }
    }

    /// After a successful commit: back towards the configured grouping.
    func growGroups() {
        guard grouping != config.grouping else { return }
        grouping = CommitGrouping(
            maxFiles: min(config.grouping.maxFiles, grouping.maxFiles * 2),
            maxBytes: min(config.grouping.maxBytes, max(grouping.maxBytes * 2, 1 << 20)),
            streamAbove: config.grouping.streamAbove)
    }

    func runPeriodic() {
        heartbeat?()
        let now = clock.monotonicNanos()
        if Double(now - windowStart) / 1e9 >= config.statsEverySeconds {
            if windowRows > 0 {
                let secs = Double(now - windowStart) / 1e9
                logger.info("throughput", metadata: [
                    "rows_per_s": "\(Int(Double(windowRows) / secs))", "files_total": "\(filesIngested)",
                    "rows_total": "\(rowsIngested)",
                ])
            }
            windowRows = 0
            windowStart = now
        }
        if now - lastCleanup > 3_600_000_000_000 {
            cleanupProcessed()
            lastCleanup = now
        }
        if now - lastPeriodic > 60_000_000_000, let periodic {
            lastPeriodic = now
            do { try periodic() } catch { logger.error("scheduled maintenance: \(error)") }
        }
    }
}
