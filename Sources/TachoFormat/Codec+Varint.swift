// Pointer-level helpers for the column codecs' hot loops: varints read and written without
// per-byte bounds checks or array appends, and output arrays sized once per block.

@inlinable func varintSize(_ v: UInt64) -> Int {
    v == 0 ? 1 : (64 - v.leadingZeroBitCount + 6) / 7
}

/// Reads a LEB128 varint at `p[i]`, advancing `i` (left as it was on failure): nil when
/// truncated at `end` or longer than 10 bytes (or overflowing). `ByteReader.readVarint` too.
@inline(__always) @usableFromInline
func readVarint(_ p: UnsafePointer<UInt8>, _ end: Int, _ i: inout Int) -> UInt64? {
    // One- and two-byte values (small deltas) are nearly all of a time or delta column, in
    // no predictable order (zeros between events, then a delta): decode either without a
    // branch on which it is.
    if i &+ 1 < end {
        let b0 = p[i], b1 = p[i &+ 1]
        if b0 & b1 & 0x80 == 0 {
            let more = UInt64(b0 >> 7)  // 1 when b1 is the value's second byte
            i &+= 1 &+ Int(more)
            return UInt64(b0 & 0x7F) | (UInt64(b1) << 7) & (0 &- more)
        }
    }
    return readVarintSlow(p, end, &i)
}

@inline(never) @usableFromInline
func readVarintSlow(_ p: UnsafePointer<UInt8>, _ end: Int, _ i: inout Int) -> UInt64? {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    var j = i
    while j < end {
        let b = p[j]
        j &+= 1
        if shift == 63 && b > 1 { return nil }
        result |= UInt64(b & 0x7F) << shift
        if b < 0x80 {
            i = j
            return result
        }
        shift += 7
        if shift > 63 { return nil }
    }
    return nil
}

/// Writes `v` as a LEB128 varint at `p + at`, advancing `at`.
@inline(__always)
func putVarint(_ p: UnsafeMutablePointer<UInt8>, _ at: inout Int, _ v: UInt64) {
    var v = v
    while v >= 0x80 {
        p[at] = UInt8(truncatingIfNeeded: v) | 0x80
        at &+= 1
        v >>= 7
    }
    p[at] = UInt8(truncatingIfNeeded: v)
    at &+= 1
}

/// Appends `count` bytes to `w` and lets `body` fill them through a pointer.
@inline(__always)
func appendRaw(_ w: inout ByteWriter, count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Void) {
    guard count > 0 else { return }
    let start = w.bytes.count
    w.bytes.append(contentsOf: repeatElement(0, count: count))
    w.bytes.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
}

/// Makes `a` exactly `n` elements long, keeping its storage; new elements are `fill`.
@inline(__always)
func resize<T>(_ a: inout [T], to n: Int, fill: T) {
    if a.count > n {
        a.removeLast(a.count - n)
    } else if a.count < n {
        a.append(contentsOf: repeatElement(fill, count: n - a.count))
    }
}
