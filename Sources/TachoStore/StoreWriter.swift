import Logging
import TachoFormat

/// The one writer of a store. Appends rows in batches and publishes them with `commit()`:
/// after it returns, every row appended since the last commit is durable and visible;
/// before, none is. Buffers at most `bufferBytes` of rows, spilling sealed segments as it
/// goes; a commit's segments are published together by one manifest switch.
///
/// REQUIRES: used from one thread at a time.
public final class StoreWriter {
    public let layout: StoreLayout
    public internal(set) var manifest: Manifest
    let options: StoreOptions
    var fs: any StoreFileSystem { options.fileSystem }
    var logger: Logger { options.logger }
    private var lock: StoreLock?

    /// Writer-wide string table: buffered string columns and vehicle ids hold ids into it.
    var strings: [String] = []
    var stringIDs: [String: UInt32] = [:]
    var buffers: [PartitionKey: PartitionBuffer] = [:]
    var bufferedBytes = 0
    /// A sealed buffer's emptied storage, reused by the next buffer of the same transaction
    /// (a large file spills many times) instead of freeing and mapping megabytes again.
    var spareBuffer: PartitionBuffer?
    /// Segments written by the open transaction, not yet in the manifest.
    var pendingSegments: [SegmentMeta] = []
    var latest: LatestIndex
    var latestDirty = false
    private var committedLatest: LatestIndex
    /// Ledger entries of files ingested since the store opened, by content hash.
    public private(set) var ledger: [ContentHash: LedgerEntry] = [:]

    struct PartitionKey: Hashable {
        var measurementID: UInt8
        var start: Int64
    }

    struct PartitionBuffer {
        let measurement: Measurement
        var vehicles: [UInt32] = []
        var times: [Int64] = []
        var columns: [ColumnValues]

        init(_ m: Measurement) {
            measurement = m
            columns = m.columns.map { ColumnValues(type: $0.type) }
        }

        /// An empty buffer with room for `rows` rows, so appends up to the spill threshold
        /// never reallocate: growing by doubling would hold old and new copies at once and
        /// leave up to twice the rows' size allocated (pages not yet written cost no memory).
        init(_ m: Measurement, capacity rows: Int) {
            measurement = m
            vehicles.reserveCapacity(rows)
            times.reserveCapacity(rows)
            columns = m.columns.map { ColumnValues(type: $0.type, capacity: rows) }
        }

        var count: Int { times.count }
        var capacity: Int { times.capacity }
        var bytesPerRow: Int { Self.bytesPerRow(measurement) }

        /// Empties the buffer, keeping its storage.
        mutating func clear() {
            vehicles.removeAll(keepingCapacity: true)
            times.removeAll(keepingCapacity: true)
            for c in columns.indices { columns[c].removeAll(keepingCapacity: true) }
        }
        static func bytesPerRow(_ m: Measurement) -> Int { 12 + m.columns.reduce(0) { $0 + ($1.type == .string ? 4 : 8) } }
    }

    /// Opens (creating if needed) the store at `path` for writing: takes the lock, removes
    /// files left by an interrupted commit, loads the latest-status index and the ledger.
    public init(path: String, options: StoreOptions = StoreOptions()) throws {
        layout = StoreLayout(root: path)
        self.options = options
        let fs = options.fileSystem
        try fs.createDirectory(layout.root)
        let lock = try StoreLock(path: layout.lock)
        try fs.createDirectory(layout.segmentsDir)
        try fs.createDirectory(layout.indexDir)
        try layout.checkSubdirectories()
        if let m = try readManifest(layout, fs: fs) {
            manifest = m
        } else {
            let leftovers = try fs.listDirectory(layout.segmentsDir)
            guard leftovers.isEmpty else {
                throw StoreError(
                    .corrupt, "open store", path: layout.manifest,
                    "MANIFEST is missing but segments/ holds \(leftovers.count) files; run `tacho verify --repair`")
            }
            var m = Manifest()
            m.partitionWidth = options.partitionWidth
            manifest = m
            try Self.writeManifest(m, layout: layout, fs: fs)
            options.logger.info("created store", metadata: ["path": "\(layout.root)"])
        }
        self.lock = lock
        let snapshotForIndex = try Snapshot(layout: layout, manifest: manifest, fs: fs, logger: options.logger)
        latest = try snapshotForIndex.latestIndex()
        committedLatest = latest
        try removeOrphans()
        try loadLedger()
    }

    /// Releases the lock. Rows appended since the last commit are discarded.
    public func close() {
        abort()
        lock?.release()
        lock = nil
    }

    deinit { lock?.release() }

    /// A snapshot of the last commit (for reads in the writer's process).
    public func snapshot() throws -> Snapshot {
        try Snapshot(layout: layout, manifest: manifest, fs: fs, logger: logger, latest: committedLatest)
    }

    /// Whether a file with this content was already ingested (a re-delivery).
    public func ledgerEntry(for hash: ContentHash) -> LedgerEntry? { ledger[hash] }

    /// Appends rows to the open transaction. May spill sealed segments to disk; they stay
    /// invisible until `commit()`.
    public func append(_ batch: RowBatch) throws {
        guard lock != nil else { throw StoreError(.closed, "append", path: layout.root, "writer is closed") }
        guard !batch.isEmpty else { return }
        let m = batch.measurement
        let map = batch.dictionary.map { internString($0) }
        let width = manifest.partitionWidth
        // Rows of a batch mostly share a partition: append runs of them column by column.
        var start = 0
        while start < batch.count {
            let pstart = manifest.partitionStart(of: batch.times[start])
            let (pend, o) = pstart.addingReportingOverflow(width)
            var end = start + 1
            while end < batch.count && batch.times[end] >= pstart && (o || batch.times[end] < pend) { end += 1 }
            let key = PartitionKey(measurementID: m.id, start: pstart)
            var buf = buffers.removeValue(forKey: key) ?? newBuffer(m, firstRun: end - start)
            buf.vehicles.append(contentsOf: batch.vehicles[start..<end].lazy.map { map[Int($0)] })
            buf.times.append(contentsOf: batch.times[start..<end])
            for c in batch.columns.indices {
                switch batch.columns[c].type {
                case .int64: buf.columns[c].ints.append(contentsOf: batch.columns[c].ints[start..<end])
                case .float64: buf.columns[c].doubles.append(contentsOf: batch.columns[c].doubles[start..<end])
                case .string: buf.columns[c].ids.append(contentsOf: batch.columns[c].ids[start..<end].lazy.map { map[Int($0)] })
                }
            }
            buffers[key] = buf
            start = end
        }
        bufferedBytes += batch.count * PartitionBuffer.bytesPerRow(m)
        if let col = m.latestColumn { offerLatest(batch, column: col) }
        if bufferedBytes > options.bufferBytes { try spill() }
    }

    /// An empty buffer with room for the rows it can receive before the next spill: what is
    /// left of the budget, plus one more batch (the one that crosses it). The spare buffer
    /// when it is large enough.
    private func newBuffer(_ m: Measurement, firstRun: Int) -> PartitionBuffer {
        let rows = max(0, options.bufferBytes - bufferedBytes) / PartitionBuffer.bytesPerRow(m) + firstRun + 1
        if let spare = spareBuffer {
            spareBuffer = nil  // used or freed: never kept beside a new buffer
            if spare.measurement == m && spare.capacity >= rows { return spare }
        }
        return PartitionBuffer(m, capacity: rows + 65_536)
    }

    private func offerLatest(_ batch: RowBatch, column: Int) {
        // Provisional seq: every segment this transaction writes gets a number ≥ nextNumber,
        // every earlier one got less; ties inside the transaction go to the later append.
        let seq = manifest.nextNumber
        for i in 0..<batch.count {
            let v = batch.dictionary[Int(batch.vehicles[i])]
            let e = LatestEntry(time: batch.times[i], seq: seq, status: batch.dictionary[Int(batch.columns[column].ids[i])])
            if let old = latest.entries[v], !e.supersedes(old) { continue }
            latest.entries[v] = e
            latestDirty = true
        }
    }

    func internString(_ s: String) -> UInt32 {
        if let id = stringIDs[s] { return id }
        let id = UInt32(strings.count)
        strings.append(s)
        stringIDs[s] = id
        return id
    }

    /// Seals every buffer into segment files (still invisible until commit).
    func spill() throws {
        let keys = buffers.keys.sorted { ($0.measurementID, $0.start) < ($1.measurementID, $1.start) }
        for key in keys {
            // Out of the table first, so each buffer's memory goes as soon as it is sealed.
            guard var buf = buffers.removeValue(forKey: key) else { continue }
            do {
                pendingSegments.append(try sealSegment(buf, partitionStart: key.start))
            } catch {
                buffers[key] = buf
                throw error
            }
            if buf.capacity > spareBuffer?.capacity ?? 0 {
                buf.clear()
                spareBuffer = buf
            }
        }
        bufferedBytes = 0
    }

    /// Discards the open transaction: buffered rows and spilled segments.
    public func abort() {
        buffers.removeAll()
        spareBuffer = nil
        bufferedBytes = 0
        for s in pendingSegments { try? fs.unlink(layout.segmentPath(s.name)) }
        pendingSegments.removeAll()
        latest = committedLatest
        latestDirty = false
        if strings.count > 1 << 20 { strings.removeAll(); stringIDs.removeAll() }
    }

    func restoreAfterCommit(latest l: LatestIndex) {
        spareBuffer = nil  // a transaction's storage does not outlive it
        committedLatest = l
        latest = l
        latestDirty = false
        if strings.count > 1 << 20 { strings.removeAll(); stringIDs.removeAll() }
    }

    func recordLedger(_ entries: [LedgerEntry]) {
        for e in entries { ledger[e.hash] = e }
    }

    private func loadLedger() throws {
        for name in manifest.ledgers {
            let path = layout.indexPath(name)
            // The ledger only recognises re-deliveries: a damaged one must not keep the writer
            // (and `verify --repair`, which drops it) from opening. Its files, if delivered
            // again, are ingested again; their rows replace themselves by identity.
            guard let entries = (try? readFile(path, fs: fs)).flatMap(LedgerFile.decode) else {
                logger.error("ledger file missing or damaged; re-deliveries of its files will be ingested again; run `tacho verify --repair`", metadata: ["file": "\(path)"])
                continue
            }
            recordLedger(entries)
        }
    }

    /// Removes files no commit references: segments, index and ledger files, temp files
    /// left by a commit that did not reach its manifest switch.
    private func removeOrphans() throws {
        let live = Set(manifest.segments.map(\.name))
        for name in try fs.listDirectory(layout.segmentsDir) where !live.contains(name) {
            logger.notice("removing orphan segment from an interrupted commit", metadata: ["file": "\(name)"])
            do {
                try fs.unlink(layout.segmentPath(name))
            } catch {
                // Not ours to delete (a directory someone made?): leave it, keep serving.
                logger.warning("cannot remove unreferenced entry in segments/: \(error)")
            }
        }
        let liveIndex = Set(manifest.ledgers + [manifest.latestIndex])
        for name in try fs.listDirectory(layout.indexDir) where !liveIndex.contains(name) {
            logger.notice("removing orphan index file", metadata: ["file": "\(name)"])
            do {
                try fs.unlink(layout.indexPath(name))
            } catch {
                // As for segments/: an entry that cannot go must not keep the store from opening.
                logger.warning("cannot remove unreferenced entry in index/: \(error)")
            }
        }
        try fs.unlink(layout.manifestTemp)
    }
}
