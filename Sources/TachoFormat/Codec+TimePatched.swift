/// Time mode 4 (FORMAT.md §2.7.3, segment version ≥ 3): mode 3's runs of equal times, with
/// the run lengths and the gaps in patched packing (§2.7.1), so a vehicle that was offline for
/// minutes, or one long run, no longer widens every gap or length of its chunk.
///
///     mode=4 │ count n │ (n > 0:) first <svarint> │ scale <uvarint> │ m <uvarint> (1 ≤ m ≤ n)
///     │ len_base <uvarint> (≥ 1) │ patched(m run lengths − len_base)
///     │ (m > 1:) gap_base <uvarint> (≥ 1) │ patched(m − 1 gaps − gap_base)
struct PatchedRunsPlan {
    let lenWidth: Int
    let gapWidth: Int
    /// Bytes after `scale`: m, len_base, patched lengths, gap_base, patched gaps.
    let size: Int

    /// `buf` holds the run lengths at [0, runs) and the gaps at [runs, 2·runs − 1)
    /// (`TimeCodec.fillRuns`); `minLen`/`minGap` are their least values. REQUIRES: runs ≥ 2.
    init(_ buf: UnsafeMutableBufferPointer<UInt64>, runs: Int, minLen: UInt64, minGap: UInt64) {
        let lens = PatchedPacking.plan(count: runs) { buf[$0] &- minLen }
        let gaps = PatchedPacking.plan(count: runs - 1) { buf[runs + $0] &- minGap }
        lenWidth = lens.width
        gapWidth = gaps.width
        size = varintSize(UInt64(runs)) + varintSize(minLen) + lens.size + varintSize(minGap) + gaps.size
    }

    func write(_ buf: UnsafeMutableBufferPointer<UInt64>, runs: Int, minLen: UInt64, minGap: UInt64, into w: inout ByteWriter) {
        w.writeVarint(UInt64(runs))
        w.writeVarint(minLen)
        PatchedPacking.write(count: runs, width: lenWidth, into: &w) { buf[$0] &- minLen }
        w.writeVarint(minGap)
        PatchedPacking.write(count: runs - 1, width: gapWidth, into: &w) { buf[runs + $0] &- minGap }
    }
}

extension TimeCodec {
    /// Mode 4 after `first` and `scale`. Every field is read and checked (bases ≥ 1, no base +
    /// value overflows u64, lengths summing to exactly `n`) before `out` is filled.
    static func decodePatchedRuns(
        _ r: inout ByteReader, count n: Int, first: Int64, scale: Int64, into out: inout [Int64]
    ) -> Bool {
        guard let m = r.readLength(limit: n), m >= 1, let lenBase = r.readVarint(), lenBase >= 1 else { return false }
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2 * m) { tmp -> Bool in
            let lens = UnsafeMutableBufferPointer(rebasing: tmp[0..<m])
            let gaps = UnsafeMutableBufferPointer(rebasing: tmp[m..<(2 * m)])
            guard PatchedPacking.read(&r, count: m, base: lenBase, checkOverflow: true, into: lens) else { return false }
            if m > 1 {
                guard let gapBase = r.readVarint(), gapBase >= 1,
                      PatchedPacking.read(&r, count: m - 1, base: gapBase, checkOverflow: true, into: gaps)
                else { return false }
            }
            guard r.isAtEnd else { return false }
            // The lengths must sum to exactly n: check before writing anything.
            var total = 0
            for j in 0..<m {
                let len = UInt64(bitPattern: lens[j])
                guard len <= UInt64(n &- total) else { return false }
                total &+= Int(len)
            }
            guard total == n else { return false }
            resize(&out, to: n, fill: 0)
            out.withUnsafeMutableBufferPointer { o in
                var at = 0
                var t = first
                for j in 0..<m {
                    if j > 0 { t = t &+ gaps[j &- 1] &* scale }
                    let k = Int(lens[j])
                    for x in 0..<k { o[at &+ x] = t }
                    at &+= k
                }
            }
            return true
        }
    }
}
