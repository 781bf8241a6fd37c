import Logging
import TachoFormat
import TachoIngest
import TachoStore

/// What `tacho run` (or any other host) has resolved from its flags, environment and config
/// before anything is opened. Settings that need the open store's catalog (the reader
/// layouts, retention's measurement names) are closures, called once the store is open.
public struct DaemonSetup {
    public var storePath: String
    public var storeOptions: StoreOptions
    /// The inbox loop's settings; `layouts`, when given, replaces its `layouts`.
    public var inbox: InboxConfig
    /// Opens the one writer (the CLI's maps a held lock to its exit code).
    public var openWriter: (String, StoreOptions) throws -> StoreWriter = { try StoreWriter(path: $0, options: $1) }
    /// The reader layouts of the declarations, resolved against the open store's catalog.
    public var layouts: ((Catalog) throws -> [RecordLayout])?
    /// Retention and compaction settings against the open store's catalog; nil: neither.
    public var maintenance: ((Catalog) throws -> (RetentionPolicy, CompactionOptions))?
    /// Seconds between scheduled compactions; 0: never.
    public var compactEverySeconds = 3600.0
    /// Free bytes of the file system holding a path (tests fake it); nil: statvfs.
    public var freeBytes: ((String) -> UInt64?)?
    /// Shipping to a fleet lake (`tacho run --ship-to`), made once the store is open; nil: no
    /// shipping. The host links the S3 client; the daemon only starts and stops it.
    public var ship: ((_ storeRoot: String) throws -> DaemonShipping?)?
    /// The HTTP front (`tacho run --listen`), started once the store is open and listening
    /// when it returns; stopped (gracefully: requests in flight finish) after the inbox loop
    /// has ended, before the store closes. It gets the wake-up it posts each file it
    /// publishes into the inbox to, so the loop takes the file at once. The host links the
    /// server; nil: none.
    public var listen: ((InboxWakeup) throws -> any DaemonService)?
    /// Called on every pass of the inbox loop (the systemd watchdog).
    public var heartbeat: (() -> Void)?
    /// Called once the store is open, retention has run and the inbox is about to be watched.
    public var ready: (() -> Void)?
    /// Called when the loop has ended, before the store closes.
    public var stopping: (() -> Void)?
    /// The daemon's totals, readable from any thread while it runs (a /metrics endpoint).
    public let counters: IngestCounters

    public init(storePath: String, storeOptions: StoreOptions, inbox: InboxConfig, counters: IngestCounters = IngestCounters()) {
        self.storePath = storePath
        self.storeOptions = storeOptions
        self.inbox = inbox
        self.counters = counters
    }
}

/// A job on a thread of its own beside the inbox loop (the shipping scheduler).
public protocol DaemonJob: Sendable {
    func start()
    func stop()
}

/// A service running beside the inbox loop (the HTTP front), already started; `stop()`
/// returns once it has stopped.
public protocol DaemonService: Sendable {
    func stop()
}

/// The shipping side of a daemon: its scheduler, and, with `--ship-keep`, what age retention
/// asks before deleting a partition (measurement, partition start, newest seq: shipped?).
public struct DaemonShipping {
    public var job: any DaemonJob
    public var keepUntilShipped: (@Sendable (String, Int64, UInt64) -> Bool)?
    public init(job: any DaemonJob, keepUntilShipped: (@Sendable (String, Int64, UInt64) -> Bool)?) {
        self.job = job
        self.keepUntilShipped = keepUntilShipped
    }
}

/// The `tacho run` daemon assembled: the one writer, the inbox loop (`InboxDaemon`), retention
/// and scheduled compaction on its hooks (`StoreMaintenance`), and the shipping scheduler on
/// a thread of its own. The host parses options and installs signal handling; this runs
/// until `stop` is set and closes everything in reverse order.
public enum TachoDaemon {
    public static func run(_ setup: DaemonSetup, until stop: StopFlag, logger: Logger) throws {
        let writer = try setup.openWriter(setup.storePath, setup.storeOptions)
        defer { writer.close() }
        var inbox = setup.inbox
        let wakeup = setup.listen == nil ? nil : InboxWakeup()
        inbox.wakeup = wakeup
        if let layouts = setup.layouts { inbox.layouts = try layouts(writer.catalog) }
        let daemon = try InboxDaemon(config: inbox, writer: writer, logger: logger, counters: setup.counters)
        // Made before maintenance: with --ship-keep, the first retention pass already asks it.
        let shipping = try setup.ship?(writer.layout.root)
        let maint = try maintenance(setup, writer: writer, keepUntilShipped: shipping?.keepUntilShipped, logger: logger)
        defer { maint?.shutdown() }
        if let maint {
            daemon.clockTrust = maint.retention.clockTrust  // one view of the clock for every deletion by age
            daemon.afterCommit = { try maint.afterCommit() }
            daemon.periodic = { try maint.periodic() }
            if maint.retention.policy.minFreeBytes != nil { daemon.mayIngest = { maint.mayIngest() } }
            try maint.periodic()  // retention before the first file
        } else {
            daemon.periodic = { writer.removeObsoleteFiles() }  // replaced index files, after their grace
        }
        logger.info("tacho run", metadata: ["store": "\(setup.storePath)", "inbox": "\(inbox.inbox)"])
        daemon.heartbeat = setup.heartbeat
        shipping?.job.start()
        defer { shipping?.job.stop() }
        var server: (any DaemonService)?
        if let listen = setup.listen, let wakeup { server = try listen(wakeup) }
        // After the loop: what the server acknowledges meanwhile is durable in the inbox, and
        // taken at the next start.
        defer { server?.stop() }
        setup.ready?()
        defer { setup.stopping?() }
        try daemon.run(until: stop)
    }

    /// Retention and scheduled compaction for the daemon's hooks; nil when neither is wanted.
    static func maintenance(
        _ setup: DaemonSetup, writer: StoreWriter, keepUntilShipped: (@Sendable (String, Int64, UInt64) -> Bool)?, logger: Logger
    ) throws -> StoreMaintenance? {
        guard let resolve = setup.maintenance else { return nil }
        let (policy, compaction) = try resolve(writer.catalog)
        guard !policy.isEmpty || setup.compactEverySeconds > 0 else { return nil }
        let enforcer = RetentionEnforcer(
            policy: policy, logger: logger, compaction: compaction, environment: writer.environment, freeBytes: setup.freeBytes)
        enforcer.shipped = keepUntilShipped
        let maintenance = StoreMaintenance(
            writer: writer, retention: enforcer, compaction: compaction, compactEvery: setup.compactEverySeconds, logger: logger)
        let counters = setup.counters
        maintenance.onRunEnded = { failure, seconds, bytesIn, bytesOut in
            if failure != nil {
                counters.compactionFailed()
            } else {
                counters.compacted(seconds: seconds, bytesIn: bytesIn, bytesOut: bytesOut)
            }
        }
        return maintenance
    }
}
