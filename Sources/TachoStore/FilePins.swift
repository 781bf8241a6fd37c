import Synchronization

/// The store files that live snapshots of this process name (segments and the latest-status
/// index), with a count per path. A writer in the process never unlinks a pinned file: a
/// replaced file (compaction, retention, a newer index) that a snapshot still names is
/// handed over here, and the release of the last snapshot naming it unlinks it. So a
/// snapshot, which opens its segments only when a query reads them, always finds every file
/// of its commit, however long it lives and whatever the writer switched meanwhile.
///
/// Only this process: another process's writer (`tacho compact` beside `tacho run`, `tacho
/// query` beside either) does not see these pins; it keeps replaced files for
/// `StoreOptions.obsoleteFileGrace` and a snapshot that outlives that fails as `stale`.
/// Files handed over here and still pinned when the process ends are orphans: the next
/// writer open removes them (`StoreWriter.removeOrphans`).
///
/// Keys are paths as `StoreLayout` spells them (its root without trailing slashes): a store
/// opened under two spellings of its path (relative and absolute, a symbolic link) is pinned
/// under each spelling separately, and a writer of one spelling does not see pins of the other.
final class FilePins: Sendable {
    static let shared = FilePins()

    private struct State {
        var counts: [String: Int] = [:]
        /// Pinned files a writer has retired: unlinked by the last release.
        var retired: [String: any StoreFileSystem] = [:]
    }
    private let state = Mutex(State())

    func pin(_ paths: [String]) {
        state.withLock { s in for p in paths { s.counts[p, default: 0] += 1 } }
    }

    /// Releases `paths` once; unlinks the retired ones no snapshot names any more.
    func unpin(_ paths: [String]) {
        state.withLock { s in
            for p in paths {
                guard let n = s.counts[p] else { continue }
                if n > 1 {
                    s.counts[p] = n - 1
                    continue
                }
                s.counts[p] = nil
                if let fs = s.retired.removeValue(forKey: p) {
                    // A failure leaves an orphan that the next writer open removes.
                    try? fs.unlink(p)
                }
            }
        }
    }

    /// Unlinks `path` now, or, when a live snapshot names it, at that snapshot's release.
    /// Returns whether it was unlinked now. Under the lock, so no pin can slip in between the
    /// check and the unlink.
    @discardableResult
    func unlinkOrDefer(_ path: String, fs: any StoreFileSystem) throws -> Bool {
        try state.withLock { s in
            if s.counts[path] != nil {
                s.retired[path] = fs
                return false
            }
            try fs.unlink(path)
            return true
        }
    }

    func isPinned(_ path: String) -> Bool { state.withLock { $0.counts[path] != nil } }

    /// Retired files waiting for a snapshot's release.
    var retiredCount: Int { state.withLock { $0.retired.count } }
}
