import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP front of a store (docs/HTTP.md): the read API under `/api/v1`, on hummingbird 2.
/// A host (a `tacho` command, a test) builds one from options and runs it until cancelled.
/// Store work (snapshots, cursors, aggregates) runs on NIO's thread pool, never on the event
/// loops or the cooperative pool.
public struct TachoHTTPServer: Sendable {
    public let options: HTTPServerOptions
    let snapshots: SnapshotSource
    let pool: NIOThreadPool
    let names: InboxNames
    let metrics = HTTPMetrics()
    let latestAnswers = LatestAnswers()
    /// The group commit of write bodies into the inbox; nil without an inbox (read-only).
    let inboxCommitter: InboxCommitter?

    public init(options: HTTPServerOptions) {
        self.options = options
        snapshots = SnapshotSource(path: options.storePath, logger: options.logger, files: options.files)
        let pool = NIOThreadPool.singleton
        let names = InboxNames(pid: getpid())
        self.pool = pool
        self.names = names
        inboxCommitter = options.inboxPath.map {
            InboxCommitter(inbox: $0, files: options.files, names: names, pool: pool, onPublished: options.onPublished)
        }
    }

    /// The routes, for a host that adds its own or for hummingbird's test client.
    public func router() async -> Router<TachoRequestContext> {
        let router = Router(context: TachoRequestContext.self)
        var authenticator: Authenticator?
        if let auth = options.auth { authenticator = await Authenticator(auth) }
        router.middlewares.add(MetricsMiddleware(metrics: metrics))
        router.middlewares.add(AuthMiddleware(authenticator: authenticator))
        router.get("/metrics") { _, context in
            await answer {
                try context.access.requireFleet("/metrics")
                return try await metricsText()
            }
        }
        router.post("/api/v1/login") { [authenticator] request, _ in await answer { try await login(request, authenticator) } }
        addReadRoutes(to: router)
        addWriteRoutes(to: router)
        addConsoleRoutes(to: router)
        return router
    }

    /// Refuses to serve a non-loopback address without auth: anyone on the network could
    /// read and write the fleet.
    public func checkAddress() throws(HTTPServerError) {
        guard options.auth == nil else { return }
        let h = options.host
        guard h == "localhost" || h == "::1" || h.hasPrefix("127.") else {
            throw HTTPServerError("refusing to listen on \(h): without configured tokens the server listens only on a loopback address (127.0.0.1, ::1)")
        }
    }

    /// Serves until the task is cancelled (or, under `runService`, a SIGINT/SIGTERM ends it
    /// gracefully: requests in flight finish). `onRunning` gets the bound port (useful with
    /// port 0).
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onRunning: onRunning).run()
    }

    /// The hummingbird application, for a host that runs it in its own service group.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws -> some ApplicationProtocol {
        try checkAddress()
        let logger = options.logger
        let http1 = HTTPServerBuilder.http1(configuration: .init(
            additionalChannelHandlers: [BodyDeadlineHandler(timeout: .seconds(Int64(options.bodyTimeoutSeconds)))],
            idleTimeout: .seconds(Int64(options.idleTimeoutSeconds))))
        // With TLS (docs/HTTP.md "TLS") NIOSSL's handler sits before the HTTP/1 handlers.
        let server = try options.tls.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: $0) } ?? http1
        return Application(
            router: await router(),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port), serverName: "tacho"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("listening", metadata: ["address": "\(options.host):\(port)", "scheme": "\(options.scheme)"])
                await onRunning(port)
            },
            logger: logger)
    }

    /// Removes what a previous process left staged in the inbox (`<inbox>/.tacho-http/`): bodies
    /// of writes that were never acknowledged (it stopped or crashed before publishing them).
    /// Only for the process that owns the inbox (`tacho run`, holding the store's writer).
    /// Returns how many were removed.
    public func removeStagedLeftovers() -> Int {
        guard let inbox = options.inboxPath else { return 0 }
        let dir = inbox + "/" + InboxFile.stagingDirectory
        guard let entries = try? options.files.directoryEntries(dir) else { return 0 }
        var n = 0
        for e in entries where e.name != "." && e.name != ".." {
            if (try? options.files.unlink(dir + "/" + e.name)) != nil { n += 1 }
        }
        return n
    }

    /// Runs `body` on the thread pool (store reads block).
    func onPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}

/// The newest snapshot of the store for each request, through one segment-handle cache shared
/// by all of them (a segment is opened once, not per request).
///
/// A snapshot is reused by the requests that follow while MANIFEST is the same file (a commit
/// replaces it by a rename: a new inode, size and time) and for at most `maxReuseMicros`:
/// opening one reads MANIFEST and the catalog and pins every segment, which is most of a
/// small read's cost (`GET /api/v1/latest/status`). A request sees every commit published
/// before its MANIFEST check, as with a snapshot of its own. The reused snapshot pins its
/// files until the next request after a commit (or after `maxReuseMicros`) replaces it.
final class SnapshotSource: Sendable {
    let path: String
    let cache = SegmentHandleCache()
    let logger: Logger
    let files: any StoreFileSystem
    let maxReuseMicros: Int64

    private struct Reused {
        var manifest: FileStatus
        var openedMicros: Int64
        var snapshot: Snapshot
    }
    private let reused = Mutex<Reused?>(nil)

    init(path: String, logger: Logger, files: any StoreFileSystem, maxReuseMicros: Int64 = 1_000_000) {
        self.path = path
        self.logger = logger
        self.files = files
        self.maxReuseMicros = maxReuseMicros
    }

    /// The snapshot requests share when it is still current (one `stat`, no read): for an
    /// answer that can come from memory without a hop to the thread pool.
    func current() -> Snapshot? { check().current }

    /// MANIFEST's identity now, and the shared snapshot if it is still that commit's and
    /// younger than `maxReuseMicros`.
    private func check() -> (key: FileStatus?, now: Int64, current: Snapshot?) {
        let now = Int64(StoreClock.system.monotonicNanos() / 1000)
        let key = try? files.fileStatus(StoreLayout(root: path).manifest, followingLinks: false)
        guard let key, let r = reused.withLock({ $0 }), r.manifest == key, now - r.openedMicros < maxReuseMicros else {
            return (key, now, nil)
        }
        return (key, now, r.snapshot)
    }

    func open() throws -> Snapshot {
        // Checked before the snapshot is opened: a snapshot newer than its key is only
        // replaced sooner.
        let (key, now, current) = check()
        if let current { return current }
        var o = StoreOptions()
        o.logger = logger
        o.handleCache = cache
        o.fileSystem = files
        let snap = try Snapshot.open(path: path, options: o)
        if let key {
            reused.withLock { $0 = Reused(manifest: key, openedMicros: now, snapshot: snap) }
        }
        return snap
    }
}

/// A server that cannot start as configured.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
