import TachoFormat
import TachoParquet
import TachoQuery
import TachoStore
import TachoTime
#if canImport(Glibc)
import Glibc
#endif

/// What `tacho export` (or another front) asks for.
public struct ExportRequest: Sendable {
    /// Measurement names; nil: every measurement of the store.
    public var measurements: [String]?
    /// nil: every vehicle.
    public var vehicles: Set<ByteString>?
    public var from: Int64
    public var to: Int64
    /// The root of the Hive-style tree.
    public var directory: String
    /// This box's name in file names (so many boxes' files can share one prefix).
    public var boxID: String
    public var parquet: ParquetWriter.Options

    public init(directory: String, boxID: String, measurements: [String]? = nil, vehicles: Set<ByteString>? = nil,
                from: Int64 = .min, to: Int64 = .max, parquet: ParquetWriter.Options = ParquetWriter.Options()) {
        self.directory = directory
        self.boxID = boxID
        self.measurements = measurements
        self.vehicles = vehicles
        self.from = from
        self.to = to
        self.parquet = parquet
    }
}

/// One Parquet file an export wrote.
public struct ExportedFile: Sendable, Hashable {
    public var measurement: String
    public var partitionStart: Int64
    /// The highest seq among the partition's segments: the store content the file reflects.
    public var seq: UInt64
    public var path: String
    public var rows: Int
    public var bytes: Int64
}

/// Why an export stopped.
public enum ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidBoxID(String)
    case createDirectory(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidBoxID(let b):
            "box id \"\(b)\": expected 1…128 of A-Z a-z 0-9 . _ - (not starting with . or -), as it becomes part of file names"
        case .createDirectory(let p, let m): "\(p): create directory: \(m)"
        }
    }
}

/// Exports a snapshot's rows as Parquet, one file per (measurement, partition):
/// `<directory>/<measurement>/date=YYYY-MM-DD/<box-id>-<partition>-<seq>.parquet`, where
/// the date is the partition start's UTC date, `<partition>` its `YYYYMMDDTHHMMSSZ` label (as
/// in segment names) and `<seq>` the highest segment seq of that partition. Rows are in
/// (vehicle_id, time) order, each identity once, exactly as `tacho query` reads them. Partitions
/// are written one after another, each streamed through one row group's buffers; each file is
/// written to a temporary name, fsynced and renamed. A partition without matching rows writes
/// no file.
public enum Exporter {
    /// Runs the export; `wrote` hears of each file once it is durable.
    @discardableResult
    public static func run(_ request: ExportRequest, on snapshot: Snapshot,
                           wrote: (ExportedFile) throws -> Void = { _ in }) throws -> [ExportedFile] {
        var files: [ExportedFile] = []
        for planned in try plan(request, on: snapshot) {
            guard let f = try export(planned, request, on: snapshot) else { continue }
            try wrote(f)
            files.append(f)
        }
        return files
    }

    /// A file an export would write (if the partition has matching rows), before writing it.
    public struct PlannedFile: Sendable, Hashable {
        public var measurement: Measurement
        public var partitionStart: Int64
        /// Exclusive.
        public var partitionEnd: Int64
        public var seq: UInt64
        /// `relativePath(…)` of the file.
        public var relativePath: String
    }

    /// The files `run` would write, in order, without reading any row: callers that ship
    /// (tacho ship) skip what is already shipped and what may still change.
    public static func plan(_ request: ExportRequest, on snapshot: Snapshot) throws -> [PlannedFile] {
        try validate(boxID: request.boxID)
        let measurements = try request.measurements.map { try $0.map { try MeasurementLookup.named($0, in: snapshot) } }
            ?? MeasurementLookup.all(in: snapshot)
        var out: [PlannedFile] = []
        for m in measurements {
            for p in partitions(of: m, in: snapshot, from: request.from, to: request.to) {
                out.append(PlannedFile(
                    measurement: m, partitionStart: p.start, partitionEnd: p.end, seq: p.seq,
                    relativePath: relativePath(measurement: m.name, partitionStart: p.start, seq: p.seq, boxID: request.boxID)))
            }
        }
        return out
    }

    /// Writes one planned file; nil when its partition has no matching rows.
    public static func export(_ planned: PlannedFile, _ request: ExportRequest, on snapshot: Snapshot) throws -> ExportedFile? {
        try exportPartition(
            planned.measurement, Partition(start: planned.partitionStart, end: planned.partitionEnd, seq: planned.seq), request, snapshot)
    }

    struct Partition {
        var start: Int64
        var end: Int64
        var seq: UInt64
    }

    /// The partitions of `m` holding segments in `[from, to)`, ascending.
    static func partitions(of m: Measurement, in snap: Snapshot, from: Int64, to: Int64) -> [Partition] {
        let width = snap.manifest.partitionWidth(of: m)
        var out: [Partition] = []
        for s in snap.segments(of: m, from: from, to: to) where out.last?.start != s.partitionStart {
            let seq = snap.manifest.segments
                .filter { $0.measurementID == m.id && $0.partitionStart == s.partitionStart }
                .map(\.seq).max() ?? s.seq
            out.append(Partition(start: s.partitionStart, end: Manifest.partitionEnd(of: s.partitionStart, width: width), seq: seq))
        }
        return out
    }

    /// `<measurement>/date=YYYY-MM-DD/<box>-<partition>-<seq>.parquet`.
    public static func relativePath(measurement: String, partitionStart: Int64, seq: UInt64, boxID: String) -> String {
        let (y, mo, d) = CivilDate.date(days: CivilDate.floorDiv(partitionStart, 86_400_000_000))
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(measurement)/date=\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))/"
            + "\(boxID)-\(StoreLayout.partitionLabel(partitionStart))-\(seq).parquet"
    }

    private static func exportPartition(_ m: Measurement, _ p: Partition, _ req: ExportRequest,
                                        _ snap: Snapshot) throws -> ExportedFile? {
        let q = RangeQuery(m, vehicles: req.vehicles, from: max(req.from, p.start), to: min(req.to, p.end))
        let cursor = try RowCursor(snapshot: snap, query: q)
        guard var block = try cursor.nextBatch() else { return nil }
        let rel = relativePath(measurement: m.name, partitionStart: p.start, seq: p.seq, boxID: req.boxID)
        let path = req.directory + "/" + rel
        try makeDirectories(path)
        let sink = try AtomicFileSink(path: path)
        var options = req.parquet
        options.sortedBy = [0, 1]
        let writer = try ParquetWriter(columns: ParquetSchemaMapping.columns(of: m), sink: sink, options: options)
        var appender = BlockAppender(writer: writer, measurement: m)
        var rows = 0
        while true {
            rows += try appender.append(block)
            guard let next = try cursor.nextBatch() else { break }
            block = next
        }
        try writer.close()
        try sink.commit()
        return ExportedFile(measurement: m.name, partitionStart: p.start, seq: p.seq, path: path, rows: rows, bytes: sink.offset)
    }

    /// Creates the directories above `path` (mkdir -p).
    static func makeDirectories(_ path: String) throws {
        var prefix = ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        for (i, part) in parts.enumerated() {
            prefix += (i == 0 ? "" : "/") + part
            guard !part.isEmpty, part != ".", part != ".." else { continue }
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw ExportError.createDirectory(path: prefix, message: String(cString: strerror(errno)))
            }
        }
    }

    static func validate(boxID: String) throws {
        let bytes = Array(boxID.utf8)
        let ok = !bytes.isEmpty && bytes.count <= 128 && bytes[0] != UInt8(ascii: ".") && bytes[0] != UInt8(ascii: "-")
            && bytes.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            }
        guard ok else { throw ExportError.invalidBoxID(boxID) }
    }
}
