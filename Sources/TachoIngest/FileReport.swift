import TachoFormat
import TachoJSON
import TachoStore

/// A record (event) that parsed but failed validation: skipped, counted, reported.
public struct RecordReject: Sendable, Hashable {
    /// 0-based index of the element (event, sample) in the file's first array, or of the
    /// line in an NDJSON file.
    public var index: Int
    /// Where the element starts.
    public var line: Int
    public var column: Int
    /// Why, naming the field ("vehicle_id is empty", "detection 1: missing object_type").
    public var reason: String
    /// The fields that were read, as a JSON object text.
    public var record: String
    /// The measurement the record was read for.
    public var measurement: String = ""
    /// The field the (first) problem is about; nil when it is the record as a whole.
    public var field: String?
    /// Where the whole element is in the input file (byte offsets, `{` to `}`), so a rejects
    /// report can show it as it was written (`RejectFiles`); nil when not known.
    public var bytes: Range<Int>?
}

/// What reading one file produced.
public struct FileReport: Sendable {
    public var path: String
    /// The file's layout: its name's, else that of the first array read.
    public var kind: RecordLayout?
    /// The layouts whose arrays the file held, in order of first appearance (a file may hold
    /// more than one: each is read as its layout).
    public var kinds: [RecordLayout] = []
    /// Valid rows read.
    public var rows = 0
    /// Of `rows`, those another row of the same file replaced (same identity, e.g. one event
    /// listing an object_type twice; the last one wins): `rows - superseded` were stored.
    /// Known once the file is committed (`IngestResult`); 0 before.
    public var superseded = 0
    public var events = 0
    public var rejectCount = 0
    /// The first `ReaderOptions.maxRejectsKept` rejects.
    public var rejects: [RecordReject] = []
    public var repairs: [String] = []
    public var repairCount = 0
    public var warnings: [String] = []
    public var size: UInt64 = 0
    public var hash = ContentHash(hi: 0, lo: 0)
}

/// A file that cannot be ingested at all: it names the file, where, and what was expected.
public struct FileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var column: Int?
    public var offset: Int?
    public var message: String
    /// The input ended early (or was empty): it may still be being written.
    public var truncated = false

    public var description: String {
        if let line, let column {
            return "\(escapedForLog(path)):\(line):\(column): \(message)"
        }
        return "\(escapedForLog(path)): \(message)"
    }
}

public struct ReaderOptions: Sendable {
    /// Repair the known classes of damage (SEMANTICS §1) instead of rejecting the file. Default off.
    public var lenient = false
    /// Rows per batch handed to the sink. Default 65,536 (about 1.5 MiB of detection rows).
    public var batchRows = 65_536
    /// Rejected records kept with their text (the rest are only counted). Default 10,000.
    public var maxRejectsKept = 10_000
    /// The store's retention watermarks (`Manifest.watermarks`, by measurement id): a record
    /// older than its measurement's watermark is expired on arrival and rejected with that
    /// reason (stored, it would be hidden at once and reported as ingested). Default none.
    public var expiredBefore: [UInt8: Int64] = [:]
    /// Most partitions one file's rows may fall into (0: no limit). Default 400: more than a
    /// year of daily partitions. A file over it is rejected whole (its error names the limit
    /// and the file's partition count) rather than committed as thousands of tiny segments
    /// at once. The ingest commands set `partitionWidth` from the store.
    public var maxPartitionsPerFile = 400
    /// The store's partition width (µs), for `maxPartitionsPerFile`. Default one day.
    public var partitionWidth: Int64 = 86_400_000_000
    /// The layouts read (docs/SEMANTICS.md §1): a file's name prefix or top-level key picks
    /// them. Default detections and status, the measurements the store holds.
    public var layouts: [RecordLayout] = [.detections, .status]
    /// Most records that may wait for an envelope field that follows their array (power's
    /// `units` after `data`) before the file is rejected. Default 1,048,576 (each keeps
    /// its values and the text of its strings until the document closes).
    public var maxWaitingRecords = 1 << 20
    /// How `*.lp` files are read (`LineProtocolFileReader`).
    public var lineProtocol = LineInputOptions()
    /// How the ledger hashes files: the store's (`StoreWriter.hashAlgorithm`). Default the
    /// current algorithm, which a new store uses.
    public var hashAlgorithm = ContentHashAlgorithm.current
    /// Where input files are opened (`StoreFileSystem.openInput`): the store's environment.
    /// Default the real file system.
    public var files: any StoreFileSystem = StoreEnvironment.system.files

    public init(lenient: Bool = false) { self.lenient = lenient }
}

/// The input file could not be read (an I/O error, not bad content). The file is not
/// rejected: it stays where it is and is retried.
public struct InputReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "read \(escapedForLog(path)): \(message)" }
}
