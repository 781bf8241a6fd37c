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
        options.partitionWidth = writer.manifest.partitionWidth
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
        rep.superseded = try commitRows(ledger: [report.ledgerEntry(path)]).superseded[0]
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

    /// Publishes a group prepared by `ParseAhead` with one commit, then reports its files.
    private func commit(_ g: PreparedGroup, paths: [String], each: (IngestResult) throws -> Void) throws {
        let start = monotonicNanos()
        var files = g.files
        // Files committed earlier in this run are in the writer's ledger but were not in the
        // copy the group was checked against: then seal again without them, here.
        let stale = files.contains { if case .ok(let rep) = $0 { return duplicate(of: rep) != nil } else { return false } }
        do {
            if stale {
                files = try appendAgain(files, paths: paths)
            } else {
                try writer.append(g.sealed.get())
            }
        } catch {
            writer.abort()
            throw error
        }
        let entries = zip(paths, files).compactMap { p, f -> LedgerEntry? in
            if case .ok(let rep) = f { return rep.ledgerEntry(p) }
            return nil
        }
        // Each file's batches carry its place in the group as their source (`ParseAhead.seal`,
        // `appendAgain`): the commit tells how many of each file's rows another of its own
        // rows superseded.
        let superseded = entries.isEmpty ? SupersededRows() : try commitRows(ledger: entries).superseded
        let share = elapsedMs(since: start) / Double(max(entries.count, 1))
        for (k, f) in files.enumerated() {
            let ms = g.milliseconds[k]
            switch f {
            case .ok(var rep):
                rep.superseded = superseded[Int32(k)]
                try each(IngestResult(path: paths[k], outcome: .ingested(rep), milliseconds: ms + share))
            case .duplicate(let rep, let prior): try each(IngestResult(path: paths[k], outcome: .duplicate(rep, of: prior), milliseconds: ms))
            case .rejected(let e): try each(IngestResult(path: paths[k], outcome: .rejected(e), milliseconds: ms))
            case .unreadable(let error): throw error
            }
        }
    }

    /// The slow path of `commit` (rare: the same content twice in one run, in different
    /// groups): reads the group's files again on this thread and appends those that are new.
    private func appendAgain(_ files: [FileResult], paths: [String]) throws -> [FileResult] {
        var out: [FileResult] = []
        var inGroup: [ContentHash: LedgerEntry] = [:]
        again: for (k, f) in files.enumerated() {
            if case .duplicate(let rep, let prior) = f {
                // Its original may itself have turned out a re-delivery: name the file ingested.
                out.append(.duplicate(rep, of: duplicate(of: rep) ?? inGroup[rep.hash] ?? prior))
                continue
            }
            guard case .ok = f else {
                out.append(f)
                continue
            }
            let rep: FileReport, batches: [RowBatch]
            switch reader.readWhole(path: paths[k]) {
            case .ok(let r, let b): (rep, batches) = (r, b)
            case .rejected(let e):
                out.append(.rejected(e))
                continue
            case .unreadable(let error):
                out.append(.unreadable(error))
                break again
            }
            if let prior = duplicate(of: rep) ?? inGroup[rep.hash].flatMap({ $0.size == rep.size ? $0 : nil }) {
                out.append(.duplicate(rep, of: prior))
                continue
            }
            for var b in batches {
                b.source = Int32(k)
                try writer.append(b)
            }
            inGroup[rep.hash] = rep.ledgerEntry(paths[k])
            out.append(.ok(rep))
        }
        return out
    }

    /// The ledger entry of an ingested file with the same content, if any (with
    /// `ignoreLedger`: of one committed by this ingestor).
    private func duplicate(of report: FileReport) -> LedgerEntry? {
        let prior = ignoreLedger ? committed[report.hash] : writer.ledgerEntry(for: report.hash)
        if let prior, prior.size == report.size { return prior }
        return nil
    }

    private func commitRows(ledger entries: [LedgerEntry]) throws -> CommitSummary {
        let summary = try writer.commit(ledger: entries)
        for e in entries { committed[e.hash] = e }
        return summary
    }
}

/// How one file of a group ended, as far as parsing (and the ledger copy) can tell.
enum FileResult: Sendable {
    case ok(FileReport)
    case duplicate(FileReport, of: LedgerEntry)
    case rejected(FileError)
    /// The group ends here: the files after it are not reported.
    case unreadable(any Error)
}

/// A group parsed and sealed ahead of the writer.
struct PreparedGroup: Sendable {
    /// In input order, up to and including the first unreadable file.
    var files: [FileResult]
    /// The rows of the `.ok` files, sealed into segment bodies.
    var sealed: Result<SealedRows, any Error>
    /// Parse time of each file.
    var milliseconds: [Double]
}

/// Parses files ahead of the writer on a few threads, and seals each group's rows into
/// segment bodies there too (`StoreWriter.seal`), leaving the writer to number, write and
/// sync them. Files are claimed one by one, so the files of one group parse in parallel; the
/// thread finishing a group's last file seals it. A file of commit unit u is claimed only
/// when fewer than `window` units up to u are waiting for the writer, so memory stays
/// bounded. Streamed units are handed back to the writer unparsed.
final class ParseAhead: Sendable {
    enum Item: Sendable {
        case stream
        case group(PreparedGroup)
    }

    private struct Pending: Sendable {
        var remaining: Int
        var parsed: [ParsedFile?]
        var milliseconds: [Double]
    }

    private struct Claims: Sendable {
        var next = 0
        /// Units whose files may be claimed: permits taken from `window` so far.
        var permitted = 0
    }

    private let paths: [String]
    private let units: [CommitGrouping.Unit]
    private let unitOf: [Int]
    private let ledger: [ContentHash: LedgerEntry]
    private let claims = Mutex(Claims())
    private let pending: Mutex<[Pending]>
    private let items: Mutex<[Item?]>
    private let ready: [DispatchSemaphore]
    private let window: DispatchSemaphore
    private let stopped = Atomic<Bool>(false)
    private let group = DispatchGroup()

    init(
        paths: [String], units: [CommitGrouping.Unit], reader: TelemetryReader, sealing: SealParameters,
        ledger: [ContentHash: LedgerEntry], threads: Int, window: Int
    ) {
        self.paths = paths
        self.units = units
        self.ledger = ledger
        var unitOf = Array(repeating: 0, count: paths.count)
        for (u, unit) in units.enumerated() { for i in unit.files { unitOf[i] = u } }
        self.unitOf = unitOf
        pending = Mutex(units.map { Pending(remaining: $0.files.count, parsed: Array(repeating: nil, count: $0.files.count), milliseconds: Array(repeating: 0, count: $0.files.count)) })
        items = Mutex(Array(repeating: nil, count: units.count))
        ready = units.map { _ in DispatchSemaphore(value: 0) }
        self.window = countingSemaphore(window)
        for _ in 0..<threads {
            group.enter()
            // Own threads, not the dispatch pool: they block on the window while the writer
            // streams a large file, whose parser and read-ahead threads must not wait for them.
            spawnThread { [self] in
                work(reader, sealing)
                group.leave()
            }
        }
    }

    /// The next file to parse, once its unit is within the window; nil when done or stopped.
    private func claim() -> Int? {
        while true {
            enum Next { case file(Int), permit, done }
            let next: Next = claims.withLock { c in
                if stopped.load(ordering: .relaxed) || c.next >= paths.count { return .done }
                guard unitOf[c.next] < c.permitted else { return .permit }
                c.next += 1
                return .file(c.next - 1)
            }
            switch next {
            case .file(let i): return i
            case .done:
                window.signal()  // wake the next waiting worker so it sees the end too
                return nil
            case .permit:
                window.wait()
                claims.withLock { $0.permitted += 1 }
            }
        }
    }

    private func work(_ reader: TelemetryReader, _ sealing: SealParameters) {
        while let i = claim() {
            let u = unitOf[i]
            guard case .group(let files) = units[u] else {
                publish(u, .stream)
                continue
            }
            // The parse result is a temporary of this call: after it, `group` holds the
            // group's only references to its rows, which sealing frees as it goes.
            var group: [ParsedFile] = []
            var milliseconds: [Double] = []
            let complete = record(parse(reader, paths[i]), file: i - files.lowerBound, unit: u, group: &group, milliseconds: &milliseconds)
            if complete {
                publish(u, .group(seal(&group, files: files, milliseconds: milliseconds, sealing)))
            }
        }
    }

    private func parse(_ reader: TelemetryReader, _ path: String) -> (ParsedFile, milliseconds: Double) {
        let start = monotonicNanos()
        let parsed = reader.readWhole(path: path)
        return (parsed, elapsedMs(since: start))
    }

    /// Stores file `k`'s result in its unit; returns true (with the unit's results moved into
    /// `group`) when it was the unit's last file.
    private func record(
        _ result: (ParsedFile, milliseconds: Double), file k: Int, unit u: Int, group: inout [ParsedFile], milliseconds: inout [Double]
    ) -> Bool {
        pending.withLock { p in
            p[u].parsed[k] = result.0
            p[u].milliseconds[k] = result.milliseconds
            p[u].remaining -= 1
            guard p[u].remaining == 0 else { return false }
            group = p[u].parsed.compactMap { $0 }
            milliseconds = p[u].milliseconds
            p[u].parsed = []
            return true
        }
    }

    /// Decides each file of a complete group (rejected, duplicate of the ledger or of an
    /// earlier file of the group, or new) and seals the new files' rows together.
    /// Empties `parsed`, so that the rows' memory goes as they are sealed.
    private func seal(_ parsed: inout [ParsedFile], files: Range<Int>, milliseconds: [Double], _ sealing: SealParameters) -> PreparedGroup {
        var results: [FileResult] = []
        var rows: [RowBatch] = []
        var inGroup: [ContentHash: LedgerEntry] = [:]
        scan: for (k, p) in parsed.enumerated() {
            switch p {
            case .unreadable(let e):
                results.append(.unreadable(e))
                break scan
            case .rejected(let e):
                results.append(.rejected(e))
            case .ok(let rep, let batches):
                if let prior = ledger[rep.hash] ?? inGroup[rep.hash], prior.size == rep.size {
                    results.append(.duplicate(rep, of: prior))
                    continue
                }
                inGroup[rep.hash] = rep.ledgerEntry(paths[files.lowerBound + k], ingestedAt: 0)
                results.append(.ok(rep))
                for var b in batches {
                    b.source = Int32(k)  // the file's place in the group, as `commit` reads it back
                    rows.append(b)
                }
            }
        }
        parsed = []  // `rows` holds the only references now
        let sealed = Result { try StoreWriter.seal(&rows, sealing) }
        return PreparedGroup(files: results, sealed: sealed, milliseconds: milliseconds)
    }

    private func publish(_ u: Int, _ item: Item) {
        items.withLock { $0[u] = item }
        ready[u].signal()
    }

    /// Waits for unit `u`, taken in order.
    func take(_ u: Int) -> Item {
        ready[u].wait()
        let item = items.withLock { s in
            defer { s[u] = nil }
            return s[u]
        }
        guard let item else { preconditionFailure("ParseAhead: unit \(u) signalled ready without an item") }
        return item
    }

    /// The writer is done with the unit last taken: another may be prepared ahead.
    func release() { window.signal() }

    /// Stops claiming files and waits for the workers (each may finish the file it parses).
    func stop() {
        stopped.store(true, ordering: .relaxed)
        window.signal()
        group.wait()
    }
}

extension FileReport {
    /// The ledger entry recording this file, named after `path`, as ingested.
    func ledgerEntry(_ path: String, ingestedAt: Int64 = wallClockMicros()) -> LedgerEntry {
        LedgerEntry(name: baseName(path), size: size, hash: hash, rows: rows, ingestedAt: ingestedAt)
    }
}

public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

public func elapsedMs(since start: UInt64) -> Double {
    Double(monotonicNanos() - start) / 1_000_000
}

public func wallClockMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}
