import Logging
import TachoFormat

/// What may be deleted, and when (SEMANTICS §5). Nothing else is ever deleted.
///
/// * `maxAge`: rows of a measurement older than `now − age` expire. The manifest's watermark
///   hides them at once; partitions wholly below it are dropped, the rest lose their expired
///   rows when compaction rewrites them. Only measurements listed here expire by age.
/// * `maxBytes`: everything Tacho keeps — the store directory (segments, manifest, indexes,
///   ledgers, lock, quarantine) plus `processedDirectory` and `rejectedDirectory` — counted
///   as the sum of regular files' sizes (st_size); files a compaction is still writing (not
///   yet named by the manifest) are working space and not counted. When over, Tacho frees down to
///   `maxBytes − maxBytes/20` (hysteresis, so a full store does not rewrite a partition per
///   commit), in this order: files in processed/ (copies of rows already stored), oldest
///   first; then store rows, oldest first — whole oldest partitions while they fit in what
///   must be freed, else the oldest rows of the oldest partition (trim by time: the watermark
///   rises, the partition is rewritten without them); last, only when no store row is left,
///   files in rejected/ (the only copy of their data), oldest first, each named in a log line.
/// * `minFreeBytes`: free space on the store's file system. Below it, ingest pauses (clear
///   log line, nothing fails); processed/ copies on that same file system are deleted oldest
///   first to get back above it (on another file system they would free nothing here).
///   Telemetry is never deleted for this floor: the space may be used by someone else.
public struct RetentionPolicy: Sendable {
    /// Maximum row age per measurement id, µs.
    public var maxAge: [UInt8: Int64] = [:]
    public var maxBytes: UInt64?
    public var minFreeBytes: UInt64?
    /// Counted in `maxBytes`, deleted first when over it.
    public var processedDirectory: String?
    /// Counted in `maxBytes`; deleted last, after every store row (they are the only copy).
    public var rejectedDirectory: String?
    /// Age retention acts only while the wall clock is at most this far ahead of the newest
    /// stored row (µs; StoreClock.swift `ClockTrust`). Default 7 days; 0 trusts any clock.
    public var maxClockLead: Int64 = ClockTrust.defaultMaxLead

    public init() {}

    public var isEmpty: Bool { maxAge.isEmpty && maxBytes == nil && minFreeBytes == nil }

    /// `detections=30d,status=365d` as operators write it; `parseDuration` turns `30d` into µs.
    /// Measurement names are looked up in `catalog` (the store's: `Snapshot.catalog`).
    public static func parseAges(
        _ spec: String, catalog: Catalog = .builtIn, parseDuration: (String) -> Int64?
    ) throws -> [UInt8: Int64] {
        var out: [UInt8: Int64] = [:]
        for part in spec.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            guard kv.count == 2, let m = catalog.measurement(named: kv[0]) else {
                let known = catalog.measurements.map(\.name).joined(separator: ", ")
                throw StoreError(.invalidArgument, "retention", "\"\(part)\": expected MEASUREMENT=AGE with measurement one of \(known)")
            }
            guard let age = parseDuration(kv[1]) else {
                throw StoreError(.invalidArgument, "retention", "\"\(part)\": \(kv[1]) is not a duration like 30d, 12h")
            }
            out[m.id] = age
        }
        return out
    }

    /// Human form of the age policy of one measurement, for logs: `detections=30d`.
    public func describeAge(_ id: UInt8, catalog: Catalog = .builtIn) -> String {
        let name = catalog.name(of: id)
        guard let a = maxAge[id] else { return name }
        return "\(name)=\(formatDuration(a))"
    }
}

/// One deletion (or hiding) retention did; every one is also logged.
public struct RetentionAction: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Rows below `time` are hidden now (manifest watermark raised).
        case watermark
        /// A whole partition's segments deleted.
        case dropPartition = "drop-partition"
        /// The oldest rows of a partition deleted: watermark raised to `time`, partition rewritten.
        case trimPartition = "trim-partition"
        /// A file in processed/ or rejected/ deleted.
        case deleteFile = "delete-file"
        /// Age retention stopped at a partition not shipped yet (`RetentionEnforcer.shipped`):
        /// its rows and every later one's stay until it is.
        case keptUnshipped = "kept-unshipped"
    }

    public var kind: Kind
    public var policy: String
    public var measurement: String = ""
    public var partition: String = ""
    public var path: String = ""
    public var time: Int64 = 0
    public var rows = 0
    public var bytes: UInt64 = 0
    /// A drop or trim the disk budget forced on a partition that was not shipped yet.
    public var unshipped = false

    public var description: String {
        switch kind {
        case .watermark: "\(measurement): rows before \(time) µs expire (\(policy))"
        case .dropPartition: "\(measurement) partition \(partition): dropped \(rows) rows, \(bytes) bytes (\(policy))"
        case .trimPartition: "\(measurement) partition \(partition): rows before \(time) µs trimmed, \(bytes) bytes freed (\(policy))"
        case .deleteFile: "deleted \(path), \(bytes) bytes (\(policy))"
        case .keptUnshipped: "\(measurement) partition \(partition): kept until it is shipped (\(policy))"
        }
    }
}

public struct RetentionReport: Sendable {
    public var actions: [RetentionAction] = []
    /// Bytes counted against `maxBytes` before and after (nil without a budget).
    public var bytesBefore: UInt64?
    public var bytesAfter: UInt64?
    /// False when the budget could not be met (only metadata is left).
    public var budgetMet = true
    /// Expired rows dropped physically by trims (compaction of whole expired partitions is
    /// counted in `actions` as drops).
    public var isEmpty: Bool { actions.isEmpty }
}

func formatDuration(_ micros: Int64) -> String {
    let units: [(Int64, String)] = [(604_800_000_000, "w"), (86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m"), (1_000_000, "s")]
    for (u, s) in units where micros % u == 0 && micros >= u { return "\(micros / u)\(s)" }
    return "\(micros)us"
}

func formatBytes(_ b: UInt64) -> String {
    if b >= 1 << 30 { return "\((Double(b) / Double(1 << 30) * 100).rounded() / 100) GiB" }
    if b >= 1 << 20 { return "\((Double(b) / Double(1 << 20) * 100).rounded() / 100) MiB" }
    if b >= 1 << 10 { return "\((Double(b) / Double(1 << 10) * 100).rounded() / 100) KiB" }
    return "\(b) B"
}
