import TachoFormat

/// The framing the store's own files share (FORMAT.md §3.1, §4, §5): magic <4b>, version
/// <2b>, reserved <2b> = 0, the body, then the CRC-32C of every preceding byte.
enum MetadataFile {
    /// Header, `body`, trailing CRC.
    static func encode(magic: UInt32, version: UInt16, capacity: Int, _ body: (inout ByteWriter) -> Void) -> [UInt8] {
        var w = ByteWriter(capacity: capacity)
        w.writeUInt32(magic)
        w.writeUInt16(version)
        w.writeUInt16(0)
        body(&w)
        w.writeUInt32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    /// The CRC a file ends with (what the manifest records of the latest-status index).
    /// REQUIRES: `bytes.count >= 4`.
    static func storedCRC(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)) }
    }

    /// The bytes before the trailing CRC, nil when they do not match it.
    /// REQUIRES: `raw.count >= 4`.
    static func checkedBody(_ raw: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let body = UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 4)])
        let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: body.count, as: UInt32.self))
        return CRC32C.checksum(body) == crc ? body : nil
    }

    /// Checks size (≥ 12 bytes), CRC, magic, version and reserved field, then lets `body`
    /// parse what follows the header (`limit`: the body's size, a bound for counts). nil
    /// when any check fails, `body` does, or it leaves bytes unread.
    static func decode<T>(
        _ bytes: [UInt8], magic: UInt32, version: UInt16, _ body: (inout ByteReader, _ limit: Int) -> T?
    ) -> T? {
        guard bytes.count >= 12 else { return nil }
        return bytes.withUnsafeBytes { raw -> T? in
            guard let b = checkedBody(raw) else { return nil }
            var r = ByteReader(b)
            guard r.readUInt32() == magic, r.readUInt16() == version, r.readUInt16() == 0,
                  let out = body(&r, b.count), r.isAtEnd
            else { return nil }
            return out
        }
    }
}
