import Logging
import TachoFormat

/// A consistent, read-only view of the store at one commit. Opening one takes no lock: it
/// reads MANIFEST (replaced atomically by writers) and opens every live segment at once, so
/// later compaction or retention cannot take files from under it. One snapshot serves one
/// thread at a time (its segment readers hold scratch buffers).
public final class Snapshot {
    public let layout: StoreLayout
    public let manifest: Manifest
    let fs: any StoreFileSystem
    let logger: Logger
    private var sources: [String: FileSegmentSource] = [:]
    private var readers: [String: SegmentReader] = [:]
    private var cachedLatest: LatestIndex?
    /// Live segments whose file could not be found, with the error: reading one fails, the
    /// others serve (verify reports it, `verify --repair` drops it).
    private var missing: [String: StoreError] = [:]

    /// Opens the newest commit of the store at `path`. Retries when a commit removes a
    /// segment between reading the manifest and opening it.
    public static func open(path: String, options: StoreOptions = StoreOptions()) throws -> Snapshot {
        let layout = StoreLayout(root: path)
        try layout.checkSubdirectories()
        var attempt = 0
        while true {
            attempt += 1
            guard let m = try readManifest(layout, fs: options.fileSystem) else {
                let leftovers = leftoverFiles(layout, fs: options.fileSystem)
                if leftovers > 0 {
                    throw StoreError(
                        .corrupt, "open store", path: layout.manifest,
                        "MANIFEST is missing but segments/ and index/ hold \(leftovers) files; run `tacho verify --repair` to rebuild MANIFEST from them")
                }
                throw StoreError(.notFound, "open store", path: path, "no MANIFEST: not a Tacho store (create one with `tacho ingest` or `tacho run`)")
            }
            let snap = try Snapshot(layout: layout, manifest: m, fs: options.fileSystem, logger: options.logger)
            // A segment file missing under an unchanged manifest is damage (reported when read);
            // under a changed one, a commit removed it meanwhile: read the new manifest.
            if !snap.missing.isEmpty && attempt < 20, try readManifest(layout, fs: options.fileSystem) != m {
                continue
            }
            return snap
        }
    }

    init(layout: StoreLayout, manifest: Manifest, fs: any StoreFileSystem, logger: Logger,
         latest: LatestIndex? = nil) throws {
        self.layout = layout
        self.manifest = manifest
        self.fs = fs
        self.logger = logger
        cachedLatest = latest
        for s in manifest.segments {
            let path = layout.segmentPath(s.name)
            do {
                sources[s.name] = try FileSegmentSource(fd: fs.openForReading(path), path: path)
            } catch let e as StoreError where e.code == .notFound {
                missing[s.name] = e
            }
        }
    }

    /// Names of this snapshot's segments whose files were gone when it opened.
    var missingSegments: Set<String> { Set(missing.keys) }

    /// The reader of one live segment; parses its footer on first use.
    public func reader(_ meta: SegmentMeta) throws -> SegmentReader {
        if let r = readers[meta.name] { return r }
        if let e = missing[meta.name] {
            throw StoreError(.corrupt, "open segment", path: e.path, "the segment file is missing (\(e.detail))")
        }
        guard let src = sources[meta.name] else {
            throw StoreError(.notFound, "open segment", path: layout.segmentPath(meta.name), "not in this snapshot")
        }
        do {
            let r = try SegmentReader(source: src, path: src.path)
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
        let l = try loadLatestIndex(manifest: manifest, layout: layout, fs: fs, logger: logger) { try self.reader($0) }
        cachedLatest = l
        return l
    }
}

/// Loads the index file the manifest names; on any problem rebuilds it from footers.
func loadLatestIndex(
    manifest: Manifest, layout: StoreLayout, fs: any StoreFileSystem, logger: Logger,
    reader: (SegmentMeta) throws -> SegmentReader
) throws -> LatestIndex {
    if !manifest.latestIndex.isEmpty {
        let path = layout.indexPath(manifest.latestIndex)
        if let bytes = try? readFile(path, fs: fs),
           bytes.count >= 4,
           MetadataFile.storedCRC(bytes) == manifest.latestIndexCRC,
           let idx = LatestIndex.decode(bytes) {
            return idx
        }
        logger.warning("latest-status index missing or damaged; rebuilding from segment footers", metadata: ["path": "\(path)"])
    }
    return try rebuildLatestIndex(manifest: manifest, reader: reader)
}

/// The latest status per vehicle from segment footers alone: each chunk records its last
/// row's values, and chunks are time-sorted, so no block is decoded.
func rebuildLatestIndex(manifest: Manifest, reader: (SegmentMeta) throws -> SegmentReader) throws -> LatestIndex {
    var idx = LatestIndex()
    for m in Measurement.all {
        guard let col = m.latestColumn else { continue }
        let floor = manifest.watermarks[m.id] ?? .min
        for s in manifest.segments where s.measurementID == m.id && s.maxTime >= floor {
            let r = try reader(s)
            for v in r.footer.vehicles {
                guard let last = v.chunks.last else { continue }
                idx.offer(vehicle: v.vehicle, LatestEntry(time: last.maxTime, seq: s.seq, status: last.stats[col].lastString))
            }
        }
    }
    return idx
}
