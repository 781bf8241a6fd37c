/// Sizes of what Tacho keeps on disk, read through the store's environment.
public enum StoreUsage {
    /// Sum of st_size of every regular file under `roots` (recursively, symlinks not
    /// followed, each inode once).
    public static func bytes(_ roots: [String], skip: Set<String> = [], fs: any StoreFileSystem = PosixFileSystem()) -> UInt64 {
        var seen = Set<InodeKey>()
        var total: UInt64 = 0
        for r in roots { walk(r, skip, fs, &seen, &total) }
        return total
    }

    /// Paths in segments/ and index/ that `manifest` does not name: outputs of a compaction
    /// still being built (working space, guarded by the free-space floor, not the budget).
    public static func unpublished(_ layout: StoreLayout, _ manifest: Manifest, fs: any StoreFileSystem = PosixFileSystem()) -> Set<String> {
        var out = Set<String>()
        let live = Set(manifest.segments.map(\.name))
        for e in (try? fs.directoryEntries(layout.segmentsDir)) ?? [] where !live.contains(e.name) { out.insert(layout.segmentPath(e.name)) }
        let liveIndex = Set(manifest.ledgers + [manifest.latestIndex, manifest.catalog])
        for e in (try? fs.directoryEntries(layout.indexDir)) ?? [] where !liveIndex.contains(e.name) { out.insert(layout.indexPath(e.name)) }
        return out
    }

    /// Whether two existing paths lie on one file system (same st_dev). False when either
    /// cannot be examined.
    public static func sameFileSystem(_ a: String, _ b: String, fs: any StoreFileSystem = PosixFileSystem()) -> Bool {
        fs.sameFileSystem(a, b)
    }

    struct InodeKey: Hashable { var dev: UInt64; var ino: UInt64 }

    private static func walk(_ path: String, _ skip: Set<String>, _ fs: any StoreFileSystem, _ seen: inout Set<InodeKey>, _ total: inout UInt64) {
        guard !skip.contains(path), let st = fs.status(path, followingLinks: false) else { return }
        guard seen.insert(InodeKey(dev: st.device, ino: st.inode)).inserted else { return }
        switch st.kind {
        case .regular: total += st.size
        case .directory:
            for e in (try? fs.directoryEntries(path)) ?? [] { walk(path + "/" + e.name, skip, fs, &seen, &total) }
        default: break
        }
    }

    /// Regular files directly in `dir`: (path, size, mtime µs), oldest first.
    static func filesOldestFirst(_ dir: String, fs: any StoreFileSystem) -> [(path: String, size: UInt64, mtime: Int64)] {
        var out: [(path: String, size: UInt64, mtime: Int64)] = []
        for e in (try? fs.directoryEntries(dir)) ?? [] {
            let p = dir + "/" + e.name
            guard let st = fs.status(p, followingLinks: false), st.kind == .regular else { continue }
            out.append((p, st.size, st.mtimeMicros))
        }
        return out.sorted { ($0.mtime, $0.path) < ($1.mtime, $1.path) }
    }
}
