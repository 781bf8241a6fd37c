import Logging
import TachoFormat

/// How a store is opened. Every default is documented; all are safe for an edge box.
public struct StoreOptions: Sendable {
    /// Width of a time partition in microseconds. Default: one day. Only used when the store
    /// is created; an existing store keeps the width in its manifest.
    public var partitionWidth: Int64 = 86_400_000_000
    /// Most bytes of rows a writer buffers before it spills sealed segment files. Default 16 MiB
    /// (about 700,000 detection rows: segments of a large file still get full 8192-row chunks
    /// per vehicle of a 100-vehicle fleet, and ingesting a 1 GiB file stays within 64 MiB).
    public var bufferBytes = 16 << 20
    /// Segment encoding: zstd level (default 3) and rows per chunk (default 8192).
    public var segment = SegmentBuilder.Options()
    /// Files, locks, clocks and sleeping (StoreEnvironment.swift). Default: the real ones.
    public var environment = StoreEnvironment.system
    /// Where every open, write, fsync, rename and unlink goes: `environment.files`.
    public var fileSystem: any StoreFileSystem {
        get { environment.files }
        set { environment.files = newValue }
    }
    /// Where "now" comes from: `environment.clock`.
    public var clock: StoreClock {
        get { environment.clock }
        set { environment.clock = newValue }
    }
    /// Logs orphan removal, index rebuilds and commits. Default: a logger labelled "tacho.store".
    public var logger = Logger(label: "tacho.store")
    /// How long a new writer waits for another writer (a running `tacho compact`, `tacho run`)
    /// to release the store before it fails with `.locked`. Default 0.2 s (enough for a
    /// forked child that has not exec'd yet to let go of a just-released lock).
    public var lockWaitSeconds = 0.2
    /// How long files a manifest switch replaced (segments compaction or age retention
    /// removed, superseded latest-status index and ledger files) stay on disk before the
    /// writer unlinks them, so snapshots taken just before the switch can still open them
    /// (readers open segments on demand). Default 60 s. Disk-budget drops and trims unlink
    /// at once: freeing space is their point. Either way, a file that a live snapshot of the
    /// writer's process names stays until that snapshot is released (`FilePins`): the grace
    /// period is for readers in other processes.
    public var obsoleteFileGrace = 60.0
    /// The measurements a writer declares (FORMAT.md §7): reconciled with the store's catalog
    /// when it opens (new measurements and new nullable columns are added and persisted; a
    /// contradiction is refused with a `CatalogError` before anything is written). Default
    /// none: the catalog as stored (the built-ins when the store has no CATALOG file).
    public var measurements: [Measurement] = []
    /// The cache of open segment handles that snapshots read through (`SegmentHandleCache`):
    /// share one among the snapshots of a long-running reader (a server) so that they share
    /// open segments and the bound on descriptors. Default nil: each `Snapshot.open` makes
    /// its own, and a writer one for the snapshots it hands out.
    public var handleCache: SegmentHandleCache?
    /// Derives rows inside every commit (rollups: `TachoRollup.RollupMaintainer`); nil: none.
    /// Its measurements must be among `measurements` (or already in the store's catalog).
    public var commitParticipant: (any CommitParticipant)?

    public init() {}
}

/// Reads the manifest of the store at `layout`: nil when there is none (not a store yet).
func readManifest(_ layout: StoreLayout, fs: any StoreFileSystem) throws -> Manifest? {
    let bytes: [UInt8]
    do {
        bytes = try readFile(layout.manifest, fs: fs)
    } catch let e as StoreError where e.code == .notFound {
        return nil
    }
    do {
        return try Manifest.decode(bytes, path: layout.manifest)
    } catch var e as StoreError where e.code == .corrupt && !StoreWriter.isNewerManifest(bytes) {
        e.detail += "; run `tacho verify --repair` to rebuild MANIFEST from the segment and ledger files (the damaged one is kept as MANIFEST.damaged-<n>)"
        throw e
    }
}

/// Files in segments/ and index/ of a store without a MANIFEST: something to rebuild it from.
func leftoverFiles(_ layout: StoreLayout, fs: any StoreFileSystem) -> Int {
    ((try? fs.listDirectory(layout.segmentsDir)) ?? []).count + ((try? fs.listDirectory(layout.indexDir)) ?? []).count
}
