import Logging
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
public final class Ingestor {
    public let writer: StoreWriter
    public let reader: TelemetryReader
    let logger: Logger

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
            report = try reader.read(path: path) { try writer.append($0) }
        } catch let e as FileError {
            writer.abort()
            return IngestResult(path: path, outcome: .rejected(e), milliseconds: elapsedMs(since: start))
        } catch {
            writer.abort()
            throw error
        }
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
