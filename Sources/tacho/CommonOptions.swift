import ArgumentParser
import Logging
import Synchronization
import TachoStore
import TachoSystemd
#if canImport(Glibc)
import Glibc
#endif

/// `--store DIR`, else `$TACHO_STORE`, else the config file's `[store] path`, else
/// `./tacho-data`; and `--config FILE` (every command that opens a store takes one).
struct StoreOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Store directory (default: $TACHO_STORE, else the config file's, else ./tacho-data).", valueName: "DIR"))
    var store: String?
    @Option(name: .long, help: ArgumentHelp(
        "Config file: TOML with settings and declared measurements (docs/CONFIG.md; `tacho config defaults` prints the built-ins), or the older JSON form.",
        valueName: "FILE"))
    var config: String?

    /// Loads --config before the command runs: a bad file stops it before anything happens.
    func validate() throws { if config != nil { _ = try loadedConfig() } }

    /// The --config file, loaded once per process (`LoadedConfig.none` without one).
    func loadedConfig() throws -> LoadedConfig {
        guard let config else { return .none }
        if let c = LoadedConfig.current.withLock({ $0 }), c.path == config { return c }
        let c = try LoadedConfig.load(config)
        LoadedConfig.current.withLock { $0 = c }
        return c
    }

    var path: String {
        // Without --config nothing is parsed (not even the built-in declarations).
        store ?? environment("TACHO_STORE") ?? (config == nil ? nil : (try? loadedConfig())?.config.store.path) ?? "./tacho-data"
    }
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

struct LogOptionGroup: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    /// Bootstraps swift-log once (to stderr) and returns a logger for `label`.
    func logger(_ label: String) -> Logger {
        LogBootstrap.once(level: logLevel)
        var l = Logger(label: label)
        l.logLevel = logLevel
        return l
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

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
            return h
        }
    }
}

/// Prints to stderr (diagnostics never mix with query output on stdout).
func printError(_ s: String, newline: Bool = true) {
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
