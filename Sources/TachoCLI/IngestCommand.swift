import ArgumentParser
import TachoOutput
import Logging
import TachoIngest
import TachoJSON
import TachoStore

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Ingest telemetry files or directories once (cron mode).",
        usage: "tacho ingest [<options>] <paths> ...",
        discussion: """
            Every file is all-or-nothing: its valid rows become visible together, or none. Small files are committed in groups (up to 64 files or 16 MiB of input per commit, parsed on every core) so that they make long per-vehicle chunks: fewer bytes per row and faster scans than one small segment per file. A file above 8 MiB is streamed in a commit of its own with bounded memory. Directories are read (not recursively) in name order; dot-files, *.tmp and *.part are skipped. Input files are never moved or deleted by this command (see `tacho run`).

            Prints one line per file once its commit is durable (-q: none): its rows, of which "N superseded within the file" when the file repeats an identity (the last row wins, so rows minus superseded are stored). On a terminal a progress bar keeps the last line.

            A file whose content is already in the store's ledger is skipped as a re-delivery, unless it had rejected records: to reprocess a file with rejects (to get its report again, or after fixing the declarations), ingest it again or put it back into the inbox; its valid rows replace themselves by identity, nothing is doubled. --force ingests any file again (e.g. to restore what `tacho verify --repair` quarantined), replaying in ledger order: the files the ledger lists first, in the order they were originally committed, so a later correction still wins whatever the names; files the ledger does not know follow in the order given.

            --rejected DIR writes <name>.error for a rejected file and <name>.rejects.ndjson for rejected records: one JSON object per record with its index, line, column, field, reason and the record whole, as the file held it.

            Exit status: 0 also when there is nothing to ingest (an empty inbox is normal for cron); 1 when a file or any record was rejected; 75 when another writer holds the store (see --wait-lock).
            """
    )

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var lockWait: LockWaitOptionGroup

    @Flag(help: "Repair trailing commas, missing commas at line ends, padded keys, a BOM, and event-level object_type/object_value beside detections.")
    var lenient = false

    @Flag(help: "Ingest files even if the ledger says they were ingested before: restores rows that `tacho verify --repair` quarantined, from the original files (e.g. processed/), in the order the ledger committed them (later corrections still win). Rows replace themselves by identity: nothing is doubled.")
    var force = false

    @Flag(help: "Commit every file on its own instead of in groups (more, smaller segments until `tacho compact`).")
    var commitPerFile = false

    @Option(help: ArgumentHelp("Write <name>.error and <name>.rejects.ndjson for rejected files and records here.", valueName: "DIR"))
    var rejected: String?

    @Argument(help: "Files or directories to ingest.")
    var paths: [String]

    func run() throws {
        let logger = log.logger("tacho.ingest")
        var loaded = try storeOption.loadedConfig()
        var storeOpts = StoreOptions()
        storeOpts.logger = logger
        if let s = try lockWait.seconds() { storeOpts.lockWaitSeconds = s }
        let (files, skipped) = try InputFiles.expand(paths)
        // Line protocol creates the measurements its lines name that nothing declares (schema
        // on write): they join the declarations, so the writer's catalog has them before their
        // rows are built; each is stored by the commit that stores its first rows (FORMAT.md §7).
        // One the store holds already (created by earlier lines) keeps its stored columns.
        // One the store's catalog contradicts (other tags) is not created: its lines are
        // rejected with the reason, as `tacho run` does, and the rest is ingested.
        var lineInput = loaded.lineInput
        if LineProtocolSchemas.isLineProtocolAmong(files) {
            let stored = (try? Snapshot.open(path: storeOption.path))?.catalog ?? .builtIn
            for d in LineProtocolSchemas.discover(
                paths: files, declared: Set(loaded.measurements.map(\.name)), options: lineInput, catalog: stored) {
                let trial = loaded.adding([d])
                do {
                    try trial.checkDeclarations()
                    _ = try stored.resolving(trial.engineMeasurements())
                    loaded = trial
                } catch {
                    lineInput.refused[d.name] = "measurement '\(d.name)' cannot be created from its lines: \(error)"
                }
            }
        }
        // Declarations are checked before anything is opened or written (a hostile one never
        // creates a store).
        try loaded.checkDeclarations()
        storeOpts.measurements = try loaded.engineMeasurements()
        if loaded.hasRollups {
            let existing = try? Snapshot.open(path: storeOption.path)
            try loaded.checkRollupsNeedNoBackfill(existing)
        }
        storeOpts.commitParticipant = loaded.rollupParticipant()
        for s in skipped { printError("tacho ingest: skipping \(escapedForLog(s.path)): \(s.why)") }
        guard !files.isEmpty else {
            // An empty inbox is normal for a cron job: say so (unless -q), succeed.
            if !log.quiet { printError("tacho ingest: nothing to ingest: no input files in \(escapedForLog(paths.joined(separator: " ")))") }
            return
        }
        let writer = try openWriter(storeOption.path, options: storeOpts, command: "ingest")
        defer { writer.close() }
        var readerOpts = ReaderOptions(lenient: lenient)
        readerOpts.layouts = try loaded.layouts(catalog: writer.catalog)
        readerOpts.lineProtocol = lineInput
        let ingestor = Ingestor(writer: writer, options: readerOpts, logger: logger)
        ingestor.ignoreLedger = force
        // Replay in commit order, not name order: a correction must land after what it corrects.
        let ordered = force ? ingestor.replayOrder(files) : files
        if commitPerFile { ingestor.grouping = .perFile(streamAbove: ingestor.grouping.streamAbove) }
        let rejects = rejected.map { RejectFiles(directory: $0) }
        var bad = false
        var total = 0
        var superseded = 0
        let progress = ProgressLine(total: files.count, quiet: log.quiet)
        let quiet = log.quiet
        var done = 0
        // Files are parsed ahead on every core while the writer commits them in order.
        try ingestor.ingest(paths: ordered) { r in
            // Every line below names the file: escaped, so a name cannot forge a line.
            let path = escapedForLog(r.path)
            done += 1
            total += r.rows
            if case .ingested(let rep) = r.outcome { superseded += rep.superseded }
            let ms = String(format1: r.milliseconds)
            progress.advance(to: done)
            // The bar is erased while this file's lines print (they never share its line).
            try progress.around {
                switch r.outcome {
                case .ingested(let rep):
                    let superseded = rep.superseded > 0 ? " (\(rep.superseded) superseded within the file)" : ""
                    if !quiet { print("\(path): \(rep.rows) rows\(superseded), \(rep.rejectCount) rejects, \(rep.repairCount) repairs, \(ms) ms") }
                    for w in rep.repairs { printError("\(path): \(w)") }
                    for w in rep.warnings { printError("\(path): warning: \(w)") }
                    for j in rep.rejects.prefix(20) {
                        printError("\(path):\(j.line):\(j.column): rejected record \(j.index): \(j.reason)")
                    }
                    if rep.rejectCount > 20 { printError("\(path): … \(rep.rejectCount - 20) more rejected records") }
                    if rep.rejectCount > 0 {
                        bad = true
                        try rejects?.writeRecordRejects(for: r.path, rep.rejects)
                    }
                case .duplicate(_, let prior):
                    if !quiet { print("\(path): duplicate of \(escapedForLog(prior.name)) (already ingested), skipped") }
                case .rejected(let e):
                    bad = true
                    if !quiet { print("\(path): REJECTED: \(e)") }
                    printError("tacho ingest: \(e)")
                    try rejects?.writeFileError(for: r.path, e)
                }
            }
        }
        progress.finish()
        logger.info("ingest done", metadata: ["files": "\(files.count)", "rows": "\(total)", "superseded_within_files": "\(superseded)"])
        if bad { throw ExitCode(1) }
    }
}
