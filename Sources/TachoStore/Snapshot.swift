import Logging
import TachoFormat

/// A consistent, read-only view of the store at one commit. Opening one takes no lock and
/// opens no segment: it reads MANIFEST (replaced atomically by writers); a segment file is
/// opened when a read first needs it, through a bounded cache of descriptors
/// (`SegmentFiles`), so a store of thousands of segments needs no more open files than the
/// query touches at once. A writer unlinks the files a commit replaced only after a grace
/// period (`StoreOptions.obsoleteFileGrace`), so a snapshot younger than that reads them; an
/// older one may find one gone and fails with `StoreError.Code.stale` (run it again). One
/// snapshot serves one thread at a time (its segment readers hold scratch buffers).
public final class Snapshot {
    public let layout: StoreLayout
    public let manifest: Manifest
    /// The store's measurements (FORMAT.md §7): look measurements up here, and scan with them.
    public let catalog: Catalog
    let fs: any StoreFileSystem
    let logger: Logger
    let files: SegmentFiles
    /// Sources opened at creation (`pinned`), outside the cache.
    private var pinned: [String: FileSegmentSource] = [:]
    private var readers: [String: SegmentReader] = [:]
    private var cachedLatest: LatestIndex?
    /// Pinned segments whose file could not be found, with the error.
    private var missing: [String: StoreError] = [:]

    /// Opens the newest commit of the store at `path`.
    public static func open(path: String, options: StoreOptions = StoreOptions()) throws -> Snapshot {
        let layout = StoreLayout(root: path)
        try layout.checkSubdirectories(fs: options.fileSystem)
        guard let m = try readManifest(layout, fs: options.fileSystem) else {
            let leftovers = leftoverFiles(layout, fs: options.fileSystem)
            if leftovers > 0 {
                throw StoreError(
                    .corrupt, "open store", path: layout.manifest,
                    "MANIFEST is missing but segments/ and index/ hold \(leftovers) files; run `tacho verify --repair` to rebuild MANIFEST from them")
            }
            throw StoreError(.notFound, "open store", path: path, "no MANIFEST: not a Tacho store (create one with `tacho ingest` or `tacho run`)")
        }
        do {
            return try Snapshot(layout: layout, manifest: m, fs: options.fileSystem, logger: options.logger)
        } catch let e as StoreError where e.code == .notFound && !m.catalog.isEmpty {
            // The catalog generation this MANIFEST names was replaced (and, its grace over,
            // removed) since we read it: open the newer commit.
            guard let now = try readManifest(layout, fs: options.fileSystem), now != m else { throw e }
            return try Snapshot(layout: layout, manifest: now, fs: options.fileSystem, logger: options.logger)
        }
    }

    /// `pinned`: open every segment of `manifest` now and keep it open for the snapshot's
    /// life (compaction and retention read their inputs through such a snapshot: a build may
    /// outlast the grace period). Only for a few segments: each holds a descriptor.
    /// `catalog` nil: read the store's.
    init(layout: StoreLayout, manifest: Manifest, catalog: Catalog? = nil, fs: any StoreFileSystem, logger: Logger,
         latest: LatestIndex? = nil, pinned pin: Bool = false, descriptorCapacity: Int? = nil) throws {
        self.layout = layout
        self.manifest = manifest
        self.catalog = try catalog ?? CatalogFile.read(layout, manifest: manifest, fs: fs)
        self.fs = fs
        self.logger = logger
        cachedLatest = latest
        files = SegmentFiles(layout: layout, manifest: manifest, fs: fs,
                             capacity: descriptorCapacity ?? SegmentFiles.defaultCapacity())
        guard pin else { return }
        for s in manifest.segments {
            let path = layout.segmentPath(s.name)
            do {
                pinned[s.name] = try FileSegmentSource(fd: fs.openForReading(path), path: path, fs: fs)
            } catch let e as StoreError where e.code == .notFound {
                missing[s.name] = e
            }
        }
    }

    private lazy var liveNames = Set(manifest.segments.map(\.name))

    /// Segment descriptors this snapshot holds open right now (tests).
    var openSegmentFiles: Int { files.openCount + pinned.count }

    /// Names of this snapshot's pinned segments whose files were gone when it opened.
    var missingSegments: Set<String> { Set(missing.keys) }

    /// The reader of one live segment; opens the file and parses its footer on first use
    /// (the footer then stays parsed; the descriptor may be closed and re-opened).
    public func reader(_ meta: SegmentMeta) throws -> SegmentReader {
        if let r = readers[meta.name] { return r }
        if let e = missing[meta.name] {
            throw SegmentFiles.missingError(name: meta.name, path: e.path, e, snapshot: manifest, layout: layout, fs: fs)
        }
        let source: any SegmentSource
        let path = layout.segmentPath(meta.name)
        if let p = pinned[meta.name] {
            source = p
        } else {
            guard liveNames.contains(meta.name) else {
                throw StoreError(.notFound, "open segment", path: path, "not in this snapshot")
            }
            let lazy = LazySegmentSource(name: meta.name, path: path, files: files)
            try lazy.open()
            source = lazy
        }
        do {
            let r = try SegmentReader(source: source, path: path)
            // Decode into the catalog's schema: a column added after the segment was written
            // reads as null (FORMAT.md §2.4).
            if let m = catalog.measurement(id: meta.measurementID) {
                do {
                    try r.project(onto: m)
                } catch {
                    throw StoreError(.corrupt, "open segment", path: path, "\(error)")
                }
            }
            readers[meta.name] = r
            return r
        } catch let e as SegmentError {
            throw StoreError.corrupt(e)
        }
    }

    /// Live segments of a measurement whose time range meets `[from, to)`, by partition then seq.
    public func segments(of m: Measurement, from: Int64 = .min, to: Int64 = .max) -> [SegmentMeta] {
        let lo = max(from, manifest.watermarks[m.id] ?? .min)
        return manifest.segments
            .filter { $0.measurementID == m.id && $0.maxTime >= lo && $0.minTime < to && $0.rowCount > 0 }
            .sorted { ($0.partitionStart, $0.seq) < ($1.partitionStart, $1.seq) }
    }

    /// The latest-status index of this commit: the persisted file, or rebuilt from segment
    /// footers when it is missing or damaged.
    public func latestIndex() throws -> LatestIndex {
        if let l = cachedLatest { return l }
        let l = try loadLatestIndex(manifest: manifest, catalog: catalog, layout: layout, fs: fs, logger: logger) { try self.reader($0) }
        cachedLatest = l
        return l
    }
}

/// Loads the index file the manifest names; on any problem rebuilds it from footers. Only a
/// file missing or damaged under an unchanged MANIFEST is worth a warning: under a changed
/// one, a later commit replaced the index (and removed the old file after its grace period),
/// and the rebuild is the ordinary way to serve this older snapshot.
func loadLatestIndex(
    manifest: Manifest, catalog: Catalog, layout: StoreLayout, fs: any StoreFileSystem, logger: Logger,
    reader: (SegmentMeta) throws -> SegmentReader
) throws -> LatestIndex {
    if !manifest.latestIndex.isEmpty {
        let path = layout.indexPath(manifest.latestIndex)
        if let idx = readLatestIndexFile(manifest: manifest, layout: layout, fs: fs) { return idx }
        if manifestChanged(since: manifest, layout: layout, fs: fs) {
            logger.debug("latest-status index of this snapshot replaced by a later commit; rebuilding from segment footers", metadata: ["path": "\(path)"])
        } else {
            logger.warning("latest-status index missing or damaged; rebuilding from segment footers", metadata: ["path": "\(path)"])
        }
    }
    return try rebuildLatestIndex(manifest: manifest, catalog: catalog, reader: reader)
}

/// The index file `manifest` names, when it is there and intact.
func readLatestIndexFile(manifest: Manifest, layout: StoreLayout, fs: any StoreFileSystem) -> LatestIndex? {
    let path = layout.indexPath(manifest.latestIndex)
    guard let bytes = try? readFile(path, fs: fs), bytes.count >= 4,
          MetadataFile.storedCRC(bytes) == manifest.latestIndexCRC
    else { return nil }
    return LatestIndex.decode(bytes)
}

/// Whether MANIFEST on disk is no longer `manifest` (a later commit switched it). An
/// unreadable MANIFEST counts as unchanged: what is missing is then reported, not excused.
func manifestChanged(since manifest: Manifest, layout: StoreLayout, fs: any StoreFileSystem) -> Bool {
    guard let now = try? readManifest(layout, fs: fs) else { return false }
    return now != manifest
}

/// The latest index from segment footers alone: each chunk records its last row's values,
/// and chunks are time-sorted, so no block is decoded. `reader` gives readers projected onto
/// `catalog` (a latest column is never added later, so every segment has it).
func rebuildLatestIndex(
    manifest: Manifest, catalog: Catalog = .builtIn, reader: (SegmentMeta) throws -> SegmentReader
) throws -> LatestIndex {
    var idx = LatestIndex()
    for m in catalog.measurements {
        guard let col = m.latestColumn else { continue }
        let floor = manifest.watermarks[m.id] ?? .min
        for s in manifest.segments where s.measurementID == m.id && s.maxTime >= floor {
            let r = try reader(s)
            let k = r.footer.measurement.columnIndex(id: m.columns[col].id)
            for v in r.footer.vehicles {
                guard let last = v.chunks.last, let k, let value = ColumnValue.last(of: last.stats[k], type: m.columns[col].type)
                else { continue }
                idx.offer(measurement: m.id, vehicle: v.vehicle, LatestEntry(time: last.maxTime, seq: s.seq, value: value))
            }
        }
    }
    return idx
}
