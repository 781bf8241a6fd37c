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
    var hasher: ContentHasher

    init(_ inner: FileDescriptorSource, hashing algorithm: ContentHashAlgorithm = .current) {
        self.inner = inner
        hasher = ContentHasher(algorithm)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        return n
    }

    func close() {}
}

/// Bytes in memory as a hashing source (`TelemetryReader.read(bytes:path:sink:)`).
final class MemorySource: HashingByteSource {
    let bytes: [UInt8]
    var offset = 0
    var hasher: ContentHasher

    init(_ bytes: [UInt8], hashing algorithm: ContentHashAlgorithm = .current) {
        self.bytes = bytes
        hasher = ContentHasher(algorithm)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { all in
            let piece = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)])
            buffer.copyMemory(from: piece)
            hasher.update(piece)
        }
        offset += n
        return n
    }

    func close() {}
}

/// Reads telemetry files with the streaming JSON parser, each by the `RecordLayout`s of
/// `ReaderOptions.layouts` (`LayoutReader`), and hands validated rows to a sink in batches.
/// Memory is bounded by one batch, whatever the file's size (plus records waiting for an
/// envelope field that follows their array, `ReaderOptions.maxWaitingRecords`). Files named
/// `.ndjson` or `.jsonl` hold one record per line.
public struct TelemetryReader: Sendable {
    public let options: ReaderOptions

    public init(options: ReaderOptions = ReaderOptions()) {
        self.options = options
    }

    /// An input file opened through the store's environment, as the parser's byte source
    /// (which closes it). Throws `ByteSourceError`, worded as the parser's own open is.
    static func openInput(_ path: String, _ files: any StoreFileSystem) throws(ByteSourceError) -> FileDescriptorSource {
        do {
            let fd = try files.openInput(path)
            return FileDescriptorSource(fd: fd.rawValue, path: path, closeOnDeinit: true)
        } catch {
            let reason: String? = switch error.kind {
            case .symbolicLink: "is a symbolic link (not followed)"
            case .notRegularFile: "is not a regular file (a FIFO, device or socket is never read)"
            case .system: nil
            }
            throw ByteSourceError(operation: "open", path: path, errno: error.errno, reason: reason)
        }
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
            fileSource = try Self.openInput(path, options.files)
        } catch {
            throw InputReadError(path: path, message: "\(error)")
        }
        let source: any HashingByteSource = readAhead
            ? ReadAheadSource(fileSource, hashing: options.hashAlgorithm)
            : HashingSource(fileSource, hashing: options.hashAlgorithm)
        defer { source.close() }
        return try read(source: source, path: path, recycled: recycled, sink: sink)
    }

    /// Reads `bytes` as the file at `path` would be read (its name picks the layout and the
    /// format: `.lp`, `.ndjson`, a measurement's prefix), without a file: for a body that is
    /// validated before it is written anywhere (the HTTP write API).
    public func read(bytes: [UInt8], path: String, sink: (RowBatch) throws -> Void) throws -> FileReport {
        let source = MemorySource(bytes, hashing: options.hashAlgorithm)
        defer { source.close() }
        return try read(source: source, path: path, recycled: nil, sink: sink)
    }

    func read(
        source: any HashingByteSource, path: String, recycled: (() -> RowBatch?)?, sink: (RowBatch) throws -> Void
    ) throws -> FileReport {
        if LineProtocolSchemas.isLineProtocol(path) {
            var report = try LineProtocolFileReader(path: path, options: options).read(source: source, sink: sink)
            report.size = source.hasher.length
            report.hash = source.hasher.finish()
            return report
        }
        let lines = Self.isLineDelimited(path)
        let parse = LayoutReader(
            path: path,
            parser: JSONParser(source: source, options: JSONParserOptions(lenient: options.lenient, valueSequence: lines)),
            options: options, lines: lines)
        parse.recycled = recycled
        var partitions = PartitionCounter(width: options.partitionWidth)
        let limit = options.maxPartitionsPerFile
        do {
            if limit > 0 {
                try parse.readDocument { batch in
                    partitions.add(batch.times, width: batch.measurement.partitionWidth)
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

extension TelemetryReader {
    /// Files named `*.ndjson` or `*.jsonl` hold one record per line.
    public static func isLineDelimited(_ path: String) -> Bool {
        path.hasSuffix(".ndjson") || path.hasSuffix(".jsonl")
    }
}

/// Distinct partitions of the times seen (the measurements of a file alike), each under its
/// measurement's partition width: its own (FORMAT.md §7) or the store's.
struct PartitionCounter {
    /// The store's width.
    let width: Int64
    /// The width of the rows counted last.
    private var current: Int64
    private var seen = Set<PartitionKey>()
    /// The partition of the last row, [lo, hi): rows mostly stay in it, so most rows cost
    /// two compares and no division.
    private var lo = Int64.max, hi = Int64.min

    private struct PartitionKey: Hashable {
        var width: Int64
        var start: Int64
    }

    init(width: Int64) {
        self.width = max(1, width)
        current = self.width
    }

    var count: Int { seen.count }

    /// Counts the partitions of `times`, rows of a measurement with partitions `own` wide (nil:
    /// the store's width).
    mutating func add(_ times: [Int64], width own: Int64? = nil) {
        let width = max(1, own ?? self.width)
        if width != current { (current, lo, hi) = (width, .max, .min) }
        for t in times where t < lo || t >= hi {
            let q = t / width
            let p = q * width > t ? q - 1 : q  // floor
            seen.insert(PartitionKey(width: width, start: p))
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
