/// A bounds-checked little-endian reader over borrowed bytes. Every `read…` returns nil on a
/// short read or a malformed varint instead of trapping: corrupt input must never crash.
public struct ByteReader {
    public let base: UnsafeRawBufferPointer
    public var offset: Int

    public init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    public var remaining: Int { base.count - offset }
    public var isAtEnd: Bool { offset >= base.count }

    @inlinable public mutating func readUInt8() -> UInt8? {
        guard offset < base.count else { return nil }
        defer { offset += 1 }
        return base[offset]
    }

    public mutating func readUInt16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        offset += 2
        return UInt16(littleEndian: v)
    }

    public mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return UInt32(littleEndian: v)
    }

    public mutating func readUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        let v = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return UInt64(littleEndian: v)
    }

    public mutating func readInt64() -> Int64? { readUInt64().map { Int64(bitPattern: $0) } }

    public mutating func readDouble() -> Double? { readUInt64().map { Double(bitPattern: $0) } }

    /// LEB128; nil when truncated or longer than 10 bytes (the offset then stays put).
    @inlinable public mutating func readVarint() -> UInt64? {
        guard let p = base.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        return TachoFormat.readVarint(p, base.count, &offset)
    }

    @inlinable public mutating func readSignedVarint() -> Int64? {
        readVarint().map(ZigZag.decode)
    }

    /// A varint that must fit an `Int` no larger than `limit` (lengths, counts).
    public mutating func readLength(limit: Int) -> Int? {
        guard let v = readVarint(), v <= UInt64(limit) else { return nil }
        return Int(v)
    }

    public mutating func readBytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: base[offset..<(offset + n)])
    }

    /// varint length then UTF-8; nil if short or not valid UTF-8.
    public mutating func readString(limit: Int = 1 << 20) -> String? {
        guard let n = readLength(limit: limit), let raw = readBytes(n) else { return nil }
        return String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self)
    }
}
