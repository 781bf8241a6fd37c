import Logging
import TachoFormat
#if canImport(Glibc)
import Glibc
#endif

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

/// Sizes of what Tacho keeps on disk.
public enum StoreUsage {
    /// Sum of st_size of every regular file under `roots` (recursively, symlinks not
    /// followed, each inode once).
    public static func bytes(_ roots: [String], skip: Set<String> = []) -> UInt64 {
        var seen = Set<InodeKey>()
        var total: UInt64 = 0
        for r in roots { walk(r, skip, &seen, &total) }
        return total
    }

    /// Paths in segments/ and index/ that `manifest` does not name: outputs of a compaction
    /// still being built (working space, guarded by the free-space floor, not the budget).
    static func unpublished(_ layout: StoreLayout, _ manifest: Manifest) -> Set<String> {
        var out = Set<String>()
        let live = Set(manifest.segments.map(\.name))
        for name in directoryEntries(layout.segmentsDir) ?? [] where !live.contains(name) { out.insert(layout.segmentPath(name)) }
        let liveIndex = Set(manifest.ledgers + [manifest.latestIndex, manifest.catalog])
        for name in directoryEntries(layout.indexDir) ?? [] where !liveIndex.contains(name) { out.insert(layout.indexPath(name)) }
        return out
    }

    /// Whether two existing paths lie on one file system (same st_dev). False when either
    /// cannot be examined.
    public static func sameFileSystem(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev
    }

    /// Free bytes for unprivileged users on the file system holding `path` (statvfs).
    public static func freeBytes(_ path: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) &* UInt64(s.f_frsize)
    }

    struct InodeKey: Hashable { var dev: UInt64; var ino: UInt64 }

    private static func walk(_ path: String, _ skip: Set<String>, _ seen: inout Set<InodeKey>, _ total: inout UInt64) {
        guard !skip.contains(path) else { return }
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        let key = InodeKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        guard seen.insert(key).inserted else { return }
        switch st.st_mode & S_IFMT {
        case S_IFREG: total += UInt64(st.st_size)
        case S_IFDIR:
            for name in directoryEntries(path) ?? [] { walk(path + "/" + name, skip, &seen, &total) }
        default: break
        }
    }

    /// Regular files directly in `dir`: (path, size, mtime µs), oldest first.
    static func filesOldestFirst(_ dir: String) -> [(path: String, size: UInt64, mtime: Int64)] {
        var out: [(path: String, size: UInt64, mtime: Int64)] = []
        for name in directoryEntries(dir) ?? [] {
            var st = stat()
            let p = dir + "/" + name
            guard lstat(p, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            out.append((p, UInt64(st.st_size), Int64(st.st_mtim.tv_sec) * 1_000_000 + Int64(st.st_mtim.tv_nsec) / 1000))
        }
        return out.sorted { ($0.mtime, $0.path) < ($1.mtime, $1.path) }
    }
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
