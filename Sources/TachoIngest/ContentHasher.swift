import TachoStore

/// A streaming 128-bit content hash for the ingest ledger (FORMAT.md §5), by one of the
/// `ContentHashAlgorithm`s. Not cryptographic: it tells re-deliveries apart from new files,
/// and the ledger also records the size. The result does not depend on how the bytes are
/// split across `update` calls.
///
/// * `.stripes` (ledger version 2): four lanes, lane i taking word i of each 32-byte stripe
///   (little-endian u64s; the last, partial stripe zero-padded), each lane
///   `rotl(lane + word × P2, 31) × P1`; no lane waits for another, so the four chains run in
///   parallel in the CPU. Finalised with the length through murmur3's fmix64.
/// * `.pairs` (ledger version 1): two serial multiply-rotate lanes over 8-byte words. Kept
///   for stores whose ledgers hold such hashes.
public struct ContentHasher: Sendable {
    public let algorithm: ContentHashAlgorithm
    private var lanes: (UInt64, UInt64, UInt64, UInt64)
    /// Bytes not yet mixed (fewer than a word or stripe), little-endian in four words.
    private var pending: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var pendingBytes = 0
    /// `.pairs`: the index of the next word.
    private var wordIndex: UInt64 = 0
    public private(set) var length: UInt64 = 0

    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    public init(_ algorithm: ContentHashAlgorithm = .current) {
        self.algorithm = algorithm
        switch algorithm {
        case .pairs: lanes = (0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0, 0)
        case .stripes: lanes = (0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89)
        }
    }

    /// Bytes per unit mixed at once.
    private var unit: Int { algorithm == .pairs ? 8 : 32 }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        let n = bytes.count
        var i = 0
        let unit = unit
        while pendingBytes > 0 && i < n {
            addPending(bytes[i])
            i += 1
            if pendingBytes == unit { flushPending() }
        }
        switch algorithm {
        case .pairs:
            while n - i >= 8 {
                mixPair(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                i += 8
            }
        case .stripes:
            var (l0, l1, l2, l3) = lanes
            while n - i >= 32 {
                l0 = Self.round(l0, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                l1 = Self.round(l1, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)))
                l2 = Self.round(l2, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self)))
                l3 = Self.round(l3, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)))
                i += 32
            }
            lanes = (l0, l1, l2, l3)
        }
        while i < n {
            addPending(bytes[i])
            i += 1
        }
    }

    public func finish() -> ContentHash {
        var s = self
        switch algorithm {
        case .pairs:
            if s.pendingBytes > 0 { s.mixPair(s.pending.0 ^ (UInt64(s.pendingBytes) << 56)) }
            let hi = Self.fmix(s.lanes.0 ^ s.length)
            let lo = Self.fmix(s.lanes.1 ^ (s.length &* 0x9E37_79B9_7F4A_7C15) ^ hi)
            return ContentHash(hi: hi, lo: lo)
        case .stripes:
            if s.pendingBytes > 0 { s.mixStripe(s.pending) }
            let (l0, l1, l2, l3) = s.lanes
            let hi = Self.fmix((Self.rotl(l0, 1) &+ Self.rotl(l1, 7) &+ Self.rotl(l2, 12) &+ Self.rotl(l3, 18)) ^ s.length)
            let lo = Self.fmix(l0 ^ Self.rotl(l1, 16) ^ Self.rotl(l2, 32) ^ Self.rotl(l3, 48) ^ (s.length &* Self.p1) ^ hi)
            return ContentHash(hi: hi, lo: lo)
        }
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always)
    static func round(_ lane: UInt64, _ word: UInt64) -> UInt64 { rotl(lane &+ word &* p2, 31) &* p1 }

    static func fmix(_ k0: UInt64) -> UInt64 {
        var k = k0
        k ^= k >> 33
        k = k &* 0xFF51_AFD7_ED55_8CCD
        k ^= k >> 33
        k = k &* 0xC4CE_B9FE_1A85_EC53
        k ^= k >> 33
        return k
    }

    @inline(__always)
    private mutating func mixPair(_ w: UInt64) {
        let x = w &+ wordIndex &* 0x9E37_79B9_7F4A_7C15
        var a = (lanes.0 ^ x) &* 0xFF51_AFD7_ED55_8CCD
        a = (a << 31) | (a >> 33)
        var b = (lanes.1 ^ (x &* 0xC4CE_B9FE_1A85_EC53)) &* 0x87C3_7B91_1142_53D5
        b = (b << 27) | (b >> 37)
        b = b &* 5 &+ 0x52DC_E729
        lanes.0 = a
        lanes.1 = b
        wordIndex &+= 1
    }

    private mutating func mixStripe(_ w: (UInt64, UInt64, UInt64, UInt64)) {
        lanes = (Self.round(lanes.0, w.0), Self.round(lanes.1, w.1), Self.round(lanes.2, w.2), Self.round(lanes.3, w.3))
    }

    private mutating func addPending(_ byte: UInt8) {
        let v = UInt64(byte) << UInt64(8 * (pendingBytes & 7))
        switch pendingBytes >> 3 {
        case 0: pending.0 |= v
        case 1: pending.1 |= v
        case 2: pending.2 |= v
        default: pending.3 |= v
        }
        pendingBytes += 1
    }

    private mutating func flushPending() {
        switch algorithm {
        case .pairs: mixPair(pending.0)
        case .stripes: mixStripe(pending)
        }
        pending = (0, 0, 0, 0)
        pendingBytes = 0
    }
}
