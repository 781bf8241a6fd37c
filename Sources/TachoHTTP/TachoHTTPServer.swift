import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
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
    let names = InboxNames(pid: getpid())
    let metrics = HTTPMetrics()

    public init(options: HTTPServerOptions) {
        self.options = options
        snapshots = SnapshotSource(path: options.storePath, logger: options.logger)
        pool = NIOThreadPool.singleton
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

/// Opens the newest snapshot of the store for each request, through one segment-handle cache
/// shared by all of them (a segment is opened once, not per request).
struct SnapshotSource: Sendable {
    let path: String
    let cache = SegmentHandleCache()
    let logger: Logger

    func open() throws -> Snapshot {
        var o = StoreOptions()
        o.logger = logger
        o.handleCache = cache
        return try Snapshot.open(path: path, options: o)
    }
}

/// A server that cannot start as configured.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
