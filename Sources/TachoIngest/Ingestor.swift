import Dispatch
import Logging
import Synchronization
import TachoFormat
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// How one input file ended.
public enum IngestOutcome: Sendable {
    /// Its rows are committed (durable and visible).
    case ingested(FileReport)
    /// Same content as a file already in the ledger: nothing written.
    case duplicate(FileReport, of: LedgerEntry)
    /// It cannot be parsed: nothing written.
    case rejected(FileError)
}

public struct IngestResult: Sendable {
    public var path: String
    public var outcome: IngestOutcome
    public var milliseconds: Double

    public var rows: Int {
        if case .ingested(let r) = outcome { return r.rows }
        return 0
    }
}

/// Ingests files into a store. Every file is all-or-nothing: its rows and its ledger entry
/// become visible together, or (on any error) not at all.
///
/// A list of files is committed in groups (`grouping`): consecutive small files are parsed
/// on `parseThreads` threads, sealed together into one segment per partition there, and
/// published by one commit, so a directory of small files gives long per-vehicle chunks and
/// one fsync'd switch per group instead of per file. A file larger than
/// `grouping.streamAbove` is streamed in a commit of its own: parsed on another thread while
/// the writer appends, seals and syncs (`TelemetryReader.readStreaming`), bounded memory.
public final class Ingestor {
    public let writer: StoreWriter
    public let reader: TelemetryReader
    let logger: Logger
    /// Threads parsing ahead in `ingest(paths:each:)`. Default: the number of online CPUs.
    public var parseThreads = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// How `ingest(paths:each:)` batches files into commits. Default: up to 64 files and
    /// 16 MiB of input per commit; files above 8 MiB streamed alone.
    /// `CommitGrouping.perFile()` commits every file on its own.
    public var grouping = CommitGrouping(streamAbove: 8 << 20)
    /// Commits (groups or streamed files) prepared ahead of the one being written, at most.
    /// Bounds memory: each holds up to `grouping.maxBytes` of input parsed into rows until it
    /// is sealed. Default 2.
    public var parseAhead = 2
    /// Batches waiting between a streaming parser and the writer, at most. Default 8 (of
    /// 16,384 rows: about 3 MiB of detection rows).
    public var streamDepth = 8
    /// Ingest files whose content the store's ledger already lists (to restore rows that
    /// `tacho verify --repair` quarantined, from the original files). Their rows replace
    /// themselves by identity. The same content twice in one run is still ingested once.
    public var ignoreLedger = false
    /// Files committed by this ingestor: re-deliveries within one run, also with `ignoreLedger`.
    private var committed: [ContentHash: LedgerEntry] = [:]

    public init(writer: StoreWriter, options: ReaderOptions = ReaderOptions(), logger: Logger) {
        self.writer = writer
        var options = options
        // The watermarks cannot rise during one ingest (retention runs under the writer this
        // ingestor holds, and it runs none), so the reader rejects expired rows by them.
        options.expiredBefore = writer.manifest.watermarks
        options.hashAlgorithm = writer.hashAlgorithm
        options.partitionWidth = writer.manifest.partitionWidth
        options.files = writer.environment.files
        reader = TelemetryReader(options: options)
        self.logger = logger
    }

    /// Parses `path`, streaming its rows into the writer, and commits them with the file's
    /// ledger entry. Store errors (I/O) are thrown; input errors are outcomes.
    public func ingest(path: String) throws -> IngestResult {
        let start = monotonicNanos()
        let report: FileReport
        do {
            report = try reader.readStreaming(path: path, depth: streamDepth) { try writer.append($0) }
        } catch let e as FileError {
            writer.abort()
            return IngestResult(path: path, outcome: .rejected(e), milliseconds: elapsedMs(since: start))
        } catch {
            writer.abort()
            throw error
        }
        if let prior = duplicate(of: report) {
            writer.abort()
            return IngestResult(path: path, outcome: .duplicate(report, of: prior), milliseconds: elapsedMs(since: start))
        }
        var rep = report
        rep.superseded = try commitRows(ledger: [report.ledgerEntry(path, ingestedAt: writer.environment.clock.wallMicros())]).superseded[0]
        return IngestResult(path: path, outcome: .ingested(rep), milliseconds: elapsedMs(since: start))
    }

    /// Ingests `paths` in order, in the commits `grouping` plans, calling `each` with every
    /// file's result, in input order, as soon as its commit is durable (or the file was found
    /// a duplicate, or rejected). A file that cannot be read at all (`InputReadError`, …) is
    /// thrown when its turn comes, after the files before it are committed and reported.
    public func ingest(paths: [String], each: (IngestResult) throws -> Void) throws {
        guard paths.count > 1 else {
            for p in paths { try each(try ingest(path: p)) }
            return
        }
        let units = grouping.plan(sizes: paths.map(CommitGrouping.size(of:)))
        let ahead = ParseAhead(
            paths: paths, units: units, reader: reader, sealing: writer.sealParameters, ledger: ignoreLedger ? committed : writer.ledger,
            threads: min(parseThreads, paths.count), window: max(1, parseAhead))
        defer { ahead.stop() }
        for (u, unit) in units.enumerated() {
            switch ahead.take(u) {
            case .stream:
                try each(try ingest(path: paths[unit.files.lowerBound]))
            case .group(let prepared):
                try commit(prepared, paths: Array(paths[unit.files]), each: each)
            }
            ahead.release()
        }
    }

    /// Publishes a group prepared by `ParseAhead` with one commit (`GroupCommit`), then
    /// reports its files.
    private func commit(_ g: PreparedGroup, paths: [String], each: (IngestResult) throws -> Void) throws {
        let start = monotonicNanos()
        let published = try GroupCommit(writer: writer, reader: reader, ingested: duplicate(of:)).publish(g, paths: paths)
        for e in published.entries { committed[e.hash] = e }
        let share = elapsedMs(since: start) / Double(max(published.entries.count, 1))
        for (k, f) in published.files.enumerated() {
            let ms = g.milliseconds[k]
            switch f {
            case .ok(let rep): try each(IngestResult(path: paths[k], outcome: .ingested(rep), milliseconds: ms + share))
            case .duplicate(let rep, let prior): try each(IngestResult(path: paths[k], outcome: .duplicate(rep, of: prior), milliseconds: ms))
            case .rejected(let e): try each(IngestResult(path: paths[k], outcome: .rejected(e), milliseconds: ms))
            case .unreadable(let error): throw error
            }
        }
    }

    /// The ledger entry of an ingested file with the same content, if any (with
    /// `ignoreLedger`: of one committed by this ingestor).
    private func duplicate(of report: FileReport) -> LedgerEntry? {
        report.redelivery(of: ignoreLedger ? committed[report.hash] : writer.ledgerEntry(for: report.hash))
    }

    private func commitRows(ledger entries: [LedgerEntry]) throws -> CommitSummary {
        let summary = try writer.commit(ledger: entries)
        for e in entries { committed[e.hash] = e }
        return summary
    }
}

extension FileReport {
    /// The ledger entry recording this file, named after `path`, as ingested.
    func ledgerEntry(_ path: String, ingestedAt: Int64) -> LedgerEntry {
        LedgerEntry(name: baseName(path), size: size, hash: hash, rows: rows, ingestedAt: ingestedAt)
    }
}
