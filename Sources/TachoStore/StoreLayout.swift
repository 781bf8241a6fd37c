import TachoFormat
import TachoTime

/// The one place that names every file in a store directory (FORMAT.md §0) and parses the
/// names back (LevelDB's db/filename.h).
///
///     <store>/LOCK                                  writer lock (flock), holds the writer's pid
///     <store>/MANIFEST                              current manifest, replaced by rename
///     <store>/MANIFEST.tmp                          a manifest being written
///     <store>/CATALOG                               legacy schema catalog (before manifest v2), still read
///     <store>/CATALOG.tmp                           a legacy catalog being written
///     <store>/COMPACTING                            a standalone compaction's claim (flock), its reserved numbers
///     <store>/segments/<measurement>-<partition>-<number>.tseg
///     <store>/index/latest-<number>.idx             latest-status index
///     <store>/index/ledger-<number>.led             ingest ledger file
///     <store>/index/catalog-<number>.cat            schema catalog generation, named by the manifest
///     <store>/quarantine/                           damaged files moved aside by `verify --repair`
public struct StoreLayout: Sendable {
    public let root: String

    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    public var lock: String { root + "/LOCK" }
    public var manifest: String { root + "/MANIFEST" }
    public var manifestTemp: String { root + "/MANIFEST.tmp" }
    public var catalog: String { root + "/CATALOG" }
    public var catalogTemp: String { root + "/CATALOG.tmp" }
    public var compacting: String { root + "/COMPACTING" }
    /// Backfill progress of derived measurements (rollups), FORMAT.md §9.
    public var backfill: String { root + "/BACKFILL" }
    public var backfillTemp: String { root + "/BACKFILL.tmp" }
    public var segmentsDir: String { root + "/segments" }
    public var indexDir: String { root + "/index" }
    public var quarantineDir: String { root + "/quarantine" }

    public static func segmentName(measurement: Measurement, partitionStart: Int64, number: UInt64) -> String {
        "\(measurement.name)-\(partitionLabel(partitionStart))-\(hex(number)).tseg"
    }

    public func segmentPath(_ name: String) -> String { segmentsDir + "/" + name }

    public static func latestName(number: UInt64) -> String { "latest-\(hex(number)).idx" }
    public static func ledgerName(number: UInt64) -> String { "ledger-\(hex(number)).led" }
    public static func catalogName(number: UInt64) -> String { "catalog-\(hex(number)).cat" }
    public func indexPath(_ name: String) -> String { indexDir + "/" + name }

    public static func isTemporary(_ name: String) -> Bool { name.hasSuffix(".tmp") }

    /// `20220605T000000Z`-style label of a partition start (µs since epoch).
    public static func partitionLabel(_ micros: Int64) -> String {
        let secs = CivilDate.floorDiv(micros, 1_000_000)
        let days = CivilDate.floorDiv(secs, 86400)
        let rem = secs - days * 86400
        let (y, m, d) = CivilDate.date(days: days)
        func p(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(y, 4))\(p(m, 2))\(p(d, 2))T\(p(rem / 3600, 2))\(p(rem / 60 % 60, 2))\(p(rem % 60, 2))Z"
    }

    static func hex(_ n: UInt64) -> String {
        let s = String(n, radix: 16)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }
}

extension StoreLayout {
    /// The store never follows a symbolic link out of itself: `segments/`, `index/` and
    /// `quarantine/` must be real directories when they exist (the root may be a link: the
    /// operator chose that path). Files inside are opened with O_NOFOLLOW.
    public func checkSubdirectories(fs: any StoreFileSystem) throws {
        for dir in [segmentsDir, indexDir, quarantineDir] {
            guard let st = fs.status(dir, followingLinks: false) else { continue }  // absent: created when needed
            guard st.kind == .directory else {
                throw StoreError(
                    .invalidArgument, "open store", path: dir,
                    (st.kind == .symbolicLink ? "is a symbolic link" : "is not a directory")
                        + "; a store never follows links out of itself (make it a real directory)")
            }
        }
    }
}
