import Logging
import Synchronization
import SystemPackage
import TachoFormat

/// A consistent, read-only view of the store at one commit, `Sendable`: any number of
/// queries on any threads share one snapshot. Opening one takes no lock and opens no
/// segment: it reads MANIFEST (replaced atomically by writers) and pins the files that commit
/// names (`FilePins`), so no writer of this process unlinks them while the snapshot lives. A
/// segment is opened when a read first needs it, through the store's bounded cache of shared
/// handles (`SegmentHandleCache`); each `reader(_:)` is a cursor's own scratch over the
/// shared handle. A writer in another process keeps the files a commit replaced for a grace
/// period (`StoreOptions.obsoleteFileGrace`): a snapshot older than that may find one gone
/// and fails with `StoreError.Code.stale` (run it again).
public final class Snapshot: Sendable {
    public let layout: StoreLayout
    public let manifest: Manifest
    /// The store's measurements (FORMAT.md §7): look measurements up here, and scan with them.
    public let catalog: Catalog
    let fs: any StoreFileSystem
    let logger: Logger
    /// Where this snapshot's segments are opened (shared with the writer's other snapshots
    /// when the writer made it).
    let handles: SegmentHandleCache
    /// Descriptors opened at creation (`openAll`), outside the cache, with the segments whose
    /// file could not be found then.
    private let opened: [String: FileSegmentSource]
    private let missingAtOpen: [String: StoreError]
    private let liveNames: Set<String>
    /// The files this snapshot pins (`FilePins`) until it is released.
    private let pinnedPaths: [String]

    private struct State {
        var latest: LatestIndex?
        /// Footers parsed so far: re-opening a segment whose handle the cache dropped checks
        /// the file and reuses it (`SegmentHandle.init(source:reusing:)`).
        var parsed: [String: SegmentHandle.Parsed] = [:]
        /// Handles over `opened` sources, kept for the snapshot's life.
        var openedHandles: [String: SegmentHandle] = [:]
        /// Segments found missing, with the error every later read of them gets.
        var missing: [String: StoreError] = [:]
        var footersParsed = 0
    }
    private let state: Mutex<State>

    /// Opens the newest commit of the store at `path`. `options.handleCache`, when set, is
    /// the cache its segments are opened through (share one among the snapshots of a server).
    public static func open(path: String, options: StoreOptions = StoreOptions()) throws -> Snapshot {
        let layout = StoreLayout(root: path)
        let fs = options.fileSystem
        try layout.checkSubdirectories(fs: fs)
        guard var m = try readManifest(layout, fs: fs) else {
            let leftovers = leftoverFiles(layout, fs: fs)
            if leftovers > 0 {
                throw StoreError(
                    .corrupt, "open store", path: layout.manifest,
                    "MANIFEST is missing but segments/ and index/ hold \(leftovers) files; run `tacho verify --repair` to rebuild MANIFEST from them")
            }
            throw StoreError(.notFound, "open store", path: path, "no MANIFEST: not a Tacho store (create one with `tacho ingest` or `tacho run`)")
        }
        var attempts = 0
        while true {
            attempts += 1
            let snap: Snapshot
            do {
                snap = try Snapshot(layout: layout, manifest: m, fs: fs, logger: options.logger, cache: options.handleCache)
            } catch let e as StoreError where e.code == .notFound && !m.catalog.isEmpty && attempts < 5 {
                // The catalog generation this MANIFEST names was replaced (and removed) since
                // we read it: open the newer commit.
                guard let now = try readManifest(layout, fs: fs), now != m else { throw e }
                m = now
                continue
            }
            // Pinned now. A writer of this process unlinks only files its current manifest
            // no longer names, after switching away from them: when MANIFEST is still `m`,
            // none of `m`'s files can have gone between the read and the pin. When it moved
            // on, take the newer commit (a few times; beyond that, the grace period covers).
            guard attempts < 5, let now = try? readManifest(layout, fs: fs), now != m else { return snap }
            m = now
        }
    }

    /// `openAll`: open every segment of `manifest` now and keep the descriptors for the
    /// snapshot's life, outside the cache (compaction and retention read their inputs through
    /// such a snapshot: another process's writer may unlink them meanwhile). Only for a few
    /// segments: each holds a descriptor. `catalog` nil: read the store's. `cache` nil: a
    /// cache of the default capacity for this snapshot alone.
    init(layout: StoreLayout, manifest: Manifest, catalog: Catalog? = nil, fs: any StoreFileSystem, logger: Logger,
         latest: LatestIndex? = nil, openAll: Bool = false, cache: SegmentHandleCache? = nil) throws {
        self.layout = layout
        self.manifest = manifest
        self.catalog = try catalog ?? CatalogFile.read(layout, manifest: manifest, fs: fs)
        self.fs = fs
        self.logger = logger
        handles = cache ?? SegmentHandleCache()
        liveNames = Set(manifest.segments.map(\.name))
        var paths = manifest.segments.map { layout.segmentPath($0.name) }
        if !manifest.latestIndex.isEmpty { paths.append(layout.indexPath(manifest.latestIndex)) }
        pinnedPaths = paths
        var opened: [String: FileSegmentSource] = [:]
        var missing: [String: StoreError] = [:]
        if openAll {
            for s in manifest.segments {
                let path = layout.segmentPath(s.name)
                do {
                    opened[s.name] = try FileSegmentSource(fd: fs.openForReading(path), path: path, fs: fs)
                } catch let e as StoreError where e.code == .notFound {
                    missing[s.name] = e
                }
            }
        }
        self.opened = opened
        missingAtOpen = missing
        state = Mutex(State(latest: latest))
        // Pinned before any segment is read, released by deinit. Last, so that an init that
        // throws never leaves a pin behind.
        FilePins.shared.pin(paths)
    }

    deinit { FilePins.shared.unpin(pinnedPaths) }

    /// Segment descriptors open through this snapshot's cache right now, dropped handles
    /// still in use included, plus those opened at creation (tests).
    var openSegmentFiles: Int { handles.descriptors.open + opened.count }

    /// Footers this snapshot parsed (a re-opened segment reuses its footer) (tests).
    var footersParsed: Int { state.withLock { $0.footersParsed } }

    /// Names of this snapshot's `openAll` segments whose files were gone when it opened.
    var missingSegments: Set<String> { Set(missingAtOpen.keys) }

    /// The shared handle of one live segment: cached, or opened now (its footer parsed on
    /// first use, checked against the parsed one on later opens).
    public func handle(_ meta: SegmentMeta) throws -> SegmentHandle {
        let path = layout.segmentPath(meta.name)
        if let e = missingAtOpen[meta.name] {
            throw Self.missingError(name: meta.name, path: path, e, snapshot: manifest, layout: layout, fs: fs)
        }
        guard liveNames.contains(meta.name) else {
            throw StoreError(.notFound, "open segment", path: path, "not in this snapshot")
        }
        if let source = opened[meta.name] {
            if let h = state.withLock({ $0.openedHandles[meta.name] }) { return h }
            let h = try parse(meta.name, source)
            state.withLock { $0.openedHandles[meta.name] = h }
            return h
        }
        return try handles.handle(path, opening: { try openHandle(meta.name, path) })
    }

    /// The footer of one live segment: once parsed, without opening the file again (a
    /// footer-only pass over more segments than the cache holds opens each one once).
    public func footer(_ meta: SegmentMeta) throws -> SegmentFooter {
        if let known = state.withLock({ $0.parsed[meta.name] }) { return known.footer }
        let h = try handle(meta)
        state.withLock { s in if s.parsed[meta.name] == nil { s.parsed[meta.name] = h.parsed } }
        return h.footer
    }

    /// A reader of one live segment for one cursor (its scratch buffers are the caller's),
    /// decoding into the catalog's schema. It holds its handle weakly: when the cache drops
    /// the handle, its next read opens the segment again through this snapshot.
    public func reader(_ meta: SegmentMeta) throws -> SegmentReader {
        let h = try handle(meta)
        let r = opened[meta.name] != nil ? SegmentReader(handle: h) : SegmentReader(handle: h, reopen: { try self.handle(meta) })
        // Decode into the catalog's schema: a column added after the segment was written
        // reads as null (FORMAT.md §2.4).
        if let m = catalog.measurement(id: meta.measurementID) {
            do {
                try r.project(onto: m)
            } catch {
                throw StoreError(.corrupt, "open segment", path: h.path, "\(error)")
            }
        }
        return r
    }

    private func openHandle(_ name: String, _ path: String) throws -> SegmentHandle {
        if let e = state.withLock({ $0.missing[name] }) { throw e }
        let fd: FileDescriptor
        do {
            fd = try fs.openForReading(path)
        } catch let e as StoreError where e.code == .notFound {
            let err = Self.missingError(name: name, path: path, e, snapshot: manifest, layout: layout, fs: fs)
            state.withLock { $0.missing[name] = err }
            throw err
        }
        let source = try FileSegmentSource(fd: fd, path: path, fs: fs, counter: handles.descriptors)
        if let known = state.withLock({ $0.parsed[name] }) {
            guard known.size == source.size else {
                throw StoreError(.corrupt, "open segment", path: path,
                                 "the file changed size since this snapshot first read it (\(known.size) → \(source.size) bytes)")
            }
            do {
                return try SegmentHandle(source: source, reusing: known)
            } catch let e as SegmentError {
                throw StoreError.corrupt(e)
            }
        }
        return try parse(name, source)
    }

    /// A new handle over `source`, its footer parsed and remembered.
    private func parse(_ name: String, _ source: FileSegmentSource) throws -> SegmentHandle {
        do {
            let h = try SegmentHandle(source: source, path: source.path)
            state.withLock { s in
                s.parsed[name] = h.parsed
                s.footersParsed += 1
            }
            return h
        } catch let e as SegmentError {
            throw StoreError.corrupt(e)
        }
    }

    /// A segment of `snapshot` whose file is gone. When MANIFEST on disk has changed and no
    /// longer names it, a later commit (compaction, retention) of another process removed it
    /// after its grace period: the snapshot is too old, the store is not damaged. When the
    /// current MANIFEST still names it (unchanged, or changed elsewhere), it is damage.
    static func missingError(
        name: String, path: String, _ e: StoreError, snapshot: Manifest, layout: StoreLayout, fs: any StoreFileSystem
    ) -> StoreError {
        if let now = try? readManifest(layout, fs: fs), now != snapshot, !now.segments.contains(where: { $0.name == name }) {
            return StoreError(
                .stale, "open segment", path: path,
                "removed by a later commit (compaction or retention) after this read started (commit \(snapshot.commit), now \(now.commit)); the snapshot is too old: run the command again")
        }
        return StoreError(.corrupt, "open segment", path: path, "the segment file is missing (\(e.detail))")
    }

    /// Live segments of a measurement whose time range meets `[from, to)`, by partition then seq.
    public func segments(of m: Measurement, from: Int64 = .min, to: Int64 = .max) -> [SegmentMeta] {
        let lo = max(from, manifest.watermarks[m.id] ?? .min)
        return manifest.segments
            .filter { $0.measurementID == m.id && $0.maxTime >= lo && $0.minTime < to && $0.rowCount > 0 }
            .sorted { ($0.partitionStart, $0.seq) < ($1.partitionStart, $1.seq) }
    }

    /// The latest-status index of this commit: the persisted file, or rebuilt from segment
    /// footers when it is missing or damaged. Computed once (two threads asking at once may
    /// both compute it; the answers are equal).
    public func latestIndex() throws -> LatestIndex {
        if let l = state.withLock({ $0.latest }) { return l }
        let l = try loadLatestIndex(manifest: manifest, catalog: catalog, layout: layout, fs: fs, logger: logger) { try self.reader($0) }
        state.withLock { $0.latest = l }
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
