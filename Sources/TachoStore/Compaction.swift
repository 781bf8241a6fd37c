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

// MARK: - Planning

public enum CompactionPlanner {
    /// The tasks worth doing on `manifest` (numbers not reserved yet). Pure: `tacho compact
    /// --dry-run` calls it on a snapshot without taking the writer lock.
    ///
    /// A closed partition (end ≤ now) is merged whole when it has 2+ segments, holds rows
    /// below the watermark, or is cold and not yet rewritten cold. An open partition merges
    /// its newest small segments (size-tiered) once there are `openPartitionMinSegments`.
    /// `writtenAt` gives a segment file's mtime in µs (to tell whether a cold partition's one
    /// segment was written after it turned cold, i.e. by a cold rewrite).
    public static func plan(
        _ manifest: Manifest, catalog: Catalog = .builtIn, options: CompactionOptions, defaultLevel: Int32,
        writtenAt: (SegmentMeta) -> Int64?
    ) -> CompactionPlan {
        let now = options.nowMicros
        var groups: [PartitionID: [SegmentMeta]] = [:]
        for s in manifest.segments { groups[PartitionID(s.measurementID, s.partitionStart), default: []].append(s) }
        var tasks: [CompactionTask] = []
        for (key, segs0) in groups.sorted(by: { ($0.key.start, $0.key.mid) < ($1.key.start, $1.key.mid) })
        where catalog.measurement(id: key.mid) != nil {
            let segs = segs0.sorted { $0.seq < $1.seq }
            let watermark = manifest.watermarks[key.mid] ?? .min
            let partitionEnd = manifest.partitionEnd(of: key.start)
            // Wholly expired partitions are retention's to drop (no rewrite needed).
            if partitionEnd <= watermark { continue }
            let closed = partitionEnd <= now
            var coldLevel: Int32?
            if let after = options.coldAfter, options.coldLevel > defaultLevel {
                let (coldAt, o2) = partitionEnd.addingReportingOverflow(after)
                if !o2 && coldAt <= now { coldLevel = options.coldLevel }
            }
            let expired = segs.contains { $0.minTime < watermark }
            var reasons: [String] = []
            var inputs = segs
            if closed || expired {
                if segs.count >= 2 { reasons.append("\(segs.count) segments") }
                if expired { reasons.append("expired rows") }
                if let lvl = coldLevel, segs.count == 1, let t = writtenAt(segs[0]), t < partitionEnd &+ (options.coldAfter ?? 0) {
                    reasons.append("cold: zstd \(lvl)")
                } else if let lvl = coldLevel, !reasons.isEmpty {
                    reasons.append("cold: zstd \(lvl)")
                }
            } else {
                // Open partition: the newest run of segments, each smaller than the sum of the
                // ones after it is not yet — size tiers keep write amplification logarithmic.
                var suffix: [SegmentMeta] = []
                var sum: UInt64 = 0
                for s in segs.reversed() {
                    if !suffix.isEmpty && s.fileSize > sum { break }
                    suffix.insert(s, at: 0)
                    sum += s.fileSize
                }
                guard suffix.count >= max(2, options.openPartitionMinSegments) else { continue }
                inputs = suffix
                reasons.append("\(suffix.count) newest segments of an open partition")
            }
            guard !reasons.isEmpty else { continue }
            let level = inputs.count == segs.count ? (coldLevel ?? defaultLevel) : defaultLevel
            tasks.append(CompactionTask(
                measurementID: key.mid, partitionStart: key.start, inputs: inputs, zstdLevel: level,
                cutoff: watermark, reasons: reasons, name: catalog.name(of: key.mid)))
        }
        var ledger: LedgerMergeTask?
        if options.mergeLedgers, manifest.ledgers.count >= 2 || (options.ledgerMaxAge != nil && !manifest.ledgers.isEmpty) {
            ledger = LedgerMergeTask(
                inputs: manifest.ledgers, pruneBefore: options.clockTrusted ? options.ledgerMaxAge.map { now &- $0 } : nil)
        }
        return CompactionPlan(base: manifest, tasks: tasks, ledgerMerge: ledger)
    }

    struct PartitionID: Hashable {
        var mid: UInt8
        var start: Int64
        init(_ mid: UInt8, _ start: Int64) { (self.mid, self.start) = (mid, start) }
    }
}

// MARK: - Building (any thread; touches only new files)

public enum Compactor {
    /// Writes the output of every task of `plan` (numbers reserved) as new, fsynced files in
    /// segments/ and index/. They are orphans until `StoreWriter.applyCompaction` switches
    /// the manifest; a crash before that leaves files the next writer open removes. Reads
    /// the inputs through a snapshot of `plan.base`, so it never blocks readers or the writer.
    public static func build(
        _ plan: CompactionPlan, layout: StoreLayout, storeOptions: StoreOptions, options: CompactionOptions,
        cancel: CompactionCancel? = nil
    ) throws -> CompactionOutput {
        let clock = storeOptions.clock
        let start = clock.monotonicNanos()
        var limiter = WriteRateLimiter(bytesPerSecond: options.rateLimitBytesPerSecond, clock: clock)
        var written: [String] = []
        var results: [CompactionTaskResult] = []
        var ledger: LedgerMergeResult?
        let fs = storeOptions.fileSystem
        do {
            for task in plan.tasks {
                precondition(task.outputNumber > 0, "compaction task without a reserved number")
                if cancel?.isCancelled == true { throw CompactionCancelled() }
                let r = try buildTask(task, base: plan.base, layout: layout, storeOptions: storeOptions,
                                      limiter: &limiter, cancel: cancel, written: &written)
                results.append(r)
            }
            if !written.isEmpty { try fs.syncDirectory(layout.segmentsDir) }
            if let lt = plan.ledgerMerge {
                do {
                    let r = try mergeLedgers(lt, layout: layout, fs: fs)
                    written.append(layout.indexPath(r.name))
                    limiter.wrote(Int(r.bytesOut))
                    try fs.syncDirectory(layout.indexDir)
                    ledger = r
                } catch let e as StoreError where e.code == .notFound {
                    // Another writer merged them meanwhile (a build without the lock): the
                    // switch would discard this merge anyway.
                    storeOptions.logger.info("ledger merge skipped: its inputs were replaced meanwhile", metadata: ["error": "\(e)"])
                }
            }
        } catch {
            for p in written { try? fs.unlink(p) }
            throw error
        }
        CrashPoint.hit(CrashPoint.compactionWritten)
        let bytes = results.reduce(UInt64(0)) { $0 + $1.outputBytes } + (ledger?.bytesOut ?? 0)
        return CompactionOutput(
            plan: plan, tasks: results, ledger: ledger, bytesWritten: bytes,
            seconds: clock.seconds(since: start))
    }

    static func buildTask(
        _ task: CompactionTask, base: Manifest, layout: StoreLayout, storeOptions: StoreOptions,
        limiter: inout WriteRateLimiter, cancel: CompactionCancel?, written: inout [String]
    ) throws -> CompactionTaskResult {
        let fs = storeOptions.fileSystem
        // A snapshot of just the inputs (and the base watermarks), their files opened now: the
        // fds keep them readable even after a later switch unlinks them, however long the
        // build takes. A task of very many inputs reads them through the descriptor cache
        // instead (bounded open files); should the build outlast the grace period for
        // replaced files and an input go, it fails as stale and is planned again.
        var view = base
        view.segments = task.inputs
        let snap = try Snapshot(layout: layout, manifest: view, fs: fs, logger: storeOptions.logger,
                                pinned: task.inputs.count <= SegmentFiles.defaultCapacity() / 4)
        // The output is written with the catalog's schema: inputs written before a column was
        // added hold nulls for it (FORMAT.md §2.4).
        guard let m = snap.catalog.measurement(id: task.measurementID) else {
            throw StoreError(.corrupt, "compact", path: layout.root, "unknown measurement id \(task.measurementID)")
        }
        if !snap.missingSegments.isEmpty
            || task.inputs.contains(where: { (try? fs.fileSize(layout.segmentPath($0.name))) == nil }) {
            // Built without the writer lock (`tacho compact`), the inputs may have been
            // replaced and unlinked by another writer since the plan: the switch would discard
            // this task anyway. Skip it; the next run plans on the new segments.
            storeOptions.logger.info("compaction task skipped: its inputs were replaced meanwhile", metadata: [
                "measurement": "\(task.measurementName)", "partition": "\(task.partitionLabel)",
            ])
            var r = CompactionTaskResult(task: task, output: nil, outputRows: 0, expiredRows: 0, supersededRows: 0)
            r.applied = false
            return r
        }
        let from = max(task.partitionStart, task.cutoff)
        let expired = try countBelow(task.cutoff, snapshot: snap, inputs: task.inputs)
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(m, from: from, to: base.partitionEnd(of: task.partitionStart)))

        let name = StoreLayout.segmentName(measurement: m, partitionStart: task.partitionStart, number: task.outputNumber)
        let path = layout.segmentPath(name)
        var segOptions = storeOptions.segment
        segOptions.zstdLevel = task.zstdLevel
        var builder = SegmentBuilder(measurement: m, partitionStart: task.partitionStart, seq: task.outputNumber, options: segOptions)
        let fd = try fs.createFile(path)
        written.append(path)
        var size: UInt64 = 0
        var fdOpen = true
        defer { if fdOpen { try? fs.close(fd, path: path) } }
        func drain() throws {
            let bytes = builder.takePending()
            guard !bytes.isEmpty else { return }
            size += UInt64(bytes.count)
            try bytes.withUnsafeBytes { try fs.write(fd, $0, path: path) }
            limiter.wrote(bytes.count)
        }

        // One vehicle's rows at a time (the cursor yields vehicles in order, each vehicle's
        // rows in (time, identity) order, one row per identity).
        var acc = VehicleAccumulator(m)
        var current: String?
        var outRows = 0
        func flush() throws {
            guard let v = current, acc.count > 0 else { return }
            try builder.appendVehicle(v, times: acc.times, columns: acc.columns, range: 0..<acc.count, dictionary: acc.dictionary)
            outRows += acc.count
            acc.reset()
            if builder.pending.count >= 1 << 20 { try drain() }
        }
        while let b = try cursor.next() {
            if current.map({ !byteEqual($0, b.vehicle) }) ?? true {
                try flush()
                current = b.vehicle
                if cancel?.isCancelled == true { throw CompactionCancelled() }
            }
            acc.append(b)
        }
        try flush()
        let footer = builder.finish()
        try drain()
        try fs.sync(fd, path: path)
        fdOpen = false
        try fs.close(fd, path: path)
        let superseded = max(0, task.inputRows - expired - outRows)
        guard footer.rowCount > 0 else {
            // Nothing survived: the partition simply goes away at the switch.
            try fs.unlink(path)
            written.removeLast()
            return CompactionTaskResult(task: task, output: nil, outputRows: 0, expiredRows: expired, supersededRows: superseded)
        }
        let meta = SegmentMeta(
            name: name, measurementID: m.id, partitionStart: task.partitionStart, seq: task.outputNumber,
            rowCount: footer.rowCount, minTime: footer.minTime, maxTime: footer.maxTime, fileSize: size)
        return CompactionTaskResult(task: task, output: meta, outputRows: outRows, expiredRows: expired, supersededRows: superseded)
    }

    /// Stored rows (superseded copies included) with `time < cutoff`, from footers where a
    /// chunk lies wholly on one side, decoding only the time column of straddling chunks.
    static func countBelow(_ cutoff: Int64, snapshot: Snapshot, inputs: [SegmentMeta]) throws -> Int {
        guard cutoff > .min else { return 0 }
        var n = 0
        for s in inputs where s.minTime < cutoff {
            let r = try snapshot.reader(s)
            var scratch = DecodedChunk(measurement: r.schema)
            let none = Array(repeating: false, count: r.schema.columns.count)
            for v in r.footer.vehicles {
                for c in v.chunks where c.minTime < cutoff {
                    if c.maxTime < cutoff {
                        n += c.rowCount
                    } else {
                        do { try r.decode(c, columns: none, into: &scratch) } catch let e as SegmentError { throw StoreError.corrupt(e) }
                        n += lowerBound(scratch.times, cutoff)
                    }
                }
            }
        }
        return n
    }

    static func mergeLedgers(_ t: LedgerMergeTask, layout: StoreLayout, fs: any StoreFileSystem) throws -> LedgerMergeResult {
        precondition(t.outputNumber > 0, "ledger merge without a reserved number")
        var entries: [LedgerEntry] = []
        var bytesIn: UInt64 = 0
        for name in t.inputs {
            let path = layout.indexPath(name)
            let bytes = try readFile(path, fs: fs)
            guard let e = LedgerFile.decode(bytes) else {
                throw StoreError(.corrupt, "read ledger", path: path, "checksum or structure mismatch")
            }
            bytesIn += UInt64(bytes.count)
            entries.append(contentsOf: e)
        }
        let count = entries.count
        if let before = t.pruneBefore { entries.removeAll { $0.ingestedAt < before } }
        let name = StoreLayout.ledgerName(number: t.outputNumber)
        let out = LedgerFile.encode(entries)
        try StoreWriter.writeNewFile(layout.indexPath(name), out, fs: fs)
        return LedgerMergeResult(task: t, name: name, entriesIn: count, entriesOut: entries.count,
                                 bytesIn: bytesIn, bytesOut: UInt64(out.count))
    }
}

/// One vehicle's rows on their way into a `SegmentBuilder`, strings interned into one
/// dictionary (reset per vehicle, so memory is bounded by one vehicle-partition).
struct VehicleAccumulator {
    let measurement: Measurement
    var times: [Int64] = []
    var columns: [ColumnValues]
    var dictionary: [String] = []
    private var lookup: [ByteString: UInt32] = [:]

    init(_ m: Measurement) {
        measurement = m
        columns = m.columns.map { ColumnValues(type: $0.type) }
    }

    var count: Int { times.count }

    mutating func reset() {
        times.removeAll(keepingCapacity: true)
        for i in columns.indices { columns[i].removeAll() }
        dictionary.removeAll(keepingCapacity: true)
        lookup.removeAll(keepingCapacity: true)
    }

    mutating func append(_ b: ScanBatch) {
        guard !b.range.isEmpty else { return }
        times.append(contentsOf: b.chunk.times[b.range])
        for c in columns.indices {
            let src = b.chunk.columns[c]
            var map: [UInt32]?
            if src.type.codec.usesDictionary {
                // Only the dictionary entries the rows use are interned.
                var m = [UInt32](repeating: .max, count: src.dictionary.count)
                for i in b.range {
                    let r = src.type == .string ? i..<(i + 1) : src.values.listRange(i)
                    for k in r {
                        let local = Int(src.ids[k])
                        if m[local] == .max { m[local] = intern(src.dictionary[local]) }
                    }
                }
                map = m
            }
            columns[c].append(from: src.values, b.range, remap: map)
        }
    }

    private mutating func intern(_ s: String) -> UInt32 {
        if let id = lookup[ByteString(s)] { return id }
        let id = UInt32(dictionary.count)
        dictionary.append(s)
        lookup[ByteString(s)] = id
        return id
    }
}

/// Paces writes to an average rate by sleeping (flash wear; leaves I/O to ingest).
struct WriteRateLimiter {
    let bytesPerSecond: Double
    let clock: StoreClock
    private var start: UInt64?
    private var bytes: Double = 0

    init(bytesPerSecond: Double, clock: StoreClock) {
        self.bytesPerSecond = bytesPerSecond
        self.clock = clock
    }

    mutating func wrote(_ n: Int) {
        guard bytesPerSecond > 0 else { return }
        let start = self.start ?? clock.monotonicNanos()
        self.start = start
        bytes += Double(n)
        let due = bytes / bytesPerSecond
        while true {
            let elapsed = clock.seconds(since: start)
            guard due > elapsed else { return }
            clock.sleep(seconds: min(due - elapsed, 0.5))
        }
    }
}

extension StoreFileSystem {
    /// A file's mtime in µs, or nil (the compaction planner's notion of a segment's age).
    public func mtimeMicros(_ path: String) -> Int64? {
        status(path, followingLinks: true)?.mtimeMicros
    }
}
