import ArgumentParser
import Logging
import Synchronization
import TachoStore
import TachoSystemd
#if canImport(Glibc)
import Glibc
#endif

/// `--store DIR`, else `$TACHO_STORE`, else the config file's `[store] path`, else
/// `./tacho-data`; and the config file: `--config FILE`, else `$TACHO_CONFIG` (empty: none),
/// else `/etc/tacho/tacho.toml` when it exists (every command that opens a store takes both).
package struct StoreOptionGroup: ParsableArguments {
    package init() {}
    @Option(name: [.short, .long], help: ArgumentHelp(
        "Store directory (default: $TACHO_STORE, else the config file's [store] path, else ./tacho-data).", valueName: "DIR"))
    var store: String?
    @Option(name: [.short, .long], help: ArgumentHelp(
        "Config file: TOML with settings and declared measurements (docs/CONFIG.md; `tacho config defaults` prints the built-ins). Default: $TACHO_CONFIG, else /etc/tacho/tacho.toml if it exists.",
        valueName: "FILE"))
    var config: String?

    /// The system-wide config file, read when neither --config nor $TACHO_CONFIG names one.
    static let systemConfig = "/etc/tacho/tacho.toml"

    /// The config file in force: --config, else $TACHO_CONFIG (set but empty: none), else
    /// /etc/tacho/tacho.toml when it exists; nil: none.
    var configPath: String? {
        if let config { return config }
        if let env = environmentRaw("TACHO_CONFIG") { return env.isEmpty ? nil : env }
        return access(Self.systemConfig, F_OK) == 0 ? Self.systemConfig : nil
    }

    /// Loads the config before the command runs: a bad file stops it before anything happens.
    package func validate() throws { if configPath != nil { _ = try loadedConfig() } }

    /// The config file, loaded once per process (`LoadedConfig.none` without one).
    func loadedConfig() throws -> LoadedConfig {
        guard let config = configPath else { return .none }
        if let c = LoadedConfig.current.withLock({ $0 }), c.path == config { return c }
        let c = try LoadedConfig.load(config)
        LoadedConfig.current.withLock { $0 = c }
        return c
    }

    package var path: String {
        // Without a config file nothing is parsed (not even the built-in declarations).
        store ?? environment("TACHO_STORE") ?? (configPath == nil ? nil : (try? loadedConfig())?.config.store.path) ?? "./tacho-data"
    }
}

/// An environment variable as set, even when empty (nil: not set).
func environmentRaw(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// `--wait-lock DURATION` for commands that write: one writer per store, so a cron job can
/// wait for a running `tacho compact` (or a stopping `tacho run`) instead of failing.
struct LockWaitOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Wait up to this long for another writer (tacho run, tacho compact) to release the store instead of failing at once (e.g. 30s, 10m).",
        valueName: "DURATION"))
    var waitLock: String?

    /// A bad duration is a usage error of the subcommand, before anything runs.
    func validate() throws { _ = try seconds() }

    /// Seconds to wait; the store's default (0.2 s) without the option.
    func seconds() throws -> Double? {
        guard let waitLock else { return nil }
        guard let micros = Units.durationMicros(waitLock), micros >= 0 else {
            throw ValidationError("--wait-lock \(waitLock): expected a duration like 30s, 10m, 1h")
        }
        return Double(micros) / 1e6
    }
}

/// The store's writer for a one-shot command. When another writer holds the lock, prints
/// `tacho <command>: <error><advice>` and exits 75 (EX_TEMPFAIL): nothing was done; run
/// again later (or with --wait-lock).
func openWriter(_ path: String, options: StoreOptions, command: String, advice: String = "", maintenance: Bool = false) throws -> StoreWriter {
    do {
        return maintenance ? try StoreWriter.openForMaintenance(path: path, options: options) : try StoreWriter(path: path, options: options)
    } catch let e as StoreError where e.code == .locked {
        printError("tacho \(command): \(e)\(advice)")
        throw ExitCode(75)
    }
}

/// `--log-level`, `-q/--quiet` and `-v/--verbose`: every subcommand takes them.
package struct LogOptionGroup: ParsableArguments {
    package init() {}
    @Option(name: .long, help: ArgumentHelp("Log level (default: info; -q: warning; -v: debug).", valueName: "LEVEL"))
    var logLevel: Logger.Level?
    @Flag(name: .shortAndLong, help: "Quiet: only warnings and errors (no per-file lines, notes or progress bar).")
    var quiet = false
    @Flag(name: .shortAndLong, help: "Verbose: debug logging.")
    var verbose = false

    package func validate() throws {
        if quiet && verbose { throw ValidationError("-q/--quiet and -v/--verbose contradict each other: give one") }
    }

    var level: Logger.Level { logLevel ?? (verbose ? .debug : quiet ? .warning : .info) }

    /// Bootstraps swift-log once (to stderr) and returns a logger for `label`.
    package func logger(_ label: String) -> Logger {
        LogBootstrap.once(level: level)
        var l = Logger(label: label)
        l.logLevel = level
        return l
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {
    /// The values are listed once, by ArgumentParser's "(values: …)".
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

enum LogBootstrap {
    private static let done = Atomic<Bool>(false)
    static func once(level: Logger.Level) {
        guard !done.exchange(true, ordering: .relaxed) else { return }
        let journal = JournalLogHandler.stderrIsJournal()  // under systemd: <N> priority prefixes
        LoggingSystem.bootstrap { label in
            if journal {
                var h = JournalLogHandler(label: label)
                h.logLevel = level
                return h
            }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return BarAwareLogHandler(inner: h)
        }
    }
}

/// A stderr log handler that first erases a progress bar on the line (`ProgressLine`), so a
/// log line never starts in the middle of the bar; the bar is drawn again at its next update.
struct BarAwareLogHandler: LogHandler {
    var inner: StreamLogHandler

    func log(event: LogEvent) {
        ProgressLine.eraseForOtherOutput()
        inner.log(event: event)
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
}

/// Prints to stderr (diagnostics never mix with query output on stdout).
package func printError(_ s: String, newline: Bool = true) {
    var line = s
    if newline && !line.hasSuffix("\n") { line += "\n" }
    var bytes = Array(line.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + done, $0.count - done) }
        if n <= 0 { if errno == EINTR { continue }; break }
        done += n
    }
}
