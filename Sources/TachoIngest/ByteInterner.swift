/// Maps byte strings (vehicle ids, object types, statuses) to small ids without creating a
/// String per row: an open-addressing table over an arena of the distinct byte strings. A
/// String is made once per distinct value, when it is first seen.
struct ByteInterner {
    private var arena: [UInt8] = []
    private var spans: [(offset: Int, count: Int)] = []
    private var slots: [Int32]  // index into spans, -1 = empty
    private var mask: Int
    private(set) var strings: [String] = []

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { strings.count }

    mutating func removeAll() {
        arena.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        strings.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = -1 }
    }

    @inline(__always)
    static func hash(_ b: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(b.count)
        var i = 0
        while b.count - i >= 8 {
            h = (h ^ b.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
            h ^= h >> 29
            i += 8
        }
        if i < b.count {
            // The last 1-7 bytes as one word (the last 8 bytes when there are that many:
            // overlapping is fine, the length is in the seed).
            var w: UInt64 = 0
            if b.count >= 8 {
                w = b.loadUnaligned(fromByteOffset: b.count - 8, as: UInt64.self)
            } else {
                for k in i..<b.count { w |= UInt64(b[k]) << UInt64(8 * (k - i)) }
            }
            h = (h ^ w) &* 0x0000_0100_0000_01B3
        }
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }

    /// The id of `bytes` if they were interned before.
    @inline(__always)
    func find(_ bytes: UnsafeRawBufferPointer) -> UInt32? { probe(bytes).id }

    /// The slot where `bytes` are or would go, and their id when present.
    @inline(__always)
    private func probe(_ bytes: UnsafeRawBufferPointer) -> (slot: Int, id: UInt32?) {
        var i = Self.hash(bytes) & mask
        return slots.withUnsafeBufferPointer { slots in
            spans.withUnsafeBufferPointer { spans in
                arena.withUnsafeBytes { a in
                    while true {
                        let s = slots[i]
                        if s < 0 { return (i, nil) }
                        let span = spans[Int(s)]
                        if span.count == bytes.count
                            && (bytes.count == 0 || memcmpEqual(a.baseAddress! + span.offset, bytes.baseAddress!, bytes.count))
                        {
                            return (i, UInt32(s))
                        }
                        i = (i + 1) & mask
                    }
                }
            }
        }
    }

    /// The id of `bytes` (valid UTF-8, checked by the JSON parser), adding it if new.
    @inline(__always)
    mutating func intern(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let (i, found) = probe(bytes)
        if let found { return found }
        let id = Int32(spans.count)
        spans.append((arena.count, bytes.count))
        arena.append(contentsOf: bytes)
        strings.append(String(decoding: bytes, as: UTF8.self))
        slots[i] = id
        if spans.count * 2 > slots.count { grow() }
        return UInt32(id)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        for (id, span) in spans.enumerated() {
            var i = arena.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[span.offset..<(span.offset + span.count)])) } & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(id)
        }
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    var i = 0
    while n - i >= 8 {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < n {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}
