import Logging
import TachoExport
import TachoParquet
import TachoS3
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// Ships a store's closed partitions to a lake (docs/SHIPPING.md, "From a store"): each
/// (measurement, partition) whose end lies more than `grace` in the past is exported as
/// Parquet (`Exporter`, the same bytes `tacho export` writes for the same store content) into
/// `<store>/ship/staging/`, put into the bucket by `Shipper`, recorded in
/// `<store>/ship/<target>.log`, and its staged file removed. A partition already recorded
/// under its current name (the name carries the partition's newest segment seq) is neither
/// exported nor sent again; one that received late rows after it was shipped has a new name
/// and is shipped as a new object (fleet queries read the newest seq of each partition).
public struct ClosedPartitionShipping: Sendable {
    public var storePath: String
    public var storeOptions: StoreOptions
    public var boxID: String
    /// A partition is closed once its end is this far in the past (µs).
    public var graceMicros: Int64
    /// nil: every measurement of the store.
    public var measurements: [String]?
    public var parquet = ParquetWriter.Options()
    public var multipartThreshold = 16 << 20
    public var partSize = 8 << 20

    public init(storePath: String, storeOptions: StoreOptions, boxID: String, graceMicros: Int64, measurements: [String]? = nil) {
        self.storePath = storePath
        self.storeOptions = storeOptions
        self.boxID = boxID
        self.graceMicros = graceMicros
        self.measurements = measurements
    }

    public struct Report: Sendable, Equatable {
        /// Relative paths shipped by this run.
        public var shipped: [String] = []
        public var bytes: Int64 = 0
        /// Closed partitions the ledger already records under their current name.
        public var alreadyShipped = 0
        /// Partitions still open (within the grace period, or the current one).
        public var open = 0
        /// Multipart uploads of an interrupted run, aborted.
        public var abortedStale = 0
    }

    /// The ledger of one target in a store.
    public static func ledgerPath(store: String, target: S3Target) -> String {
        store + "/ship/" + targetID(target) + ".log"
    }

    /// 16 hex digits of the SHA-256 of endpoint, bucket and prefix.
    public static func targetID(_ t: S3Target) -> String {
        String(SigV4Signer.payloadHash(Array("\(t.endpoint)\n\(t.bucket)\n\(t.prefix)".utf8)).prefix(16))
    }

    /// Removes `path` and everything below it (best effort).
    static func removeTree(_ path: String, _ fs: any StoreFileSystem) {
        guard let status = try? fs.fileStatus(path, followingLinks: false) else { return }
        if status.kind == .directory {
            for e in (try? fs.directoryEntries(path)) ?? [] { removeTree(path + "/" + e.name, fs) }
            try? fs.removeDirectory(path)
        } else {
            try? fs.unlink(path)
        }
    }

    public func run(client: S3Client, nowMicros: Int64, logger: Logger) async throws -> Report {
        let snapshot = try Snapshot.open(path: storePath, options: storeOptions)
        // What an interrupted run staged is exported again from this snapshot.
        Self.removeTree(storePath + "/ship/staging", storeOptions.environment.files)
        let ledger = try ShipLedger(path: Self.ledgerPath(store: storePath, target: client.target))
        let request = ExportRequest(directory: storePath + "/ship/staging", boxID: boxID, measurements: measurements, parquet: parquet)
        var shipper = Shipper(client: client, ledger: ledger, logger: logger)
        shipper.multipartThreshold = multipartThreshold
        shipper.partSize = partSize
        var report = Report()
        let (cutoff, overflow) = nowMicros.subtractingReportingOverflow(graceMicros)
        // Uploads an earlier run left open are aborted before anything else is sent.
        report.abortedStale = try await shipper.ship([]).abortedStale
        for planned in try Exporter.plan(request, on: snapshot) {
            guard !overflow, planned.partitionEnd <= cutoff else {
                report.open += 1
                continue
            }
            if ledger.shipped[client.target.prefix + planned.relativePath] != nil {
                report.alreadyShipped += 1
                continue
            }
            guard let file = try Exporter.export(planned, request, on: snapshot) else { continue }
            let r = try await shipper.ship([ShipItem(key: planned.relativePath, path: file.path)])
            try? storeOptions.environment.files.unlink(file.path)
            report.shipped += r.uploaded
            report.bytes += r.bytes
            report.alreadyShipped += r.alreadyShipped.count
        }
        return report
    }
}
