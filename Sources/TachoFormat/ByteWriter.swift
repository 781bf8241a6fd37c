/// An append-only little-endian byte buffer (FORMAT.md §1: all fixed-width integers are little-endian).
public struct ByteWriter: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    @inlinable public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }

    public mutating func writeUInt16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    public mutating func writeUInt32(_ v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeInt64(_ v: Int64) { writeUInt64(UInt64(bitPattern: v)) }

    public mutating func writeDouble(_ v: Double) { writeUInt64(v.bitPattern) }

    /// LEB128 unsigned varint (FORMAT.md §1).
    @inlinable public mutating func writeVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zigzag then varint (FORMAT.md §1).
    @inlinable public mutating func writeSignedVarint(_ v: Int64) {
        writeVarint(ZigZag.encode(v))
    }

    /// varint length, then the UTF-8 bytes.
    public mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { buf in
            writeVarint(UInt64(buf.count))
            bytes.append(contentsOf: buf)
        }
    }

    public mutating func writeBytes<C: Collection>(_ c: C) where C.Element == UInt8 {
        bytes.append(contentsOf: c)
    }

    /// Overwrites 4 bytes at `offset` (used to patch lengths).
    public mutating func setUInt32(_ v: UInt32, at offset: Int) {
        let le = v.littleEndian
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: le >> (8 * UInt32(i))) }
    }
}

public enum ZigZag {
    @inlinable public static func encode(_ v: Int64) -> UInt64 {
        UInt64(bitPattern: (v << 1) ^ (v >> 63))
    }
    @inlinable public static func decode(_ v: UInt64) -> Int64 {
        Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }
}
