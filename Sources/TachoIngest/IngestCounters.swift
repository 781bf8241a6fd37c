import Synchronization

/// What `tacho run` has done since it started, readable from any thread while the inbox loop
/// runs (a future /metrics): the loop adds, anyone takes a `snapshot()`. Relaxed atomics, one
/// add per file or commit: nothing on the per-row path.
public final class IngestCounters: Sendable {
    private let files = Atomic<Int>(0)
    private let rows = Atomic<Int>(0)
    private let rejectedFiles = Atomic<Int>(0)
    private let rejectedRecords = Atomic<Int>(0)
    private let commits = Atomic<Int>(0)
    private let redeliveries = Atomic<Int>(0)

    public init() {}

    /// A consistent-enough copy: each count is exact, the counts may be from moments apart.
    public func snapshot() -> IngestStats {
        IngestStats(
            files: files.load(ordering: .relaxed), rows: rows.load(ordering: .relaxed),
            rejectedFiles: rejectedFiles.load(ordering: .relaxed), rejectedRecords: rejectedRecords.load(ordering: .relaxed),
            commits: commits.load(ordering: .relaxed), redeliveriesSkipped: redeliveries.load(ordering: .relaxed))
    }

    func ingested(rows n: Int, rejects: Int) {
        files.add(1, ordering: .relaxed)
        rows.add(n, ordering: .relaxed)
        if rejects > 0 { rejectedRecords.add(rejects, ordering: .relaxed) }
    }

    func rejectedFile() { rejectedFiles.add(1, ordering: .relaxed) }
    func committed() { commits.add(1, ordering: .relaxed) }
    func skippedRedelivery() { redeliveries.add(1, ordering: .relaxed) }
}

/// `IngestCounters.snapshot()`: totals since the daemon started.
public struct IngestStats: Sendable, Hashable {
    /// Files whose rows are durable (moved to processed/ or deleted).
    public var files: Int
    /// Rows of those files.
    public var rows: Int
    /// Files that went to rejected/ whole.
    public var rejectedFiles: Int
    /// Records rejected inside ingested files (listed in rejected/<name>.rejects.ndjson).
    public var rejectedRecords: Int
    /// Manifest commits of ingested files (one per group).
    public var commits: Int
    /// Re-delivered files skipped (the ledger knew their content).
    public var redeliveriesSkipped: Int
}
