import TachoStore

/// A streaming 128-bit content hash for the ingest ledger: two independent 64-bit lanes of
/// multiply-rotate mixing over 8-byte words, finalised with the length (murmur3 fmix64).
/// Not cryptographic: it tells re-deliveries apart from new files, and the ledger also
/// records the size.
public struct ContentHasher: Sendable {
    private var a: UInt64 = 0x243F_6A88_85A3_08D3
    private var b: UInt64 = 0x1319_8A2E_0370_7344
    private var pending: UInt64 = 0
    private var pendingBytes = 0
    private var wordIndex: UInt64 = 0
    public private(set) var length: UInt64 = 0

    public init() {}

    @inline(__always)
    private mutating func mix(_ w: UInt64) {
        let x = w &+ wordIndex &* 0x9E37_79B9_7F4A_7C15
        a = ((a ^ x) &* 0xFF51_AFD7_ED55_8CCD)
        a = (a << 31) | (a >> 33)
        b = ((b ^ (x &* 0xC4CE_B9FE_1A85_EC53)) &* 0x87C3_7B91_1142_53D5)
        b = (b << 27) | (b >> 37)
        b = b &* 5 &+ 0x52DC_E729
        wordIndex &+= 1
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        while pendingBytes > 0 && i < n {
            pending |= UInt64(bytes[i]) << UInt64(8 * pendingBytes)
            pendingBytes += 1
            i += 1
            if pendingBytes == 8 {
                mix(pending)
                pending = 0
                pendingBytes = 0
            }
        }
        while n - i >= 8 {
            mix(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        while i < n {
            pending |= UInt64(bytes[i]) << UInt64(8 * pendingBytes)
            pendingBytes += 1
            i += 1
        }
    }

    public func finish() -> ContentHash {
        var s = self
        if s.pendingBytes > 0 { s.mix(s.pending ^ (UInt64(s.pendingBytes) << 56)) }
        func fmix(_ k0: UInt64) -> UInt64 {
            var k = k0
            k ^= k >> 33; k = k &* 0xFF51_AFD7_ED55_8CCD
            k ^= k >> 33; k = k &* 0xC4CE_B9FE_1A85_EC53
            k ^= k >> 33
            return k
        }
        let hi = fmix(s.a ^ s.length), lo = fmix(s.b ^ (s.length &* 0x9E37_79B9_7F4A_7C15) ^ hi)
        return ContentHash(hi: hi, lo: lo)
    }
}
