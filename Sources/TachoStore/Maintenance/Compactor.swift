import Logging
import Synchronization
import TachoFormat
#if canImport(Glibc)
import Glibc
#endif

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
        // build takes. A task of very many inputs reads them through the handle cache
        // instead (bounded open files); should the build outlast the grace period for
        // replaced files and an input go, it fails as stale and is planned again.
        var view = base
        view.segments = task.inputs
        let snap = try Snapshot(layout: layout, manifest: view, fs: fs, logger: storeOptions.logger,
                                openAll: task.inputs.count <= SegmentHandleCache.defaultCapacity() / 4)
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
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(m, from: from, to: base.partitionEnd(of: task.partitionStart, in: m)))

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
        // The oldest algorithm among the inputs: the writer hashes by it while such a ledger
        // is listed (inputs of two versions come only from a downgrade; see FORMAT.md §5).
        var algorithm = ContentHashAlgorithm.current
        for name in t.inputs {
            let path = layout.indexPath(name)
            let bytes = try readFile(path, fs: fs)
            guard let e = LedgerFile.decodeContents(bytes) else {
                throw StoreError(.corrupt, "read ledger", path: path, "checksum or structure mismatch")
            }
            bytesIn += UInt64(bytes.count)
            if e.algorithm.rawValue < algorithm.rawValue { algorithm = e.algorithm }
            entries.append(contentsOf: e.entries)
        }
        let count = entries.count
        if let before = t.pruneBefore { entries.removeAll { $0.ingestedAt < before } }
        let name = StoreLayout.ledgerName(number: t.outputNumber)
        let out = LedgerFile.encode(entries, algorithm: algorithm)
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
