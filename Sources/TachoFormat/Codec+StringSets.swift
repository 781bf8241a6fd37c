/// String mode 3, sets (FORMAT.md §2.7.4, segment version ≥ 3). Rows that share a time are one
/// event, and an identity string column holds each value at most once per event, in byte
/// order: the event's values are a SET of the chunk's dictionary. With the dictionary sorted by
/// bytes, a group of k rows (its size comes from the already decoded time column) is one
/// k-subset of the d entries, stored as its rank in the combinatorial number system in
/// `bitwidth(C(d, k) − 1)` bits — 5.4 bits for a typical 3-of-8 event instead of 3 × 3.
///
///     (after the dictionary, sorted strictly ascending by bytes, 2 ≤ d ≤ 64)
///     mode=3 │ ranks: one per group of equal times, LSB-first bit stream, ⌈Σ widths / 8⌉ bytes
enum StringSets {
    static let mode: UInt8 = 3
    static let sinceVersion: UInt16 = 3
    static let maxEntries = 64

    /// C(a, b) for 0 ≤ a, b ≤ 64 (0 when b > a), at `a * 65 + b`; every value fits in u64
    /// (C(64, 32) < 2^61). Raw memory that lives as long as the process: the hot loops read
    /// it through a pointer bound once, with no lazy-global check or bounds check per entry.
    nonisolated(unsafe) static let binomial: UnsafePointer<UInt64> = {
        let c = UnsafeMutablePointer<UInt64>.allocate(capacity: 65 * 65)
        c.initialize(repeating: 0, count: 65 * 65)
        for a in 0...64 {
            c[a * 65] = 1
            if a > 0 { for b in 1...a { c[a * 65 + b] = c[(a - 1) * 65 + b - 1] &+ c[(a - 1) * 65 + b] } }
        }
        return UnsafePointer(c)
    }()

    @inline(__always) static func choose(_ a: Int, _ b: Int) -> UInt64 { binomial[a &* 65 &+ b] }

    /// Bits of the rank of a k-subset of d entries.
    @inline(__always) static func width(_ d: Int, _ k: Int) -> Int { BitPacking.bitWidth(choose(d, k) &- 1) }

    /// Calls `body(start, end)` for each group of equal times in `times[0..<n]`.
    @inline(__always)
    static func forEachGroup(_ times: UnsafeBufferPointer<Int64>, _ body: (Int, Int) -> Bool) -> Bool {
        var i = 0
        let n = times.count
        while i < n {
            var j = i &+ 1
            while j < n && times[j] == times[i] { j &+= 1 }
            guard body(i, j) else { return false }
            i = j
        }
        return true
    }

    /// The bits of the rank stream, or nil when some group's positions are not strictly
    /// ascending (the column is not a set per time). `positions[row]` is the row's entry's
    /// index in the byte-sorted dictionary of `d` entries.
    static func plan(times: UnsafeBufferPointer<Int64>, d: Int, positions: UnsafeBufferPointer<UInt8>) -> Int? {
        var bits = 0
        let widths = binomial + d &* 65
        let ok = forEachGroup(times) { i, j in
            var prev = -1
            for r in i..<j {
                let p = Int(positions[r])
                guard p > prev else { return false }
                prev = p
            }
            bits &+= BitPacking.bitWidth(widths[j &- i] &- 1)
            return true
        }
        return ok ? bits : nil
    }

    /// Writes the rank stream. REQUIRES: `plan` returned non-nil for the same input.
    static func write(times: UnsafeBufferPointer<Int64>, d: Int, positions: UnsafeBufferPointer<UInt8>, into w: inout ByteWriter) {
        var acc: UInt64 = 0, bits = 0
        let c = binomial
        _ = forEachGroup(times) { i, j in
            var rank: UInt64 = 0
            for r in i..<j { rank &+= c[Int(positions[r]) &* 65 &+ (r &- i &+ 1)] }
            // Append width(d, k) ≤ 61 bits in pieces of at most 32, flushing whole bytes.
            var v = rank, width = BitPacking.bitWidth(c[d &* 65 &+ (j &- i)] &- 1)
            while width > 0 {
                let take = min(width, 32)
                acc |= (v & ((1 << UInt64(take)) &- 1)) << UInt64(bits)
                bits &+= take
                v >>= UInt64(take)
                width &-= take
                while bits >= 8 {
                    w.writeUInt8(UInt8(truncatingIfNeeded: acc))
                    acc >>= 8
                    bits &-= 8
                }
            }
            return true
        }
        if bits > 0 { w.writeUInt8(UInt8(truncatingIfNeeded: acc)) }
    }

    /// Decodes the rank stream (the rest of the block) into `ids`, given the chunk's decoded
    /// `times`. False when the stream is short or long, a group has more rows than entries,
    /// or a rank is ≥ C(d, k).
    static func decode(
        _ raw: UnsafeRawBufferPointer, times: UnsafeBufferPointer<Int64>, d: Int, into ids: UnsafeMutableBufferPointer<UInt32>
    ) -> Bool {
        guard d >= 2, d <= maxEntries, ids.count == times.count else { return false }
        var bitPos = 0
        let totalBits = raw.count &* 8
        let ok = forEachGroup(times) { i, j in
            let k = j &- i
            guard k <= d else { return false }
            let width = width(d, k)
            guard totalBits &- bitPos >= width else { return false }
            var rank: UInt64 = 0
            for b in 0..<width {
                let at = bitPos &+ b
                rank |= UInt64(raw[at &>> 3] &>> UInt8(at & 7) & 1) << UInt64(b)
            }
            bitPos &+= width
            guard rank < choose(d, k) else { return false }
            // Unrank: the largest c with C(c, m) ≤ rank is the m-th smallest entry, m = k … 1.
            var c = d
            for m in stride(from: k, through: 1, by: -1) {
                c &-= 1
                while choose(c, m) > rank { c &-= 1 }
                rank &-= choose(c, m)
                ids[i &+ m &- 1] = UInt32(c)
            }
            return true
        }
        // The stream fills its bytes exactly: fewer than 8 bits left over.
        return ok && (bitPos &+ 7) / 8 == raw.count
    }
}
