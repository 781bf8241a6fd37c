import Synchronization
import TachoFormat
import TachoStore

/// One window of one rollup and vehicle.
struct WindowKey: Hashable {
    var rollup: String  // the stored measurement's name
    var vehicle: String
    var start: Int64
}

/// Every group with rows (count > 0) of one window: what the store holds for it.
typealias WindowGroups = [[ColumnValue?]: RollupAccumulator]

/// The rollup windows the maintainer wrote last, as the store holds them after its commits, so
/// the next commit that touches them merges into them without reading them back from segments
/// (a daily window is touched by every commit of its day).
///
/// A commit can fail after the participant ran, and other switches (compaction, retention,
/// another writer's) change the store without it: the windows a call computes are kept as
/// *pending*, tagged with the commit they are for and the raw segments it writes; the next
/// call adopts them only when its snapshot is that commit and holds those segments. The
/// adopted windows stay valid while every later snapshot is the one the cache last adopted
/// or produced (same commit number and same segments); any other snapshot empties the cache.
/// A window not in the cache is read from the store.
final class RollupWindowCache: Sendable {
    /// Windows kept at most (each a few groups); past it the least recently used go.
    let capacity: Int

    struct Tag: Equatable {
        var root: String
        var commit: UInt64
        var segments: Int  // hash of the committed manifest's segment names
    }

    struct State {
        var windows: [WindowKey: (groups: WindowGroups, used: UInt64)] = [:]
        var tag: Tag?
        var pending: [WindowKey: WindowGroups] = [:]
        /// The commit the pending windows are for, and the raw segments it writes.
        var pendingFor: (root: String, commit: UInt64, written: [SegmentMeta])?
        var clock: UInt64 = 0
    }

    let state: Mutex<State>

    init(capacity: Int = 16_384) {
        self.capacity = capacity
        state = Mutex(State())
    }

    /// Brings the cache to the store `view` reads (adopting the last call's windows when its
    /// commit is the one `view` builds on), and returns whether cached windows are valid.
    func sync(_ view: TransactionView) {
        let m = view.snapshot.manifest
        let committed = m.segments.prefix(m.segments.count - view.written.count)
        var h = Hasher()
        for s in committed { h.combine(s.name) }
        let tag = Tag(root: view.snapshot.layout.root, commit: m.commit, segments: h.finalize())
        state.withLock { s in
            if let p = s.pendingFor, p.root == tag.root, p.commit == m.commit,
               Set(committed).isSuperset(of: p.written), s.tag.map({ $0.commit + 1 == m.commit && $0.root == tag.root }) ?? true
            {
                // The last call's commit went through: its windows are now the store's.
                for (k, g) in s.pending { s.windows[k] = (g, s.clock) }
            } else if s.tag != tag {
                s.windows.removeAll()
            }
            s.pending.removeAll()
            s.pendingFor = nil
            s.tag = tag
        }
    }

    /// The cached groups of `key`, nil when not cached.
    func groups(_ key: WindowKey) -> WindowGroups? {
        state.withLock { s in
            guard let e = s.windows[key] else { return nil }
            s.windows[key]?.used = s.clock
            return e.groups
        }
    }

    /// Records what this call's commit will make of `windows`, valid once the commit is seen
    /// through (`sync`), and evicts the least recently used windows past the capacity.
    func stage(_ windows: [WindowKey: WindowGroups], view: TransactionView) {
        state.withLock { s in
            s.clock += 1
            s.pending = windows
            s.pendingFor = (view.snapshot.layout.root, view.snapshot.manifest.commit + 1, view.written)
            if s.windows.count + windows.count > capacity {
                let keep = max(0, capacity / 2 - windows.count)
                let order = s.windows.sorted { $0.value.used > $1.value.used }
                s.windows = Dictionary(uniqueKeysWithValues: order.prefix(keep).map { ($0.key, $0.value) })
            }
        }
    }

    /// Forgets every cached window (rollup rows were written by something else than the
    /// maintainer's own merge or recompute).
    func clear() { state.withLock { $0.windows.removeAll() } }

    var count: Int { state.withLock { $0.windows.count } }
}
