import SystemPackage
import TachoFormat
#if canImport(Glibc)
import Glibc
#endif

/// The open segment descriptors of one snapshot (LevelDB's TableCache): a segment file is
/// opened when a read first needs it, and beyond `capacity` open files the least recently
/// used one is closed (CLOCK: a cheap approximation of LRU). Parsed footers live in the
/// snapshot's `SegmentReader`s, not here, so re-opening an evicted segment costs one open()
/// and an fstat. Not thread-safe: a snapshot serves one thread at a time.
final class SegmentFiles {
    let capacity: Int
    let layout: StoreLayout
    let manifest: Manifest
    let fs: any StoreFileSystem
    /// Open sources; a slot whose source was freed (weak) is free.
    private var ring: [WeakSource] = []
    private var hand = 0
    /// Segments found missing, with the error every later read of them gets.
    private var missing: [String: StoreError] = [:]

    private struct WeakSource { weak var source: LazySegmentSource? }

    init(layout: StoreLayout, manifest: Manifest, fs: any StoreFileSystem, capacity: Int = SegmentFiles.defaultCapacity()) {
        self.layout = layout
        self.manifest = manifest
        self.fs = fs
        self.capacity = max(1, capacity)
    }

    /// A quarter of the soft RLIMIT_NOFILE, at least 16: the rest stays for the writer,
    /// inotify, the inbox files being parsed, and other snapshots of the process.
    static func defaultCapacity() -> Int {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return 64 }
        let soft = UInt64(rl.rlim_cur)  // RLIM_INFINITY is rlim_t.max: capped below
        return Int(max(16, min(soft / 4, 1 << 20)))
    }

    /// Open descriptors right now (tests).
    var openCount: Int { ring.reduce(0) { $0 + ($1.source?.fd != nil ? 1 : 0) } }

    /// `source`'s descriptor, opening it (and closing the least recently used one) if needed.
    func descriptor(_ source: LazySegmentSource) throws -> FileDescriptor {
        if let fd = source.fd {
            source.referenced = true
            return fd
        }
        let fd = try openFile(source)
        source.fd = fd
        source.referenced = true
        if ring.count < capacity {
            ring.append(WeakSource(source: source))
            return fd
        }
        while true {
            guard let victim = ring[hand].source, victim.fd != nil else { break }
            if victim.referenced {
                victim.referenced = false
                hand = (hand + 1) % ring.count
                continue
            }
            victim.closeDescriptor()
            break
        }
        ring[hand] = WeakSource(source: source)
        hand = (hand + 1) % ring.count
        return fd
    }

    private func openFile(_ source: LazySegmentSource) throws -> FileDescriptor {
        if let e = missing[source.name] { throw e }
        let fd: FileDescriptor
        do {
            fd = try fs.openForReading(source.path)
        } catch let e as StoreError where e.code == .notFound {
            let err = Self.missingError(name: source.name, path: source.path, e, snapshot: manifest, layout: layout, fs: fs)
            missing[source.name] = err
            throw err
        }
        let size: UInt64
        do {
            size = try fs.size(of: fd, path: source.path)
        } catch {
            try? fd.close()
            throw error
        }
        if let known = source.knownSize, known != size {
            try? fd.close()
            throw StoreError(.corrupt, "open segment", path: source.path, "the file changed size since this snapshot first read it (\(known) → \(size) bytes)")
        }
        source.knownSize = size
        return fd
    }

    /// A segment of `snapshot` whose file is gone. When MANIFEST on disk has changed and no
    /// longer names it, a later commit (compaction, retention) removed it after its grace
    /// period: the snapshot is too old, the store is not damaged. When the current MANIFEST
    /// still names it (unchanged, or changed elsewhere), it is damage.
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

    deinit {
        for w in ring { w.source?.closeDescriptor() }
    }
}

/// A segment file read through its snapshot's `SegmentFiles`: the descriptor is opened on
/// the first read and may be closed and re-opened between reads.
final class LazySegmentSource: SegmentSource {
    let name: String
    let path: String
    let files: SegmentFiles
    fileprivate(set) var fd: FileDescriptor?
    fileprivate var referenced = false
    fileprivate var knownSize: UInt64?

    init(name: String, path: String, files: SegmentFiles) {
        self.name = name
        self.path = path
        self.files = files
    }

    /// Opens the file now (a reader needs its size before its first read).
    func open() throws { _ = try files.descriptor(self) }

    var size: UInt64 { knownSize ?? 0 }

    func read(at offset: UInt64, count: Int, into buffer: inout [UInt8]) throws {
        let fd = try files.descriptor(self)
        try preadExactly(fd, path: path, size: knownSize ?? 0, at: offset, count: count, into: &buffer)
    }

    fileprivate func closeDescriptor() {
        if let fd { try? fd.close() }
        fd = nil
        referenced = false
    }

    deinit { if let fd { try? fd.close() } }
}
