import TachoFormat
import TachoJSON
import TachoStore

/// A file's bytes for the parser, hashed on the way, so the ledger hash costs no second pass.
protocol HashingByteSource: JSONByteSource {
    /// The hash of everything read so far (all of the file once the parser saw its end).
    var hasher: ContentHasher { get }
    /// Stops any work on the file's behalf; called once, when parsing ends.
    func close()
}

/// A byte source that hashes what it reads, on the parser's thread.
final class HashingSource: HashingByteSource {
    let inner: FileDescriptorSource
    var hasher = ContentHasher()

    init(_ inner: FileDescriptorSource) { self.inner = inner }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }

    func close() {}
}

/// Reads telemetry files (both detection layouts, and status files) with the streaming JSON
/// parser and hands validated rows to a sink in batches. Memory is bounded by one batch,
/// whatever the file's size.
public struct TelemetryReader: Sendable {
    public let options: ReaderOptions

    public init(options: ReaderOptions = ReaderOptions()) {
        self.options = options
    }

    /// Reads the file at `path`. Rows go to `sink` in batches; a `FileError` means the file
    /// cannot be ingested (and the caller must discard the rows already sunk).
    public func read(path: String, sink: (RowBatch) throws -> Void) throws -> FileReport {
        try read(path: path, readAhead: false, sink: sink)
    }

    /// `read(path:sink:)`; with `readAhead`, another thread reads and hashes the next chunks
    /// while this one parses (for large files, where the parser is the slowest stage).
    func read(
        path: String, readAhead: Bool, recycled: (() -> RowBatch?)? = nil, sink: (RowBatch) throws -> Void
    ) throws -> FileReport {
        let fileSource: FileDescriptorSource
        do {
            fileSource = try FileDescriptorSource(path: path)
        } catch {
            throw InputReadError(path: path, message: "\(error)")
        }
        let source: any HashingByteSource = readAhead ? ReadAheadSource(fileSource) : HashingSource(fileSource)
        defer { source.close() }
        let parse = FileParse(
            path: path, parser: JSONParser(source: source, options: JSONParserOptions(lenient: options.lenient)),
            options: options)
        parse.recycled = recycled
        var partitions = PartitionCounter(width: options.partitionWidth)
        let limit = options.maxPartitionsPerFile
        do {
            if limit > 0 {
                try parse.readDocument { batch in
                    partitions.add(batch.times)
                    // Over the limit the file is rejected: keep parsing only to count.
                    if partitions.count <= limit { try sink(batch) }
                }
            } else {
                try parse.readDocument(sink: sink)
            }
        } catch let e as JSONError where e.kind == .io {
            // The input could not be read (EIO, …): not the file's fault; it stays in the inbox.
            throw InputReadError(path: path, message: e.message)
        } catch let e as JSONError {
            throw FileError(
                path: path, line: e.line, column: e.column, offset: e.offset, message: e.message,
                truncated: e.kind == .truncated || e.kind == .emptyInput)
        }
        if limit > 0 && partitions.count > limit {
            throw FileError(
                path: path,
                message: "rows fall into \(partitions.count) partitions of \(partitions.widthLabel), more than the \(limit) one file may create; split the file (or check its timestamps)")
        }
        var report = parse.report
        report.size = source.hasher.length
        report.hash = source.hasher.finish()
        report.repairCount = parse.report.repairCount + parse.parser.repairCount
        report.repairs += parse.parser.drainRepairs().map(\.description)
        return report
    }
}

/// Distinct partitions of the times seen (per measurement alike: a file holds one).
struct PartitionCounter {
    let width: Int64
    private var seen = Set<Int64>()
    /// The partition of the last row, [lo, hi): rows mostly stay in it, so most rows cost
    /// two compares and no division.
    private var lo = Int64.max, hi = Int64.min

    init(width: Int64) { self.width = max(1, width) }

    var count: Int { seen.count }

    mutating func add(_ times: [Int64]) {
        for t in times where t < lo || t >= hi {
            let q = t / width
            let p = q * width > t ? q - 1 : q  // floor
            seen.insert(p)
            lo = p &* width
            let (end, o) = lo.addingReportingOverflow(width)
            hi = o ? .max : end
        }
    }

    var widthLabel: String {
        let s = width / 1_000_000
        if width % 86_400_000_000 == 0 { return "\(s / 86_400)d" }
        if width % 3_600_000_000 == 0 { return "\(s / 3_600)h" }
        return "\(width) µs"
    }
}

/// The outcome of parsing one file fully into memory (a file of a commit group).
enum ParsedFile: Sendable {
    case ok(FileReport, [RowBatch])
    case rejected(FileError)
    case unreadable(any Error)
}

extension TelemetryReader {
    /// Reads the file at `path` completely, its rows kept in memory: the per-file step of
    /// both group parsers (`ParseAhead`, `InboxDaemon.parseAll`).
    func readWhole(path: String) -> ParsedFile {
        var batches: [RowBatch] = []
        do {
            let report = try read(path: path) { batches.append($0) }
            return .ok(report, batches)
        } catch let e as FileError {
            return .rejected(e)
        } catch {
            return .unreadable(error)
        }
    }
}

/// The state of reading one file.
///
/// Mutable state is `@exclusivity(unchecked)` (as in `JSONParser`): one thread reads a file,
/// and no method lends inout access to these properties across a call that could touch them
/// again, so the runtime's dynamic exclusivity checks (a few percent of ingest) cannot fire.
final class FileParse {
    let parser: JSONParser
    let options: ReaderOptions
    /// The rows read since the last flush, column by column: the next batch's vehicles,
    /// times, first column (object_type or status ids) and second (object_value). Separate
    /// arrays, not a RowBatch's nested columns, so each append checks one array.
    @exclusivity(unchecked) var vehicles: [UInt32] = []
    @exclusivity(unchecked) var times: [Int64] = []
    @exclusivity(unchecked) var labels: [UInt32] = []
    @exclusivity(unchecked) var values: [Int64] = []
    @exclusivity(unchecked) var measurement = Measurement.detections
    @exclusivity(unchecked) var interner = ByteInterner()
    @exclusivity(unchecked) var report: FileReport
    @exclusivity(unchecked) var kind: TelemetryKind = .detections
    /// The current measurement's retention watermark (`ReaderOptions.expiredBefore`).
    @exclusivity(unchecked) var expiredBefore: Int64 = .min
    let guessed: TelemetryKind?
    /// A batch the sink is done with, if any, to fill next (see `flush`).
    var recycled: (() -> RowBatch?)?

    init(path: String, parser: JSONParser, options: ReaderOptions) {
        self.parser = parser
        self.options = options
        report = FileReport(path: path)
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        guessed = TelemetryKind.fromFileName(fileName)
    }

    func fail(_ message: String) -> FileError {
        let p = parser.position
        return FileError(path: report.path, line: p.line, column: p.column, offset: p.offset, message: message)
    }

    /// Reads the top-level object. Every known array is read as its kind, whatever the file
    /// name says (a detection file that also carries `vehicle_status` loses neither); the
    /// rows read so far are handed on when the kind changes, as a batch holds one
    /// measurement. The file name's kind, when it has one, must be present; without one, at
    /// least one known array must be. Other keys are skipped with a warning.
    func readDocument(sink: (RowBatch) throws -> Void) throws {
        guard try parser.next() == .beginObject else {
            throw fail("expected a JSON object at the top level")
        }
        var found: [TelemetryKind] = []
        while true {
            let t = try parser.next()
            if t == .endObject { break }
            guard t == .key else { throw fail("expected a key") }
            if let k = TelemetryKind.allCases.first(where: { parser.keyEquals($0.arrayKey) }) {
                if found.isEmpty || k != kind {
                    try flush(sink)
                    kind = k
                    startBatch()
                }
                if !found.contains(k) { found.append(k) }
                try readEvents(sink: sink)
            } else {
                let p = parser.position
                report.warnings.append("line \(p.line), column \(p.column): skipped unknown top-level key \(jsonQuoted(parser.stringValue))")
                try parser.skipValue()
            }
        }
        guard try parser.next() == .endOfDocument else { throw fail("expected end of document") }
        if let guessed, !found.contains(guessed) {
            throw FileError(path: report.path, message: "no \"\(guessed.arrayKey)\" array found")
        }
        guard let first = found.first else {
            let want = TelemetryKind.allCases.map { "\"\($0.arrayKey)\"" }.joined(separator: " or ")
            throw FileError(path: report.path, message: "no \(want) array found")
        }
        report.kind = guessed ?? first
        report.kinds = found
        try flush(sink)
    }

    private func startBatch() {
        measurement = kind.measurement
        expiredBefore = options.expiredBefore[measurement.id] ?? .min
        reserveRows()
    }

    private func reserveRows() {
        let n = options.batchRows
        vehicles.reserveCapacity(n)
        times.reserveCapacity(n)
        labels.reserveCapacity(n)
        if measurement.columns.count > 1 { values.reserveCapacity(n) }
    }

    /// Hands the rows read so far to the sink, as a batch made of this reader's arrays. A
    /// batch the sink gave back (`recycled`) lends its storage for the next rows.
    func flush(_ sink: (RowBatch) throws -> Void) throws {
        guard !times.isEmpty else { return }
        var batch = RowBatch(measurement)
        if let reuse = recycled?(), reuse.measurement == measurement {
            batch = reuse
            batch.removeAll()
        }
        swap(&batch.vehicles, &vehicles)
        swap(&batch.times, &times)
        swap(&batch.columns[0].ids, &labels)
        if measurement.columns.count > 1 { swap(&batch.columns[1].ints, &values) }
        batch.setDictionary(interner.strings)
        try sink(batch)
        interner.removeAll()
        reserveRows()
    }

    private func readEvents(sink: (RowBatch) throws -> Void) throws {
        guard try parser.next() == .beginArray else { throw fail("expected an array of events") }
        var index = 0
        while true {
            let t = try parser.next()
            if t == .endArray { return }
            let p = parser.position
            report.events += 1
            if t != .beginObject {
                let text: String
                switch t {
                case .number: text = parser.withNumberBytes { String(decoding: $0, as: UTF8.self) }
                case .string: text = jsonQuoted(parser.stringValue)
                case .bool(let b): text = b ? "true" : "false"
                case .beginArray:
                    _ = try skipOpenContainer()
                    text = "[]"
                default: text = "null"
                }
                reject(index, p, "expected an event object", record: text)
            } else {
                switch kind {
                case .detections: try readDetectionEvent(index, p)
                case .status: try readStatusEvent(index, p)
                }
            }
            index += 1
            if times.count >= options.batchRows { try flush(sink) }
        }
    }

    /// Skips the rest of a container whose opening token was just read.
    func skipOpenContainer() throws -> Bool {
        var depth = 1
        while depth > 0 {
            switch try parser.next() {
            case .beginArray, .beginObject: depth += 1
            case .endArray, .endObject: depth -= 1
            case .endOfDocument: return false
            default: break
            }
        }
        return true
    }

    func reject(_ index: Int, _ p: JSONPosition, _ reason: String, record: String) {
        report.rejectCount += 1
        guard report.rejects.count < options.maxRejectsKept else { return }
        report.rejects.append(RecordReject(index: index, line: p.line, column: p.column, reason: reason, record: record))
    }
}
