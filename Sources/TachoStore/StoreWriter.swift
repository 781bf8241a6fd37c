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
    /// The store's measurements (FORMAT.md §7): the stored catalog with
    /// `StoreOptions.measurements` (and `declare(_:)`) reconciled into it. Build batches with
    /// its measurements. A measurement enters the stored catalog with the commit that first
    /// writes its rows (`storedCatalog`).
    public private(set) var catalog: Catalog
    /// The catalog the current manifest names (what a reader opening the store sees).
    public internal(set) var storedCatalog: Catalog
    /// Measurements `declare(_:)` added or changed in `catalog`.
    private var declaredIDs = Set<UInt8>()
    let options: StoreOptions
    var fs: any StoreFileSystem { options.fileSystem }
    /// The files, locks and clocks this writer works with (`StoreOptions.environment`);
    /// retention, compaction and the daemon take theirs from here.
    public var environment: StoreEnvironment { options.environment }
    var logger: Logger { options.logger }
    private var lock: StoreLock?
    /// The segment handles of the snapshots this writer hands out (`snapshot()`).
    let handles: SegmentHandleCache

    /// Buffered rows of the open transaction, by partition, and the writer-wide string table
    /// their string values and vehicle ids index.
    var rows = RowBuffers()
    var buffers: [PartitionKey: PartitionBuffer] { rows.buffers }
    /// Segments written by the open transaction, not yet in the manifest.
    var pendingSegments: [SegmentMeta] = []
    /// Rows of the open transaction dropped for a later row of the same source (see
    /// `SupersededRows`); reported by `commit()`.
    var superseded = SupersededRows()
    var latest: LatestIndex
    var latestDirty = false
    private var committedLatest: LatestIndex
    /// Files the manifest no longer names, unlinked once their grace period ends
    /// (`StoreOptions.obsoleteFileGrace`): (path, monotonic ns when they may go).
    var obsoleteFiles: [(path: String, due: UInt64)] = []
    /// Ledger entries of files ingested since the store opened, by content hash.
    public private(set) var ledger: [ContentHash: LedgerEntry] = [:]
    /// Where each content's most recent ledger entry stands in commit order (the manifest's
    /// ledger files in order, entries in file order): the order `tacho ingest --force` replays
    /// files in, so a later correction is replayed after what it corrected.
    public private(set) var ledgerPosition: [ContentHash: Int] = [:]
    /// How this store's ledger hashes files (FORMAT.md §5): version 1's algorithm while any
    /// listed ledger file is version 1 (a store written before version 2, whose entries must
    /// keep matching re-deliveries), else the current one.
    public private(set) var hashAlgorithm = ContentHashAlgorithm.current
    private var recordedEntries = 0

    /// Opens (creating if needed) the store at `path` for writing: takes the lock, removes
    /// files left by an interrupted commit, loads the latest-status index and the ledger.
    public convenience init(path: String, options: StoreOptions = StoreOptions()) throws {
        try self.init(path: path, options: options, maintenanceOnly: false)
    }

    /// Opens (creating if needed) the store at `path` with the `measurements` declared
    /// (`StoreOptions.measurements`, FORMAT.md §7): throws `CatalogError` for a declaration
    /// the store's catalog contradicts, before anything is written.
    public convenience init(path: String, measurements: [Measurement], options: StoreOptions = StoreOptions()) throws {
        var o = options
        o.measurements = measurements
        try self.init(path: path, options: o, maintenanceOnly: false)
    }

    /// Opens an existing store for maintenance only (compaction switches, retention): takes
    /// the lock, reads the manifest and removes orphans, but neither loads the latest-status
    /// index nor the ledger (which a switch does not need: the lock is held briefly), and
    /// refuses appends and commits. Never creates a store.
    public static func openForMaintenance(path: String, options: StoreOptions = StoreOptions()) throws -> StoreWriter {
        try StoreWriter(path: path, options: options, maintenanceOnly: true)
    }

    /// True for a writer opened by `openForMaintenance`.
    let maintenanceOnly: Bool

    private init(path: String, options: StoreOptions, maintenanceOnly: Bool) throws {
        layout = StoreLayout(root: path)
        self.maintenanceOnly = maintenanceOnly
        self.options = options
        handles = options.handleCache ?? SegmentHandleCache()
        let fs = options.fileSystem
        // A declaration that contradicts the stored catalog is refused before anything is
        // written, not even a new store's directory (checked again under the lock below).
        if !options.measurements.isEmpty {
            let m: Manifest? = (try? readManifest(layout, fs: fs)) ?? nil
            _ = try CatalogFile.read(layout, manifest: m, fs: fs).resolving(options.measurements)
        }
        try fs.createDirectory(layout.root)
        let log = options.logger
        let wait = options.lockWaitSeconds
        let lock = try StoreLock(path: layout.lock, environment: options.environment, waitSeconds: wait) { pid in
            log.notice("store is locked by another writer; waiting", metadata: ["pid": "\(pid)", "up_to_seconds": "\(wait)"])
        }
        try fs.createDirectory(layout.segmentsDir)
        try fs.createDirectory(layout.indexDir)
        try layout.checkSubdirectories(fs: fs)
        if let m = try readManifest(layout, fs: fs) {
            manifest = m
        } else if maintenanceOnly {
            throw StoreError(.notFound, "open store", path: layout.manifest, "no MANIFEST: not a Tacho store")
        } else {
            // Segments or ledgers without a MANIFEST are a store that lost it, not a new one:
            // creating one here would delete them all as orphans (a lost ledger too, which
            // alone recognises re-deliveries).
            let leftovers = leftoverFiles(layout, fs: fs)
            guard leftovers == 0 else {
                throw StoreError(
                    .corrupt, "open store", path: layout.manifest,
                    "MANIFEST is missing but segments/ and index/ hold \(leftovers) files; run `tacho verify --repair` to rebuild MANIFEST from them")
            }
            var m = Manifest()
            m.partitionWidth = options.partitionWidth
            manifest = m
            try Self.writeManifest(m, layout: layout, fs: fs)
            options.logger.info("created store", metadata: ["path": "\(layout.root)"])
        }
        // Nothing is written for the declarations here: each measurement's entry is stored by
        // the commit that writes its first rows (FORMAT.md §7).
        storedCatalog = try CatalogFile.read(layout, manifest: manifest, fs: fs)
        catalog = try storedCatalog.resolving(options.measurements)
        self.lock = lock
        if maintenanceOnly {
            latest = LatestIndex()
        } else {
            let snapshotForIndex = try Snapshot(layout: layout, manifest: manifest, catalog: catalog, fs: fs, logger: options.logger,
                                                cache: handles)
            latest = try snapshotForIndex.latestIndex()
        }
        committedLatest = latest
        try removeOrphans()
        if !maintenanceOnly { try loadLedger() }
    }

    func checkWritable(_ op: String) throws {
        guard lock != nil else { throw StoreError(.closed, op, path: layout.root, "writer is closed") }
        guard !maintenanceOnly else { throw StoreError(.invalidArgument, op, path: layout.root, "writer opened for maintenance only") }
    }

    /// Releases the lock. Rows appended since the last commit are discarded. Replaced files
    /// still in their grace period are unlinked now (those a live snapshot of this process
    /// names, at its release: `FilePins`): a one-shot command (`tacho compact`, `tacho
    /// ingest`) leaves no files behind. A reader in another process that took its snapshot
    /// before the last switch and opens one of them only now fails as `stale` (run it
    /// again), never as damage.
    public func close() {
        abort()
        if lock != nil { removeObsoleteFiles(all: true) }
        lock?.release()
        lock = nil
    }

    deinit { lock?.release() }

    /// A snapshot of the last commit (for reads in the writer's process).
    public func snapshot() throws -> Snapshot {
        try Snapshot(layout: layout, manifest: manifest, catalog: catalog, fs: fs, logger: logger, latest: committedLatest,
                     cache: handles)
    }

    /// Schedules files the manifest just stopped naming for removal after the grace period;
    /// `urgent` (freeing disk space) unlinks them now. Either way a file that a live snapshot
    /// of this process names stays until that snapshot is released (`FilePins`).
    func retire(_ paths: [String], urgent: Bool = false) {
        guard !paths.isEmpty else { return }
        let grace = options.obsoleteFileGrace
        if urgent || grace <= 0 {
            for p in paths { unlinkUnlessPinned(p) }
            return
        }
        let due = options.clock.monotonicNanos() &+ UInt64(grace * 1e9)
        for p in paths { obsoleteFiles.append((p, due)) }
    }

    /// Unlinks the replaced files whose grace period is over (`all`: every one, now: disk
    /// space is short). Called after every commit and manifest switch, and by the daemon's
    /// periodic maintenance. A failure leaves an orphan that the next writer open removes.
    public func removeObsoleteFiles(all: Bool = false) {
        guard !obsoleteFiles.isEmpty else { return }
        let now = options.clock.monotonicNanos()
        var keep: [(path: String, due: UInt64)] = []
        for f in obsoleteFiles {
            guard all || f.due <= now else {
                keep.append(f)
                continue
            }
            unlinkUnlessPinned(f.path)
        }
        obsoleteFiles = keep
    }

    /// Unlinks a replaced file now, or hands it to the snapshots of this process that still
    /// name it (unlinked at the last one's release).
    func unlinkUnlessPinned(_ path: String) {
        do {
            try FilePins.shared.unlinkOrDefer(path, fs: fs)
        } catch {
            logger.warning("cannot remove replaced file: \(error)", metadata: ["file": "\(path)"])
        }
    }

    /// Replaced files waiting for their grace period to end.
    public var obsoleteFileCount: Int { obsoleteFiles.count }

    /// Whether a file with this content was already ingested (a re-delivery).
    public func ledgerEntry(for hash: ContentHash) -> LedgerEntry? { ledger[hash] }

    /// Appends rows to the open transaction. May spill sealed segments to disk; they stay
    /// invisible until `commit()`.
    public func append(_ batch: RowBatch) throws {
        try checkWritable("append")
        guard !batch.isEmpty else { return }
        try checkSchema(batch.measurement)
        let full = rows.add(batch, budget: options.bufferBytes, in: manifest)
        if let col = batch.measurement.latestColumn { offerLatest(batch, column: col) }
        if full { try spill() }
    }

    /// Appends rows sealed on another thread by `StoreWriter.seal` (same rows, same segments
    /// as appending their batches to an empty transaction). Buffered rows are sealed first, so
    /// they keep the lower segment numbers, as they would have by arriving first.
    public func append(_ sealed: SealedRows) throws {
        try checkWritable("append")
        for b in sealed.bodies { try checkSchema(b.measurement) }
        if !rows.buffers.isEmpty { try spill() }
        superseded.add(sealed.superseded)
        // Offer each batch's statuses when the sequential path would have: after the segments
        // sealed before it got their numbers.
        var written = 0
        for (batch, before) in sealed.latestBatches {
            while written < before {
                pendingSegments.append(try writeSegment(sealed.bodies[written]))
                written += 1
            }
            if let col = batch.measurement.latestColumn { offerLatest(batch, column: col) }
        }
        while written < sealed.bodies.count {
            pendingSegments.append(try writeSegment(sealed.bodies[written]))
            written += 1
        }
    }

    private func offerLatest(_ batch: RowBatch, column: Int) {
        // Provisional seq: every segment this transaction writes gets a number ≥ nextNumber,
        // every earlier one got less; ties inside the transaction go to the later append.
        if latest.offer(batch, column: column, seq: manifest.nextNumber) { latestDirty = true }
    }

    /// Seals every buffer into segment files (still invisible until commit).
    func spill() throws {
        while let (key, buf) = rows.takeFirst() {
            do {
                pendingSegments.append(try sealSegment(buf, partitionStart: key.start))
            } catch {
                rows.buffers[key] = buf
                throw error
            }
            rows.recycle(buf)
        }
    }

    /// Discards the open transaction: buffered rows and spilled segments.
    public func abort() {
        rows.reset()
        superseded = SupersededRows()
        for s in pendingSegments { try? fs.unlink(layout.segmentPath(s.name)) }
        pendingSegments.removeAll()
        latest = committedLatest
        latestDirty = false
    }

    func restoreAfterCommit(latest l: LatestIndex) {
        rows.reset()  // empty after a commit; drops the spare storage: it does not outlive the transaction
        committedLatest = l
        latest = l
        latestDirty = false
    }

    func recordLedger(_ entries: [LedgerEntry]) {
        for e in entries {
            ledger[e.hash] = e
            ledgerPosition[e.hash] = recordedEntries
            recordedEntries += 1
        }
    }

    private func loadLedger() throws {
        for name in manifest.ledgers {
            let path = layout.indexPath(name)
            // The ledger only recognises re-deliveries: a damaged one must not keep the writer
            // (and `verify --repair`, which drops it) from opening. Its files, if delivered
            // again, are ingested again; their rows replace themselves by identity.
            guard let contents = (try? readFile(path, fs: fs)).flatMap(LedgerFile.decodeContents) else {
                logger.error("ledger file missing or damaged; re-deliveries of its files will be ingested again; run `tacho verify --repair`", metadata: ["file": "\(path)"])
                continue
            }
            if contents.algorithm.rawValue < hashAlgorithm.rawValue { hashAlgorithm = contents.algorithm }
            recordLedger(contents.entries)
        }
    }

    /// Removes files no commit references: segments, index and ledger files, temp files
    /// left by a commit that did not reach its manifest switch. Files numbered in the range a
    /// running `tacho compact` reserved (`COMPACTING`, held by a live process) are its outputs
    /// still being written: they stay (FORMAT.md §3.5 "Standalone compaction").
    private func removeOrphans() throws {
        let reserved = CompactionClaim.liveReservation(layout.compacting, fs: fs)
        try removeUnreferenced(
            in: layout.segmentsDir, "segments/", live: Set(manifest.segments.map(\.name)), reserved: reserved,
            path: layout.segmentPath, notice: "removing orphan segment from an interrupted commit")
        try removeUnreferenced(
            in: layout.indexDir, "index/", live: Set(manifest.ledgers + [manifest.latestIndex, manifest.catalog]), reserved: reserved,
            path: layout.indexPath, notice: "removing orphan index file")
        try fs.unlink(layout.manifestTemp)
        if !maintenanceOnly { try fs.unlink(layout.catalogTemp) }
    }

    /// Adds `measurements` to `catalog` (as `StoreOptions.measurements` are: `Catalog.resolving`)
    /// and returns it: measurements created while the writer is open (line protocol's schema on
    /// write). Each is stored with the commit that writes its first rows, in the same manifest
    /// switch (FORMAT.md §7); throws `CatalogError` for a contradiction, changing nothing.
    @discardableResult
    public func declare(_ measurements: [Measurement]) throws -> Catalog {
        let next = try catalog.resolving(measurements)
        for m in next.measurements where catalog.measurement(id: m.id) != m { declaredIDs.insert(m.id) }
        catalog = next
        return catalog
    }

    /// Takes back what `declare(_:)` added that no commit stored: each such measurement is
    /// the stored one again, or gone. Layouts and rows built with it must not be used after.
    /// Does nothing while a transaction is open.
    public func forgetUnstoredDeclarations() {
        guard !hasOpenTransaction, !declaredIDs.isEmpty else { return }
        var ms = catalog.measurements.filter { !declaredIDs.contains($0.id) }
        for id in declaredIDs { if let m = storedCatalog.measurement(id: id) { ms.append(m) } }
        catalog = Catalog(ms)
        declaredIDs.removeAll()
    }

    /// Rows must be built for the catalog's schema of their measurement: its column ids are
    /// what segments record (FORMAT.md §2.4).
    func checkSchema(_ m: Measurement) throws {
        guard catalog.measurement(id: m.id) == m else {
            let known = catalog.measurement(id: m.id).map { "the catalog's \($0.name) has columns \($0.columns.map(\.name))" }
                ?? "the catalog has no measurement \(m.id)"
            throw StoreError(.invalidArgument, "append", path: layout.root,
                             "rows of \(m.name) (columns \(m.columns.map(\.name))) are not built for the store's schema: \(known); build them with StoreWriter.catalog")
        }
    }

    /// Unlinks every entry of `dir` whose name is not in `live`. One that cannot go (not ours
    /// to delete: a directory someone made?) is logged and left: it must not keep the store
    /// from opening.
    private func removeUnreferenced(
        in dir: String, _ label: String, live: Set<String>, reserved: Range<UInt64>?, path: (String) -> String,
        notice: Logger.Message
    ) throws {
        for name in try fs.listDirectory(dir) where !live.contains(name) {
            if let reserved, let n = Self.fileNumber(name), reserved.contains(n) {
                logger.debug("leaving a running compaction's output", metadata: ["file": "\(name)"])
                continue
            }
            logger.notice(notice, metadata: ["file": "\(name)"])
            do {
                // A live snapshot of this process may still name it (a commit it saw was
                // replaced before this writer opened): it goes at that snapshot's release.
                try FilePins.shared.unlinkOrDefer(path(name), fs: fs)
            } catch {
                logger.warning("cannot remove unreferenced entry in \(label): \(error)")
            }
        }
    }
}
