import Synchronization

/// What `tacho run` has done since it started, readable from any thread while the inbox loop
/// runs (`/metrics` of `tacho run --listen`): the loop adds, anyone takes a `snapshot()`.
/// Relaxed atomics and a lock taken once per file or commit: nothing on the per-row path.
public final class IngestCounters: Sendable {
    private let files = Atomic<Int>(0)
    private let rows = Atomic<Int>(0)
    private let rejectedFiles = Atomic<Int>(0)
    private let rejectedRecords = Atomic<Int>(0)
    private let commits = Atomic<Int>(0)
    private let redeliveries = Atomic<Int>(0)
    private let detail = Mutex(Detail())

    private struct Detail {
        var byMeasurement: [String: MeasurementCounts] = [:]
        var commitSeconds = LatencyHistogram()
        var compactions = CompactionCounts()
    }

    public init() {}

    /// A consistent-enough copy: each count is exact, the counts may be from moments apart.
    public func snapshot() -> IngestStats {
        let d = detail.withLock { $0 }
        return IngestStats(
            files: files.load(ordering: .relaxed), rows: rows.load(ordering: .relaxed),
            rejectedFiles: rejectedFiles.load(ordering: .relaxed), rejectedRecords: rejectedRecords.load(ordering: .relaxed),
            commits: commits.load(ordering: .relaxed), redeliveriesSkipped: redeliveries.load(ordering: .relaxed),
            byMeasurement: d.byMeasurement, commitSeconds: d.commitSeconds, compactions: d.compactions)
    }

    /// A file's rows are durable. `measurement`: the one its rows belong to, or
    /// `IngestStats.severalMeasurements` for a file holding rows of more than one.
    func ingested(rows n: Int, rejects: Int, measurement: String) {
        files.add(1, ordering: .relaxed)
        rows.add(n, ordering: .relaxed)
        if rejects > 0 { rejectedRecords.add(rejects, ordering: .relaxed) }
        detail.withLock { d in
            d.byMeasurement[measurement, default: MeasurementCounts()].files += 1
            d.byMeasurement[measurement, default: MeasurementCounts()].rows += n
            d.byMeasurement[measurement, default: MeasurementCounts()].rejectedRecords += rejects
        }
    }

    func rejectedFile() { rejectedFiles.add(1, ordering: .relaxed) }

    /// One manifest commit of ingested files, which took `seconds` (parsed rows to durable).
    func committed(seconds: Double) {
        commits.add(1, ordering: .relaxed)
        detail.withLock { $0.commitSeconds.record(seconds) }
    }

    func skippedRedelivery() { redeliveries.add(1, ordering: .relaxed) }

    /// A scheduled compaction published its switch: it took `seconds` and rewrote `bytesIn`
    /// bytes of segments into `bytesOut`.
    public func compacted(seconds: Double, bytesIn: UInt64, bytesOut: UInt64) {
        detail.withLock { d in
            d.compactions.runs += 1
            d.compactions.seconds += seconds
            d.compactions.bytesIn &+= bytesIn
            d.compactions.bytesOut &+= bytesOut
        }
    }

    /// A scheduled compaction failed (the store is unchanged).
    public func compactionFailed() {
        detail.withLock { $0.compactions.failures += 1 }
    }
}

/// Scheduled compactions of the daemon (`StoreMaintenance`): published runs, failed ones, and
/// the published runs' time and bytes.
public struct CompactionCounts: Sendable, Hashable {
    public var runs = 0
    public var failures = 0
    public var seconds = 0.0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    public init() {}
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
    /// Files, rows and rejected records by measurement (a file's rows count under its
    /// measurement; a file holding rows of several, such as line protocol, under
    /// `severalMeasurements`).
    public var byMeasurement: [String: MeasurementCounts] = [:]
    /// How long each commit took, from the parsed rows to their durable commit.
    public var commitSeconds = LatencyHistogram()
    /// Scheduled compactions (`tacho run`'s `StoreMaintenance`).
    public var compactions = CompactionCounts()

    /// The `byMeasurement` key of files that held rows of more than one measurement.
    public static let severalMeasurements = "*"
}

/// One measurement's share of `IngestStats`.
public struct MeasurementCounts: Sendable, Hashable {
    public var files = 0
    public var rows = 0
    public var rejectedRecords = 0
    public init() {}
}

/// Observations counted into fixed buckets (Prometheus' histogram: cumulative `le` buckets,
/// a sum and a count).
public struct LatencyHistogram: Sendable, Hashable {
    /// Upper bounds in seconds, ascending (1 ms … 10 s).
    public static let bounds: [Double] = [0.001, 0.005, 0.025, 0.1, 0.5, 2, 10]
    /// Observations ≤ `bounds[i]` and above the previous bound; the last is above every bound.
    public private(set) var counts = [Int](repeating: 0, count: LatencyHistogram.bounds.count + 1)
    public private(set) var sum = 0.0
    public var count: Int { counts.reduce(0, +) }

    public init() {}

    mutating func record(_ seconds: Double) {
        let i = Self.bounds.firstIndex { seconds <= $0 } ?? Self.bounds.count
        counts[i] += 1
        sum += seconds
    }
}
