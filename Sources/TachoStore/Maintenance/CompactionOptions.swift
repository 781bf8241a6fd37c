import Logging
import Synchronization
import TachoFormat
#if canImport(Glibc)
import Glibc
#endif

/// How compaction chooses and rewrites partitions. Every default is safe for an edge box.
public struct CompactionOptions: Sendable {
    /// Partitions whose end is at least this far behind `now` (µs) are cold: rewritten once
    /// at `coldLevel`. Default 7 days; nil never recompresses.
    public var coldAfter: Int64? = 7 * 86_400_000_000
    /// zstd level for cold partitions. Default 19: measured on generated fleet data, a merged
    /// partition is 0.8–5.6 % smaller than at level 3 (1.2 M rows: 1.349 vs 1.432 bytes/row;
    /// 4.7 M rows: 1.392 vs 1.403; level 9 gained 0.8 % on the former) and compaction takes
    /// ~2× as long (0.43 s instead of 0.21 s for 1.2 M rows) — paid once per partition.
    public var coldLevel: Int32 = 19
    /// Most bytes per second compaction writes (flash wear, I/O share); 0 = unlimited.
    public var rateLimitBytesPerSecond: Double = 0
    /// Merge the ingest ledger files (one per commit) into one. Default on.
    public var mergeLedgers = true
    /// Ledger entries ingested longer ago than this (µs) are dropped by the merge: a file
    /// re-delivered after that is ingested again (its rows replace equal identities).
    /// Default nil: keep every entry.
    public var ledgerMaxAge: Int64?
    /// In a partition that is still open (its end is after `now`), merge the newest small
    /// segments only once there are at least this many of them. Default 8.
    public var openPartitionMinSegments = 8
    /// Wall-clock now in µs to plan at; nil: the writer's clock (`StoreOptions.environment`)
    /// when a writer plans, the system clock for a plan made without one.
    public var now: Int64?
    /// False when `now` comes from a distrusted clock: the plan then forgets no ledger entry
    /// by age (a clock years ahead would make every entry look old, and a re-delivered file
    /// would be ingested again).
    public var clockTrusted = true

    public init() {}

    var nowMicros: Int64 { now ?? StoreClock.system.wallMicros() }

    /// These options with `now` read from `clock` when unset.
    func at(_ clock: StoreClock) -> CompactionOptions {
        var o = self
        if o.now == nil { o.now = clock.wallMicros() }
        return o
    }
}

/// One partition (or the newest segments of one) to rewrite into a single segment.
public struct CompactionTask: Sendable, Hashable {
    public var measurementID: UInt8
    public var partitionStart: Int64
    /// Segments to merge, ascending seq: all of the partition, or its newest ones (a suffix
    /// by seq; FORMAT.md §3.5 explains why nothing else is correct).
    public var inputs: [SegmentMeta]
    /// Number (and seq) of the output segment; 0 until reserved by the writer.
    public var outputNumber: UInt64 = 0
    public var zstdLevel: Int32
    /// Rows with `time < cutoff` are dropped (the retention watermark, or a budget trim).
    public var cutoff: Int64
    /// Why: "37 segments", "expired rows", "cold: zstd 9".
    public var reasons: [String]
    /// The measurement's name in the store's catalog ("" when not known).
    public var name = ""

    public var measurementName: String { name.isEmpty ? "measurement \(measurementID)" : name }
    public var partitionLabel: String { StoreLayout.partitionLabel(partitionStart) }
    public var inputBytes: UInt64 { inputs.reduce(0) { $0 + $1.fileSize } }
    public var inputRows: Int { inputs.reduce(0) { $0 + $1.rowCount } }
}

/// Merge the ledger files `inputs` (the oldest ones, in commit order) into one.
public struct LedgerMergeTask: Sendable, Hashable {
    public var inputs: [String]
    public var outputNumber: UInt64 = 0
    /// Entries with `ingestedAt < pruneBefore` are dropped.
    public var pruneBefore: Int64?
}

/// What a compaction run will do, computed from one manifest.
public struct CompactionPlan: Sendable {
    public var base: Manifest
    public var tasks: [CompactionTask]
    public var ledgerMerge: LedgerMergeTask?
    public var isEmpty: Bool { tasks.isEmpty && ledgerMerge == nil }
}

/// What one task produced.
public struct CompactionTaskResult: Sendable {
    public var task: CompactionTask
    /// The new segment; nil when no row survived (the partition goes away).
    public var output: SegmentMeta?
    public var outputRows: Int
    /// Stored rows dropped because they were below the cutoff (retention).
    public var expiredRows: Int
    /// Stored rows dropped because a row with the same identity and a higher seq exists.
    public var supersededRows: Int
    public var outputBytes: UInt64 { output?.fileSize ?? 0 }
    /// False when the switch found the inputs changed (another job replaced them) and the
    /// output was discarded.
    public var applied = true
}

public struct LedgerMergeResult: Sendable {
    public var task: LedgerMergeTask
    public var name: String
    public var entriesIn: Int
    public var entriesOut: Int
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    public var applied = true
}

/// Everything a compaction build wrote, waiting for (or past) its manifest switch.
public struct CompactionOutput: Sendable {
    public var plan: CompactionPlan
    public var tasks: [CompactionTaskResult]
    public var ledger: LedgerMergeResult?
    /// Bytes written to new files.
    public var bytesWritten: UInt64
    /// Wall time of the build (reading, encoding, writing, fsync), seconds.
    public var seconds: Double

    public var megabytesPerSecond: Double { seconds > 0 ? Double(bytesWritten) / 1e6 / seconds : 0 }
}

/// A cancellation request for a background build (the daemon stopping).
public final class CompactionCancel: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

public struct CompactionCancelled: Error, Sendable, CustomStringConvertible {
    public var description: String { "compaction cancelled" }
}
