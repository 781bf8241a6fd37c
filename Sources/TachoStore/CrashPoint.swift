import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Deterministic crash injection for kill tests (tools/crashtest, Tests/…CrashTests).
/// `TACHO_CRASH_POINT=<name>` makes the process SIGKILL itself when it reaches that point,
/// after doing all the work before it; `TACHO_CRASH_POINT=<name>@<n>` on the n-th time.
/// Unset, a point costs one comparison.
public enum CrashPoint {
    public static let segmentWritten = "segment.written"
    public static let beforeManifestSwitch = "commit.before-switch"
    public static let afterManifestSwitch = "commit.after-switch"
    public static let ledgerWritten = "commit.ledger-written"
    /// A commit's new catalog generation is written and fsynced; the manifest does not name it yet.
    public static let catalogWritten = "commit.catalog-written"
    public static let afterFileMove = "ingest.after-move"
    /// `tacho compact`: output numbers reserved and committed, the lock about to be released.
    public static let compactionReserved = "compact.reserved"
    public static let compactionWritten = "compact.written"
    public static let compactionSwitched = "compact.after-switch"
    /// `tacho rollup backfill`: a range's progress recorded in BACKFILL (after its commit).
    public static let backfillRecorded = "backfill.recorded"

    private struct Config: Sendable { var name: String; var nth: Int }
    private static let config: Config? = {
        guard let raw = getenv("TACHO_CRASH_POINT").map({ String(cString: $0) }), !raw.isEmpty else { return nil }
        let parts = raw.split(separator: "@", maxSplits: 1)
        return Config(name: String(parts[0]), nth: parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()
    private static let hits = Atomic<Int>(0)

    public static func hit(_ name: String) {
        guard let c = config, c.name == name else { return }
        let n = hits.add(1, ordering: .relaxed).newValue
        if n >= c.nth { kill(getpid(), SIGKILL) }
    }
}
