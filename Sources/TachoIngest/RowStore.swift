import Synchronization

/// The reader's rows since the last flush, row-major `Int64` slots, in raw memory the reader
/// owns: appending a record is a copy of `stride` words, with none of an Array's
/// uniqueness and capacity checks on the hot path. Not copyable: one owner frees it.
struct RowStore: ~Copyable {
    private(set) var base: UnsafeMutablePointer<Int64>
    private(set) var count = 0
    private var capacity: Int

    init() {
        let (p, c) = RowStore.pool.take()
        base = p
        capacity = c
    }

    deinit { RowStore.pool.give(base, capacity) }

    @inline(__always)
    subscript(i: Int) -> Int64 {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    /// Room for `n` more values.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count &+ n > capacity { grow(count &+ n) }
    }

    @inline(never)
    private mutating func grow(_ needed: Int) {
        let c = max(needed, capacity * 2, 1024)
        let p = UnsafeMutablePointer<Int64>.allocate(capacity: c)
        p.moveInitialize(from: base, count: count)
        base.deallocate()
        base = p
        capacity = c
    }

    @inline(__always)
    mutating func append(_ values: UnsafePointer<Int64>, count n: Int) {
        reserve(n)
        let dst = base + count
        // A record is a few words: a loop, not a call of memmove per record.
        if n <= 16 {
            for i in 0..<n { dst[i] = values[i] }
        } else {
            dst.update(from: values, count: n)
        }
        count &+= n
    }

    mutating func append(contentsOf values: [Int64]) {
        values.withUnsafeBufferPointer { b in
            if let p = b.baseAddress { append(p, count: b.count) }
        }
    }

    /// Keeps the first `n` values.
    @inline(__always)
    mutating func truncate(to n: Int) { count = min(count, n) }

    mutating func removeAll() { count = 0 }

    /// Values `from ..< count`, as an array.
    func copy(from: Int) -> [Int64] { Array(UnsafeBufferPointer(start: base + from, count: count - from)) }

    /// Buffers of finished readers, for the next ones: a parse thread reads many small files,
    /// and a fresh buffer per file would be faulted in page by page each time. At most two
    /// are kept (up to 2 MiB each at the default batch size).
    private static let pool = Pool()

    private final class Pool: Sendable {
        private struct Buffer: @unchecked Sendable {
            var pointer: UnsafeMutablePointer<Int64>
            var capacity: Int
        }
        private let free = Mutex<[Buffer]>([])

        func take() -> (UnsafeMutablePointer<Int64>, Int) {
            if let b = free.withLock({ $0.popLast() }) { return (b.pointer, b.capacity) }
            return (.allocate(capacity: 1024), 1024)
        }

        func give(_ p: UnsafeMutablePointer<Int64>, _ capacity: Int) {
            let kept = free.withLock { f -> Bool in
                guard f.count < 2 else { return false }
                f.append(Buffer(pointer: p, capacity: capacity))
                return true
            }
            if !kept { p.deallocate() }
        }
    }
}

/// What each pending record still lacks (a bit per slot), in raw memory the reader owns:
/// appending one is a store, with none of an Array's uniqueness and capacity checks.
struct MaskStore: ~Copyable {
    private(set) var base: UnsafeMutablePointer<UInt64>
    private(set) var count = 0
    private var capacity = 256

    init() { base = .allocate(capacity: 256) }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    subscript(i: Int) -> UInt64 {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    @inline(__always)
    mutating func append(_ m: UInt64) {
        if count == capacity { grow() }
        base[count] = m
        count &+= 1
    }

    @inline(never)
    private mutating func grow() {
        let c = capacity * 2
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: c)
        p.moveInitialize(from: base, count: count)
        base.deallocate()
        base = p
        capacity = c
    }

    /// Keeps the first `n`.
    @inline(__always)
    mutating func truncate(to n: Int) { count = min(count, n) }

    mutating func removeAll() { count = 0 }

    /// Replaces the contents with `masks`.
    mutating func replace(with masks: [UInt64]) {
        count = 0
        for m in masks { append(m) }
    }

    /// The union of every mask.
    func union() -> UInt64 {
        var u: UInt64 = 0
        for i in 0..<count { u |= base[i] }
        return u
    }

    var array: [UInt64] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
