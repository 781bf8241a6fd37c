import ArgumentParser
import Dispatch
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import TachoCLI
import TachoDaemon
import TachoHTTP
import TachoIngest
import TachoSchema

extension S3Features {
    /// `tacho run --listen`: TachoHTTP inside the daemon, taking writes into its inbox (each
    /// published file wakes the inbox loop), listening when this returns.
    func daemonServer(_ o: DaemonServerOptions, wakeup: InboxWakeup, logger: Logger) throws -> any DaemonService {
        guard let address = TachoConfig.listenAddress(o.listen) else {
            throw ValidationError("--listen \(o.listen): expected HOST:PORT, like 127.0.0.1:8086")
        }
        var options = HTTPServerOptions(storePath: o.storePath)
        options.host = address.host
        options.port = address.port
        options.declarations = o.declarations
        options.inboxPath = o.inbox
        options.lineInput = o.lineInput
        options.minFreeBytes = o.minFreeBytes
        options.logger = logger
        try options.apply(o.http)
        options.onPublished = { wakeup.post($0) }
        options.ingestCounters = o.counters
        let scheme = options.scheme
        let server = TachoHTTPServer(options: options)
        do {
            try server.checkAddress()
        } catch {
            throw ValidationError("--listen \(o.listen): \(error)")
        }
        // This process holds the store's writer, so the inbox is ours: what is staged there
        // is a body a previous run never acknowledged.
        let removed = server.removeStagedLeftovers()
        if removed > 0 { logger.notice("removed \(removed) unacknowledged write(s) left staged by a previous run") }
        return try RunningServer.start(server, logger: logger) { port in
            printError("tacho run: listening on \(scheme)://\(address.host):\(port)")
        }
    }
}

extension HTTPServerOptions {
    /// `[http]` of the config file (already checked by the reader: sizes, durations and
    /// digests parse). Tokens given: auth is on.
    mutating func apply(_ s: HTTPSettings) throws {
        if let b = s.maxBody {
            guard let v = SettingUnits.bytes(b), let n = Int(exactly: v) else { throw ValidationError("[http] max_body \(b): expected a size like 32MiB") }
            maxBodyBytes = n
        }
        if let n = s.maxRowsPerRequest { maxRowsPerRequest = n }
        if let n = s.maxResultRows { maxResultRows = n }
        func seconds(_ key: String, _ text: String?) throws -> Int? {
            guard let text else { return nil }
            guard let m = SettingUnits.durationMicros(text), m >= 1_000_000 else {
                throw ValidationError("[http] \(key) \(text): expected a duration of at least 1s, like 30s")
            }
            return Int(m / 1_000_000)
        }
        if let t = try seconds("idle_timeout", s.idleTimeout) { idleTimeoutSeconds = t }
        if let t = try seconds("body_timeout", s.bodyTimeout) { bodyTimeoutSeconds = t }
        try applyTLS(s)
        guard s.hasTokens else { return }
        var a = HTTPAuthOptions()
        for d in s.adminTokenDigests {
            guard let digest = HTTPAuthOptions.digest(hex: d) else { throw ValidationError("[http] admin_token_sha256: \(d) is not 64 hex digits") }
            a.adminTokenDigests.append(digest)
        }
        for (device, d) in s.deviceSecretDigests {
            guard let digest = HTTPAuthOptions.digest(hex: d) else {
                throw ValidationError("[http] device_secret_sha256.\(device): expected 64 hex digits")
            }
            a.deviceSecretDigests[device] = digest
        }
        if let t = try seconds("token_lifetime", s.tokenLifetime) { a.tokenLifetimeSeconds = t }
        auth = a
    }

    /// The TLS files of `[http]` (flags applied), read and checked; none: plain HTTP. An
    /// error names the file (exit 64).
    mutating func applyTLS(_ s: HTTPSettings) throws {
        guard let cert = s.tlsCert, let key = s.tlsKey else { return }
        do {
            try useTLS(certificate: cert, key: key)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

extension S3Features {
    func checkTLS(_ http: HTTPSettings) throws {
        var o = HTTPServerOptions(storePath: "")
        try o.applyTLS(http)
    }
}

/// A TachoHTTPServer running in a service group of its own (no signal handling: the host
/// owns SIGINT/SIGTERM), stopped by `stop()`: new connections are refused, requests in
/// flight finish (at most `gracePeriod`, then they are cancelled), then it returns.
final class RunningServer: DaemonService {
    /// How long a graceful stop waits for requests in flight.
    static let gracePeriod: Duration = .seconds(30)

    private let group: ServiceGroup
    private let done: DispatchSemaphore

    private init(group: ServiceGroup, done: DispatchSemaphore) {
        self.group = group
        self.done = done
    }

    /// Starts `server` and waits until it listens (or failed to: the error is thrown, e.g.
    /// the address is in use). `onRunning` gets the bound port.
    static func start(_ server: TachoHTTPServer, logger: Logger, onRunning: @escaping @Sendable (Int) -> Void) throws -> RunningServer {
        let started = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let state = StartState()
        Task {
            do {
                let app = try await server.application { port in
                    onRunning(port)
                    state.running()
                    started.signal()
                }
                var config = ServiceGroupConfiguration(services: [app], logger: logger)
                config.maximumGracefulShutdownDuration = gracePeriod
                let group = ServiceGroup(configuration: config)
                state.made(group)
                try await group.run()
            } catch {
                if state.failed(error) { started.signal() } else { logger.error("the HTTP server stopped: \(error)") }
            }
            done.signal()
        }
        started.wait()
        switch state.outcome {
        case .success(let group): return RunningServer(group: group, done: done)
        case .failure(let error): throw ValidationError("the HTTP server cannot start: \(error)")
        case nil: throw ValidationError("the HTTP server cannot start")
        }
    }

    func stop() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
        done.wait()
    }
}

/// How a `RunningServer.start` went, between its task and the waiting caller.
private final class StartState: Sendable {
    private let group = Mutex<ServiceGroup?>(nil)
    private let result = Mutex<Result<ServiceGroup, any Error>?>(nil)

    var outcome: Result<ServiceGroup, any Error>? { result.withLock { $0 } }

    func made(_ g: ServiceGroup) { group.withLock { $0 = g } }

    /// The server listens (its group was made before it ran).
    func running() {
        guard let g = group.withLock({ $0 }) else { return }
        result.withLock { r in if r == nil { r = .success(g) } }
    }

    /// Records a failure to start; false when it had started already (a later failure).
    func failed(_ error: any Error) -> Bool {
        result.withLock { r in
            guard r == nil else { return false }
            r = .failure(error)
            return true
        }
    }
}
