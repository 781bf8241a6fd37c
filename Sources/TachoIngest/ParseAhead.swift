import Dispatch
import Synchronization
import TachoStore

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
    /// In input order; with `unreadableEndsGroup`, up to and including the first unreadable
    /// file.
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
///
/// `tacho ingest` (`Ingestor`) and `tacho run` (`InboxDaemon`) both prepare their groups here
/// and publish them with `GroupCommit`.
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
    private let unreadableEndsGroup: Bool
    private let claims = Mutex(Claims())
    private let pending: Mutex<[Pending]>
    private let items: Mutex<[Item?]>
    private let ready: [DispatchSemaphore]
    private let window: DispatchSemaphore
    private let stopped = Atomic<Bool>(false)
    private let group = DispatchGroup()

    init(
        paths: [String], units: [CommitGrouping.Unit], reader: TelemetryReader, sealing: SealParameters,
        ledger: [ContentHash: LedgerEntry], threads: Int, window: Int, unreadableEndsGroup: Bool = true
    ) {
        self.paths = paths
        self.units = units
        self.ledger = ledger
        self.unreadableEndsGroup = unreadableEndsGroup
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
    /// earlier file of the group, or new) and seals the new files' rows together. An
    /// unreadable file ends the group (`tacho ingest` throws there) or, for the daemon, which
    /// retries it later, is only reported.
    /// Empties `parsed`, so that the rows' memory goes as they are sealed.
    private func seal(_ parsed: inout [ParsedFile], files: Range<Int>, milliseconds: [Double], _ sealing: SealParameters) -> PreparedGroup {
        var results: [FileResult] = []
        var rows: [RowBatch] = []
        var inGroup: [ContentHash: LedgerEntry] = [:]
        scan: for (k, p) in parsed.enumerated() {
            switch p {
            case .unreadable(let e):
                results.append(.unreadable(e))
                if unreadableEndsGroup { break scan }
            case .rejected(let e):
                results.append(.rejected(e))
            case .ok(let rep, let batches):
                if let prior = rep.redelivery(of: ledger[rep.hash], inGroup[rep.hash]) {
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

