import Dispatch
import Logging
import Synchronization
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
    /// Lenient JSON (BRIEF §1). Default off.
    public var lenient = false
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
    /// Seconds between throughput log lines. Default 10.
    public var statsEverySeconds = 10.0

    public init() {}

    public var processedDir: String { processed ?? parent(inbox) + "/processed" }
    public var rejectedDir: String { rejected ?? parent(inbox) + "/rejected" }

    private func parent(_ p: String) -> String {
        var s = p
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        guard let slash = s.lastIndex(of: "/") else { return "." }
        return slash == s.startIndex ? "/" : String(s[..<slash])
    }
}

/// A stop request from a signal handler (or a test).
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func stop() { flag.store(true, ordering: .relaxed) }
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}

struct Cancelled: Error {}

/// `tacho run`: takes ready files from the inbox, parses them on all cores, publishes them
/// through the one writer in group commits (each file all-or-nothing), then moves them out
/// of the inbox. The inbox is the log: a file leaves it only after its rows are durable.
public final class InboxDaemon {
    public let config: InboxConfig
    let writer: StoreWriter
    let logger: Logger
    let reader: TelemetryReader
    let watcher: InboxWatcher
    let mover = FileMover()
    let rejects: RejectFiles
    /// Runs after every commit (retention's disk budget, …). Errors are logged.
    public var afterCommit: (() throws -> Void)?
    /// Runs about once a minute while idle or between groups (scheduled compaction, …).
    public var periodic: (() throws -> Void)?
    /// Returns false to pause ingest (the free-space floor); checked before each group.
    public var mayIngest: (() -> Bool)?

    public internal(set) var filesIngested = 0
    public internal(set) var rowsIngested = 0
    var windowRows = 0
    private var windowStart = monotonicNanos()
    var lastCleanup: UInt64 = 0
    private var lastPeriodic = monotonicNanos()

    public init(config: InboxConfig, writer: StoreWriter, logger: Logger) throws {
        self.config = config
        self.writer = writer
        self.logger = logger
        var readerOptions = ReaderOptions(lenient: config.lenient)
        readerOptions.partitionWidth = writer.manifest.partitionWidth
        reader = TelemetryReader(options: readerOptions)
        try mover.ensureDirectory(config.inbox)
        if !config.deleteProcessed { try mover.ensureDirectory(config.processedDir) }
        try mover.ensureDirectory(config.rejectedDir)
        rejects = RejectFiles(directory: config.rejectedDir)
        watcher = InboxWatcher(inbox: config.inbox, settleSeconds: config.settleSeconds, forcePolling: config.poll)
        let log = logger
        watcher.onSkipped = { path, why in log.warning("not ingesting \(path): \(why)") }
        if !watcher.usingInotify && !config.poll {
            logger.notice("inotify unavailable; polling the inbox")
        }
    }

    /// Runs until `stop` is set. Returns after finishing (or abandoning) the current work.
    public func run(until stop: StopFlag) throws {
        logger.info("watching inbox", metadata: [
            "inbox": "\(config.inbox)", "mode": "\(watcher.usingInotify ? "inotify" : "poll")",
        ])
        cleanupProcessed()
        lastCleanup = monotonicNanos()
        var first = true
        while !stop.isSet {
            // The first look takes what is already waiting without delay.
            let ready = watcher.ready(timeoutMs: first ? 0 : 250)
            first = false
            if stop.isSet { break }
            runPeriodic()
            guard !ready.isEmpty else { continue }
            if let may = mayIngest, !may() {
                usleep(1_000_000)
                continue
            }
            for unit in config.grouping.plan(sizes: ready.map(CommitGrouping.size(of:))) {
                if stop.isSet { break }
                switch unit {
                case .stream(let i): try ingestLarge(ready[i], stop: stop)
                case .group(let r): try ingestGroup(Array(ready[r]))
                }
                runPeriodic()
            }
        }
        logger.info("stopping", metadata: ["files": "\(filesIngested)", "rows": "\(rowsIngested)"])
    }

    private func runPeriodic() {
        let now = monotonicNanos()
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
