import ArgumentParser
import Logging
import Synchronization
import TachoDaemon
import TachoIngest
import TachoSchema
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// What needs the network stack (the S3 client: AsyncHTTPClient, SwiftNIO, swift-crypto,
/// Foundation). `tacho` does not link it: every `tacho` process (an ingest from cron, a query)
/// would pay for loading and relocating those images at start-up. `tacho-net` links it and
/// installs its implementation before running the same root command; `tacho` execs
/// `tacho-net` (same arguments, same process) when a command line asks for one of these.
package protocol NetworkFeatures: Sendable {
    /// `tacho ship`.
    func ship(_ command: ShipCommand) throws
    /// `tacho run --ship-to`: the daemon's shipping, made once the store at `storeRoot` is open.
    func daemonShipping(
        _ options: RunShipOptions, storePath: String, storeRoot: String, storeOptions: StoreOptions, logger: Logger
    ) throws -> DaemonShipping?
    /// `tacho serve`: the HTTP front (TachoHTTP), read-only, until SIGINT/SIGTERM.
    func serve(_ command: ServeCommand) throws
    /// `tacho run --listen`: the HTTP front inside the daemon (reads, and writes into its
    /// inbox), listening when this returns; `stop()` ends it gracefully.
    func daemonServer(_ options: DaemonServerOptions, wakeup: InboxWakeup, logger: Logger) throws -> any DaemonService
    /// Reads and checks the TLS files `http` names (a PEM chain and its key), if any: an
    /// error naming the file, thrown before `tacho run --listen` opens the store.
    func checkTLS(_ http: HTTPSettings) throws
}

/// What `tacho run --listen` hands the HTTP front: resolved from flags, environment and the
/// config file by the daemon's own rules, so the server validates writes exactly as the
/// daemon will read them.
package struct DaemonServerOptions: Sendable {
    /// `HOST:PORT`.
    package var listen: String
    package var storePath: String
    /// The daemon's inbox: accepted writes are published into it.
    package var inbox: String
    package var declarations: [MeasurementDeclaration]
    package var lineInput: LineInputOptions
    /// The daemon's free-space floor (`--min-free`, `[store] min_free`).
    package var minFreeBytes: UInt64?
    /// `[http]` of the config file, `--tls-cert`/`--tls-key` applied.
    package var http: HTTPSettings
    /// The daemon's totals (for /metrics).
    package var counters: IngestCounters
}

/// The installed implementation; nil in `tacho`.
package let installedNetworkFeatures = Mutex<(any NetworkFeatures)?>(nil)

extension Tacho {
    /// The network features for a command that needs them: the installed ones, or (in `tacho`)
    /// `tacho-net` exec'd in place of this process with the same arguments, so this never
    /// returns there. A `tacho-net` that is missing is an error naming where it was looked for.
    static func networkFeatures(for what: String) throws -> any NetworkFeatures {
        if let f = installedNetworkFeatures.withLock({ $0 }) { return f }
        let candidates = networkExecutableCandidates()
        guard let path = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw ValidationError(
                "\(what) needs the tacho-net executable, which is installed with tacho; it is neither at "
                    + candidates.joined(separator: " nor at "))
        }
        let args = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        argv.append(nil)
        execv(path, &argv)
        let err = errno
        throw ValidationError("\(what): cannot run \(path): \(String(cString: strerror(err)))")
    }

    /// Where `tacho-net` may be: beside this executable (a build directory), or in
    /// `../lib/tacho/` from it (the package: /usr/bin/tacho, /usr/lib/tacho/tacho-net).
    /// Symbolic links to this executable are resolved first.
    static func networkExecutableCandidates() -> [String] {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let exe = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        guard let slash = exe.lastIndex(of: "/") else { return ["./tacho-net"] }
        let dir = String(exe[..<slash])
        let parent = dir.lastIndex(of: "/").map { String(dir[..<$0]) } ?? ""
        return [dir + "/tacho-net", parent + "/lib/tacho/tacho-net"]
    }
}
