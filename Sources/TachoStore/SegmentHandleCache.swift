import Synchronization
import TachoFormat
#if canImport(Glibc)
import Glibc
#endif

/// The open segment handles of a store (LevelDB's TableCache), shared by every snapshot and
/// cursor of a process that reads it: a segment is opened when a read first needs it, and
/// beyond `capacity` handles the least recently used one is dropped (CLOCK, a cheap
/// approximation of LRU). Keyed by the segment file's path: segment names carry a number
/// that is never reused in a store, so a path names one file for the store's life.
///
/// A dropped handle is only released by the cache: a read in flight keeps it (and its
/// descriptor) until the read ends; readers hold handles weakly between reads and ask the
/// cache again (`SegmentReader.init(handle:reopen:)`). So the descriptors open for segments
/// are at most `capacity` plus the reads in flight. `Sendable`: a `Mutex` guards the ring;
/// files are opened outside it.
public final class SegmentHandleCache: Sendable {
    public let capacity: Int
    /// Descriptors open through this cache's handles, including dropped ones still in use.
    public let descriptors = DescriptorCounter()

    private struct Slot {
        var key: String
        var handle: SegmentHandle
        var referenced: Bool
    }
    private struct State {
        /// The CLOCK ring; nil: a slot freed to make room for a handle being opened.
        var slots: [Slot?] = []
        var free: [Int] = []
        var index: [String: Int] = [:]
        var hand = 0
        var opens = 0

        /// Drops the handle the clock hand picks (the first one not used since the hand last
        /// passed) and frees its slot. REQUIRES: every slot holds a handle.
        mutating func evict() -> SegmentHandle? {
            guard !slots.isEmpty else { return nil }
            for _ in 0..<(2 * slots.count + 1) {
                defer { hand = (hand + 1) % slots.count }
                guard let slot = slots[hand] else { continue }
                if slot.referenced {
                    slots[hand]?.referenced = false
                    continue
                }
                index[slot.key] = nil
                slots[hand] = nil
                free.append(hand)
                return slot.handle
            }
            return nil
        }
    }
    private let state = Mutex(State())

    public init(capacity: Int = SegmentHandleCache.defaultCapacity()) {
        self.capacity = max(1, capacity)
    }

    /// 256, or a quarter of the soft RLIMIT_NOFILE when that is less (at least 16): the rest
    /// stays for the writer, inotify, the inbox files being parsed and other caches.
    public static func defaultCapacity() -> Int {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return 64 }
        let soft = UInt64(rl.rlim_cur)  // RLIM_INFINITY is rlim_t.max: capped below
        return Int(max(16, min(soft / 4, 256)))
    }

    /// Handles held now.
    public var count: Int { state.withLock { $0.index.count } }
    /// Handles opened since the cache was made (misses).
    public var opens: Int { state.withLock { $0.opens } }

    /// The handle for `key`: the cached one, or the one `make` opens. On a miss with the
    /// cache full, the least recently used handle is dropped first, so that a single reader
    /// never has more than `capacity` descriptors open. `make` runs without the lock held;
    /// when two threads open the same file at once, the first to finish wins and the other's
    /// handle is released.
    func handle(_ key: String, opening make: () throws -> SegmentHandle) throws -> SegmentHandle {
        let capacity = self.capacity
        let (cached, dropped): (SegmentHandle?, SegmentHandle?) = state.withLock { s in
            if let i = s.index[key], let slot = s.slots[i] {
                s.slots[i]?.referenced = true
                return (slot.handle, nil)
            }
            guard s.free.isEmpty, s.slots.count >= capacity else { return (nil, nil) }
            return (nil, s.evict())
        }
        if let cached { return cached }
        _ = consume dropped  // released before the open: its descriptor closes once no read uses it
        let made = try make()
        let (handle, evicted) = insert(key, made)
        _ = consume evicted
        return handle
    }

    private func insert(_ key: String, _ made: SegmentHandle) -> (SegmentHandle, SegmentHandle?) {
        let capacity = self.capacity
        return state.withLock { s -> (SegmentHandle, SegmentHandle?) in
            if let i = s.index[key], let slot = s.slots[i] {
                s.slots[i]?.referenced = true
                return (slot.handle, nil)
            }
            s.opens += 1
            var evicted: SegmentHandle?
            if s.free.isEmpty && s.slots.count >= capacity { evicted = s.evict() }  // another thread took the room
            let slot = Slot(key: key, handle: made, referenced: true)
            if let i = s.free.popLast() {
                s.slots[i] = slot
                s.index[key] = i
            } else {
                s.index[key] = s.slots.count
                s.slots.append(slot)
            }
            return (made, evicted)
        }
    }
}

/// Counts open descriptors and the most open at once (`SegmentHandleCache.descriptors`).
public final class DescriptorCounter: Sendable {
    private struct Counts {
        var open = 0
        var peak = 0
    }
    private let counts = Mutex(Counts())

    func opened() {
        counts.withLock { c in
            c.open += 1
            c.peak = max(c.peak, c.open)
        }
    }

    func closed() { counts.withLock { $0.open -= 1 } }

    public var open: Int { counts.withLock { $0.open } }
    public var peak: Int { counts.withLock { $0.peak } }
}
