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

/// Ingests files into a store, one atomic commit per file: the rows of a file and its
/// ledger entry become visible together, or (on any error) not at all.
///
/// Parsing runs beside the writer: a single file is parsed on another thread while the
/// writer appends, seals and syncs (`TelemetryReader.readStreaming`); a list of files is
/// parsed and sealed ahead on `parseThreads` threads, small files whole, while the writer
/// writes, syncs and commits them one by one in order.
public final class Ingestor {
    public let writer: StoreWriter
    public let reader: TelemetryReader
    let logger: Logger
    /// Threads parsing ahead in `ingest(paths:each:)`. Default: the number of online CPUs.
    public var parseThreads = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Files at most this large are parsed whole ahead of the writer; larger ones are streamed
    /// when their turn comes (bounded memory). Default 8 MiB.
    public var wholeFileBytes: UInt64 = 8 << 20
    /// Files parsed ahead of the one being committed, at most. Default 4.
    public var parseAhead = 4
    /// Batches waiting between a streaming parser and the writer, at most. Default 8 (of
    /// 16,384 rows: about 3 MiB of detection rows).
    public var streamDepth = 8

    public init(writer: StoreWriter, options: ReaderOptions = ReaderOptions(), logger: Logger) {
        self.writer = writer
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
        return try commit(path, report, start: start)
    }

    /// Ingests `paths` in order, one commit per file, calling `each` with every result as
    /// soon as its file is committed (or found a duplicate, or rejected). What `ingest(path:)`
    /// throws for a file is thrown when its turn comes, after the files before it.
    public func ingest(paths: [String], each: (IngestResult) throws -> Void) throws {
        guard paths.count > 1 else {
            for p in paths { try each(try ingest(path: p)) }
            return
        }
        let ahead = ParseAhead(
            paths: paths, reader: reader, sealing: writer.sealParameters, threads: min(parseThreads, paths.count),
            window: max(1, parseAhead), wholeFileBytes: wholeFileBytes)
        defer { ahead.stop() }
        for (i, path) in paths.enumerated() {
            let result: IngestResult
            switch ahead.take(i) {
            case .stream:
                result = try ingest(path: path)
            case .parsed(.ok(let report, let sealed), let parseMs):
                let start = monotonicNanos()
                if !isDuplicate(report) {
                    do {
                        try writer.append(sealed)
                    } catch {
                        writer.abort()
                        throw error
                    }
                }
                let r = try commit(path, report, start: start)
                result = IngestResult(path: path, outcome: r.outcome, milliseconds: r.milliseconds + parseMs)
            case .parsed(.rejected(let e), let parseMs):
                result = IngestResult(path: path, outcome: .rejected(e), milliseconds: parseMs)
            case .parsed(.unreadable(let error), _):
                throw error
            }
            ahead.release()
            try each(result)
        }
    }

    private func isDuplicate(_ report: FileReport) -> Bool {
        if let prior = writer.ledgerEntry(for: report.hash), prior.size == report.size { return true }
        return false
    }

    /// Commits the appended rows of a parsed file with its ledger entry, or discards them when
    /// the file is a re-delivery.
    private func commit(_ path: String, _ report: FileReport, start: UInt64) throws -> IngestResult {
        if let prior = writer.ledgerEntry(for: report.hash), prior.size == report.size {
            writer.abort()
            return IngestResult(path: path, outcome: .duplicate(report, of: prior), milliseconds: elapsedMs(since: start))
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let entry = LedgerEntry(name: name, size: report.size, hash: report.hash, rows: report.rows, ingestedAt: wallClockMicros())
        try writer.commit(ledger: [entry])
        return IngestResult(path: path, outcome: .ingested(report), milliseconds: elapsedMs(since: start))
    }
}

/// Parses files ahead of the writer on a few threads, and seals their rows into segment
/// bodies there too (`StoreWriter.seal`), leaving the writer to number, write and sync them.
/// File i is claimed only when fewer than `window` files before it are still waiting for the
/// writer, so memory stays bounded. Files larger than `wholeFileBytes` are not parsed here
/// but handed back for streaming.
final class ParseAhead: Sendable {
    enum Parsed: Sendable {
        case ok(FileReport, SealedRows)
        case rejected(FileError)
        case unreadable(any Error)
    }

    enum Item: Sendable {
        case parsed(Parsed, milliseconds: Double)
        case stream
    }

    private let paths: [String]
    private let slots: Mutex<[Item?]>
    private let ready: [DispatchSemaphore]
    private let window: DispatchSemaphore
    private let next = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private let group = DispatchGroup()
    private let threads: Int

    init(paths: [String], reader: TelemetryReader, sealing: SealParameters, threads: Int, window: Int, wholeFileBytes: UInt64) {
        self.paths = paths
        self.threads = threads
        slots = Mutex(Array(repeating: nil, count: paths.count))
        ready = paths.map { _ in DispatchSemaphore(value: 0) }
        self.window = countingSemaphore(window)
        for _ in 0..<threads {
            DispatchQueue.global(qos: .userInitiated).async(group: group) { [self] in
                work(reader, sealing, wholeFileBytes)
            }
        }
    }

    private func work(_ reader: TelemetryReader, _ sealing: SealParameters, _ wholeFileBytes: UInt64) {
        while true {
            window.wait()
            let i = stopped.load(ordering: .relaxed) ? paths.count : next.add(1, ordering: .relaxed).oldValue
            guard i < paths.count else {
                window.signal()  // wake the next waiting worker so it sees the end too
                return
            }
            let item: Item
            if case .file(_, let size, _) = InputFiles.stat(paths[i]), size > wholeFileBytes {
                item = .stream
            } else {
                let start = monotonicNanos()
                var batches: [RowBatch] = []
                let parsed: Parsed
                do {
                    let report = try reader.read(path: paths[i]) { batches.append($0) }
                    parsed = .ok(report, try StoreWriter.seal(batches, sealing))
                } catch let e as FileError {
                    parsed = .rejected(e)
                } catch {
                    parsed = .unreadable(error)
                }
                item = .parsed(parsed, milliseconds: elapsedMs(since: start))
            }
            slots.withLock { $0[i] = item }
            ready[i].signal()
        }
    }

    /// Waits for file `i`, taken in order.
    func take(_ i: Int) -> Item {
        ready[i].wait()
        return slots.withLock { s in
            defer { s[i] = nil }
            return s[i]!
        }
    }

    /// The writer is done with the file last taken: another may be parsed ahead.
    func release() { window.signal() }

    /// Stops claiming files and waits for the workers (one may finish the file it parses).
    func stop() {
        stopped.store(true, ordering: .relaxed)
        window.signal()
        group.wait()
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
