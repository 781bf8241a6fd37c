import ArgumentParser
import Logging
import TachoFormat
import TachoRollup
import TachoSchema
import TachoStore
import TachoJSON
import TachoOutput

/// `tacho rollup`: build declared rollups from the rows a store already holds, and say where
/// each stands (docs/CONFIG.md "Rollups", docs/ARCHITECTURE.md "Backfill").
struct RollupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollup",
        abstract: "Build declared rollups from rows the store already holds; show their state.",
        discussion: "Rollups are declared in the config file (docs/CONFIG.md \"Rollups\").",
        subcommands: [Backfill.self, Status.self]
    )

    struct Backfill: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build each declared rollup that is missing or incomplete from the raw rows.",
            usage: "tacho rollup backfill [<options>]",
            discussion: """
                A rollup declared on a store that already holds rows of its measurement covers nothing until it is built from them: `tacho ingest` and `tacho run` refuse to start with such a rollup until a backfill has started. This command builds it one range at a time (a day, or one window when windows are wider), oldest first: each range's windows are aggregated from the raw rows exactly as ingest aggregates a window, and published by one atomic commit, then recorded as built in the store's BACKFILL file. A bar on the terminal shows the ranges done.

                Interruptible and resumable: Ctrl-C, a kill or a power cut leaves the store consistent, and running the command again continues with the first range not recorded (a range whose commit went through but whose record did not is built again, to the same rows). Until a rollup is complete, `tacho agg` answers from the raw rows alone (the same answer, only slower); `tacho rollup status` shows where each rollup stands.

                Takes the writer lock (exit status 75 when another writer holds it; --wait-lock waits), and lets go of it after every few seconds of work, so `tacho ingest --wait-lock 1m` can commit between ranges; `tacho run` holds the lock for as long as it runs: stop it for the backfill (or, once a backfill has started, let it ingest and run the backfill later). A row ingested meanwhile is counted once: in a range built after its commit it is read from the raw rows, in one built before, ingest adds it to the rollup.

                Example (a rollup added to the config of a store that already holds data):
                  systemctl stop tacho
                  tacho rollup backfill --config /etc/tacho/tacho.toml
                  tacho rollup status --config /etc/tacho/tacho.toml --format table
                  systemctl start tacho
                """)

        @OptionGroup var storeOption: StoreOptionGroup
        @OptionGroup var log: LogOptionGroup
        @OptionGroup var lockWait: LockWaitOptionGroup
        /// Work done under one hold of the writer lock before letting a waiting writer in (at
        /// least one range). Hidden: for tests that interleave ingest with a short backfill.
        @Option(help: .hidden) var sliceSeconds = 5.0
        /// The pause after letting go of the lock: longer than a waiting writer's longest poll
        /// interval (`StoreLock`, 0.5 s).
        static let pauseSeconds = 0.6

        func run() throws {
            let logger = log.logger("tacho.rollup")
            let loaded = try storeOption.loadedConfig()
            try loaded.checkDeclarations()
            let jobs = loaded.measurements.flatMap { d in d.rollups.map { RollupBackfill(measurement: d, rollup: $0) } }
            guard !jobs.isEmpty else {
                if !log.quiet { printError("tacho rollup backfill: nothing to do: \(loaded.path ?? "the configuration") declares no rollup") }
                return
            }
            var opts = StoreOptions()
            opts.logger = logger
            opts.measurements = try loaded.engineMeasurements()
            if let s = try lockWait.seconds() { opts.lockWaitSeconds = s }
            // Never create a store here: a path that is not one is a mistake.
            _ = try Snapshot.open(path: storeOption.path, options: opts)

            struct Done { var ranges = 0; var rows = 0; var state = "" }
            var done = [String: Done]()
            var pending = jobs
            var bar: ProgressLine?
            var finished = 0
            // One slice: the writer lock held for at most `sliceSeconds` of steps.
            func slice() throws {
                let writer = try openWriter(storeOption.path, options: opts, command: "rollup backfill")
                defer { writer.close() }
                if bar == nil {
                    let snap = try writer.snapshot()
                    let progress = try writer.backfillProgress()
                    var total = 0
                    for j in jobs {
                        switch j.state(snap, progress) {
                        case .complete: break
                        case .notStarted: total += j.rangesLeft(snap, builtBelow: .min)
                        case .building(let below): total += j.rangesLeft(snap, builtBelow: below)
                        }
                    }
                    bar = ProgressLine(total: total, unit: "ranges", quiet: log.quiet)
                }
                let deadline = opts.clock.monotonicNanos() &+ UInt64(max(0, sliceSeconds) * 1e9)
                var first = true
                while let job = pending.first, first || opts.clock.monotonicNanos() < deadline {
                    first = false
                    let name = job.storedName
                    let label = job.rollup.displayName(of: job.measurement.name)
                    switch job.state(try writer.snapshot(), try writer.backfillProgress()) {
                    case .complete:
                        if done[name] == nil { done[name] = Done(state: "complete already") }
                        pending.removeFirst()
                        continue
                    case .notStarted:
                        try job.start(writer)
                        logger.info("backfill started", metadata: ["rollup": "\(label)"])
                    case .building(let below):
                        if done[name] == nil && below != .min {
                            logger.info("backfill resumed", metadata: ["rollup": "\(label)", "built_below": "\(Timestamp.format(below))"])
                        }
                    }
                    var d = done[name] ?? Done()
                    let step = try job.step(writer)
                    if let r = step.range {
                        d.ranges += 1
                        d.rows += step.rows
                        finished += 1
                        bar?.update(min(finished, bar?.total ?? 0))
                        logger.debug("backfill range", metadata: [
                            "rollup": "\(label)", "from": "\(Timestamp.format(r.lowerBound))", "to": "\(Timestamp.format(r.upperBound))", "rows": "\(step.rows)",
                        ])
                    } else {
                        d.state = "complete"
                        logger.info("backfill complete", metadata: ["rollup": "\(label)", "commit": "\(step.commit)"])
                        pending.removeFirst()
                    }
                    done[name] = d
                }
            }
            while !pending.isEmpty {
                try slice()
                // Let a writer waiting for the lock (`tacho ingest --wait-lock`) in.
                if !pending.isEmpty { opts.clock.sleep(seconds: Self.pauseSeconds) }
            }
            bar?.finish()
            for j in jobs {
                let d = done[j.storedName] ?? Done(state: "complete already")
                let built = d.ranges > 0 ? " (\(d.ranges) range\(d.ranges == 1 ? "" : "s") built, \(d.rows) rows written)" : ""
                print("\(j.rollup.displayName(of: j.measurement.name)): \(d.state)\(built)")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print each declared rollup's state: complete, building or not started.",
            usage: "tacho rollup status [<options>]",
            discussion: """
                Columns: rollup (measurement:name), stored_as (the measurement `tacho query` reads), state, built_below (building: windows starting before it are built). Reads the store without a lock. `tacho agg` reads a rollup only once it is complete; `tacho rollup backfill` builds the others.

                Example:
                  tacho rollup status --config tacho.toml --format table
                """)

        @OptionGroup var storeOption: StoreOptionGroup
        @OptionGroup var log: LogOptionGroup
        @OptionGroup var output: FormatOptionGroup

        func run() throws {
            let loaded = try storeOption.loadedConfig()
            let snap = try openSnapshot(storeOption, log)
            let progress = try snap.backfillProgress()
            var p = RowPrinter(output.format, columns: ["rollup", "stored_as", "state", "built_below"])
            for d in loaded.measurements {
                for r in d.rollups {
                    let job = RollupBackfill(measurement: d, rollup: r)
                    var state: [Cell] = [.text("complete"), .null]
                    switch job.state(snap, progress) {
                    case .complete: break
                    case .notStarted: state = [.text("not started"), .null]
                    case .building(let below): state = [.text("building"), below == .min ? .null : .time(below)]
                    }
                    p.row([.text(r.displayName(of: d.name)), .text(job.storedName)] + state)
                }
            }
            p.finish()
        }
    }
}
