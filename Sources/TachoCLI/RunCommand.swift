import ArgumentParser
import TachoDaemon
import Logging
import TachoIngest
import TachoSchema
import TachoStore
import TachoSystemd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Set by SIGINT/SIGTERM.
let stopFlag = StopFlag()

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Watch an inbox and ingest every telemetry file that lands in it (daemon).",
        discussion: """
            Files are taken when closed after writing or renamed into the inbox (inotify), or, when polling and at start-up, once their size and mtime are stable for --settle seconds. Dot-files, *.tmp and *.part are ignored; symlinks, FIFOs and directories are reported, never read.

            A file leaves the inbox only after its rows are durable: to processed/ (or deleted with --delete-processed); unparseable files go to rejected/ with <name>.error; rejected records are listed in rejected/<name>.rejects.ndjson. A re-delivered file (same content) is skipped, unless it had rejected records: to reprocess one (to get its report again, or after fixing the declarations), move it back into the inbox; its valid rows replace themselves by identity. SIGINT/SIGTERM: stop taking files, finish or abandon the current one, exit 0.

            Settings come from flags, then the environment (TACHO_STORE, TACHO_INBOX, TACHO_PROCESSED, TACHO_REJECTED, TACHO_LENIENT=1), then the config file (--config FILE, $TACHO_CONFIG or /etc/tacho/tacho.toml), then defaults: inbox ./inbox, store ./tacho-data, processed/ and rejected/ beside the inbox.

            Config file (TOML, every key optional; docs/CONFIG.md lists every key and how to declare measurements; a *.json file in the older JSON form with the same key names is still read):
              [store]
              path = "/var/lib/tacho"
              retention = { detections = "30d", status = "365d" }
              max_bytes = "2GiB"    # also: min_free, max_clock_lead,
              cold_after = "7d"     # compact_rate_mb_s, cold_level, ledger_max_age
              [run]
              inbox = "/data/inbox" # also: processed, rejected, lenient, poll,
              compact_every = "1h"  # delete_processed, settle_seconds,
                                    # processed_max_age

            Retention and compaction (see `tacho compact --help`): age retention runs about once a minute, the disk budget after every commit, compaction every --compact-every (first run a minute after start) on a background thread; the free-space floor pauses ingest (logged) until space is back. Age retention waits while the clock is more than --max-clock-lead ahead of the newest stored row, or for 10 minutes after the clock jumped (a box booting with a wrong clock deletes nothing).

            HTTP (--listen HOST:PORT, or [http] listen in the config file; docs/HTTP.md): the read and write API is served beside the inbox, in this process. A write is answered once its body is durable in the inbox, and the daemon takes it at once. Tokens and limits come from [http]; without a token only a loopback address is served. With --tls-cert and --tls-key (or [http] tls_cert and tls_key) it serves HTTPS only. On SIGINT/SIGTERM requests in flight finish.

            A ready file is first renamed into <inbox>/.tacho-claimed/ (what is ingested is exactly what is moved out, even if a producer reuses the name); unfinished claims go back to the inbox when tacho run stops.
            """
    )

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @Option(help: ArgumentHelp("Inbox directory (default $TACHO_INBOX, else ./inbox).", valueName: "DIR")) var inbox: String?
    @Option(help: ArgumentHelp("Where ingested files go (default: processed/ beside the inbox).", valueName: "DIR")) var processed: String?
    @Flag(help: "Delete ingested files instead of moving them to processed/.") var deleteProcessed = false
    @Option(help: ArgumentHelp("Where rejected files and reports go (default: rejected/ beside the inbox).", valueName: "DIR")) var rejected: String?
    @Flag(help: "Repair the known classes of JSON damage instead of rejecting the file.") var lenient = false
    @Flag(help: "Poll the inbox instead of using inotify.") var poll = false
    @Option(help: ArgumentHelp("Seconds a polled file must be unchanged before it is taken (default 2).", valueName: "SECONDS")) var settle: Double?
    @Option(help: ArgumentHelp("Delete processed files older than this (default 7d; 0 keeps them).", valueName: "AGE")) var processedMaxAge: String?
    @OptionGroup var maintenance: MaintenanceOptionGroup
    @Option(help: ArgumentHelp("How often to compact (default 1h; 0 = never).", valueName: "AGE")) var compactEvery: String?
    @OptionGroup(title: "Shipping to a fleet lake") var ship: RunShipOptions
    @Option(help: ArgumentHelp(
        "Serve the HTTP API on HOST:PORT beside the inbox: reads, and writes made durable in the inbox before they are acknowledged (docs/HTTP.md). Default: [http] listen of the config file, else no server.",
        valueName: "HOST:PORT"))
    var listen: String?
    @OptionGroup(title: "TLS (with --listen)") var tls: TLSOptionGroup

    func run() throws {
        // The config's [http] listen also asks for the server: read the file first (reading
        // only; nothing is opened or created before the exec).
        let listenAt = try listen ?? storeOption.loadedConfig().config.http.listen
        if let listenAt, TachoConfig.listenAddress(listenAt) == nil {
            throw ValidationError("--listen \(listenAt): expected HOST:PORT, like 127.0.0.1:8086")
        }
        if tls.given && listenAt == nil { throw ValidationError("--tls-cert and --tls-key are for the HTTP server: give --listen too") }
        // Shipping and the HTTP server need tacho-net: in tacho this execs it with the same arguments.
        let network = ship.shipTo == nil && listenAt == nil ? nil : try Tacho.networkFeatures(for: ship.shipTo != nil ? "--ship-to" : "--listen")
        // TLS files are checked (in tacho-net) before the store is opened or the inbox made.
        let http = try tls.applied(to: storeOption.loadedConfig().config.http)
        if listenAt != nil, let network { try network.checkTLS(http) }
        // Handlers first: a SIGTERM while the store opens or retention runs at start must stop
        // the daemon cleanly (exit 0), not kill it (the default action, exit 143).
        signal(SIGINT) { _ in stopFlag.stop() }
        signal(SIGTERM) { _ in stopFlag.stop() }
        signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with these blocked (spawned from a thread that blocks
        // signals): unblock them, or SIGTERM would never reach the handler.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let logger = log.logger("tacho.run")
        let loaded = try storeOption.loadedConfig()
        let file = loaded.config.run
        var c = InboxConfig()
        c.inbox = inbox ?? environment("TACHO_INBOX") ?? file.inbox ?? c.inbox
        c.processed = processed ?? environment("TACHO_PROCESSED") ?? file.processed
        c.rejected = rejected ?? environment("TACHO_REJECTED") ?? file.rejected
        c.deleteProcessed = deleteProcessed || file.deleteProcessed == true
        c.lenient = lenient || environment("TACHO_LENIENT") == "1" || file.lenient == true
        c.poll = poll || file.poll == true
        c.settleSeconds = settle ?? file.settleSeconds ?? c.settleSeconds
        if let age = processedMaxAge ?? file.processedMaxAge {
            guard let micros = Units.durationMicrosOrZero(age) else {
                throw ValidationError("processed max age \"\(age)\": expected a duration like 7d, 12h, 0")
            }
            c.processedMaxAgeSeconds = Double(micros) / 1e6
        }
        // Retention and compaction settings (flags and file) are checked before the store is
        // opened (and perhaps created): a bad value stops the daemon before it does anything.
        _ = try maintenance.resolve(
            config: loaded, processed: nil, rejected: nil,
            catalog: (try? Snapshot.open(path: storeOption.path))?.catalog.resolving(loaded.engineMeasurements()))
        try loaded.checkDeclarations()
        var compactEvery = 3600.0
        if let s = self.compactEvery ?? file.compactEvery {
            guard let d = Units.durationMicrosOrZero(s) else { throw ValidationError("--compact-every \(s): expected a duration like 1h, 30m, or 0") }
            compactEvery = Double(d) / 1e6
        }
        var opts = StoreOptions()
        opts.logger = logger
        opts.measurements = try loaded.engineMeasurements()
        if loaded.hasRollups {
            let existing = try? Snapshot.open(path: storeOption.path)
            try loaded.checkRollupsNeedNoBackfill(existing)
        }
        opts.commitParticipant = loaded.rollupParticipant()
        c.lineProtocol = loaded.lineInput
        var setup = DaemonSetup(storePath: storeOption.path, storeOptions: opts, inbox: c)
        // Another writer holds the store: exit 75 (EX_TEMPFAIL) like ingest and compact.
        setup.openWriter = { try openWriter($0, options: $1, command: "run") }
        setup.layouts = { try loaded.layouts(catalog: $0) }
        let maintenance = self.maintenance
        setup.maintenance = { catalog in
            try maintenance.resolve(
                config: loaded, processed: c.deleteProcessed ? nil : c.processedDir, rejected: c.rejectedDir, catalog: catalog)
        }
        setup.compactEverySeconds = compactEvery
        // Tests fake the free-space reading (a file holding a byte count, re-read each time).
        if let fake = environment("TACHO_FAKE_FREE_BYTES_FILE") {
            setup.freeBytes = { _ in
                (try? readSmallFile(fake)).flatMap { UInt64(String(decoding: $0, as: UTF8.self).trimmingWhitespace) }
            }
        }
        if let network {
            let ship = self.ship
            let storePath = storeOption.path
            setup.ship = { root in
                try network.daemonShipping(ship, storePath: storePath, storeRoot: root, storeOptions: opts, logger: logger)
            }
        }
        if let listenAt, let network {
            var minFree: UInt64?
            if let s = self.maintenance.minFree ?? loaded.config.store.minFree {
                guard let b = Units.bytes(s) else { throw ValidationError("--min-free \(s): expected a size like 500MiB") }
                minFree = b
            }
            let server = DaemonServerOptions(
                listen: listenAt, storePath: storeOption.path, inbox: c.inbox, declarations: loaded.measurements,
                lineInput: loaded.lineInput, minFreeBytes: minFree, http: http, counters: setup.counters)
            let httpLogger = log.logger("tacho.http")
            setup.listen = { try network.daemonServer(server, wakeup: $0, logger: httpLogger) }
        }
        // Type=notify (tools/systemd/tacho.service): ready once the store is open and the inbox
        // watched; watchdog pings from the daemon's loop; stopping once the loop has ended.
        let notifier = SystemdNotifier()
        if let notifier, let pinger = WatchdogPinger(notifier) { setup.heartbeat = pinger.tick }
        if let notifier {
            let inbox = c.inbox
            setup.ready = { notifier.ready(status: "watching \(inbox)") }
            setup.stopping = { notifier.stopping() }
        }
        try TachoDaemon.run(setup, until: stopFlag, logger: logger)
    }
}
