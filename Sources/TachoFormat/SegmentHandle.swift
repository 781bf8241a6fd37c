/// One open segment, shared: the source (in the store, a file descriptor read with pread,
/// closed when the last holder lets the handle go) and what opening it validated and parsed
/// (header, trailer, footer). Immutable and `Sendable`: any number of cursors on any threads
/// read through one handle at once, each with its own scratch (`SegmentReader`).
public final class SegmentHandle: Sendable {
    /// What a handle validated and parsed at open: kept by readers and snapshots so that
    /// re-opening an evicted segment checks the file cheaply instead of parsing its footer
    /// again (`SegmentHandle.init(source:reusing:)`).
    public struct Parsed: Sendable {
        public let path: String
        public let footer: SegmentFooter
        /// The segment format version (header and trailer agree).
        public let version: UInt16
        /// Where the blocks end: the footer's offset.
        public let dataEnd: UInt64
        public let footerLength: Int
        public let footerCRC: UInt32
        public let size: UInt64
    }

    public let parsed: Parsed
    /// The file's bytes: positioned reads only.
    public let source: any SegmentSource

    public var path: String { parsed.path }
    public var footer: SegmentFooter { parsed.footer }
    public var version: UInt16 { parsed.version }

    /// Opens the segment in `source`: validates header and trailer, verifies the footer's
    /// checksum and parses it. Throws `SegmentError` naming what is damaged and where.
    public init(source: any SegmentSource, path: String) throws {
        self.source = source
        let size = source.size
        let minSize = UInt64(FormatConstants.segmentHeaderSize + FormatConstants.segmentTrailerSize)
        guard size >= minSize else {
            throw SegmentError(path: path, offset: 0, .tooShort(size: size))
        }
        var buf: [UInt8] = []
        try source.read(at: 0, count: FormatConstants.segmentHeaderSize, into: &buf)
        let (measurementID, version): (UInt8, UInt16) = try buf.withUnsafeBytes { b in
            var r = ByteReader(b)
            guard r.readUInt32() == FormatConstants.segmentMagic else {
                throw SegmentError(path: path, offset: 0, .badMagic)
            }
            let version = r.readUInt16() ?? 0
            let mid = r.readUInt8() ?? 0
            let reserved = r.readUInt8() ?? 1
            let crc = r.readUInt32() ?? 0
            guard crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[0..<8])) else {
                throw SegmentError(path: path, offset: 0, .headerChecksum)
            }
            guard FormatConstants.readableSegmentVersions.contains(version), reserved == 0 else {
                let known = FormatConstants.readableSegmentVersions
                if version > known.upperBound {
                    throw SegmentError(path: path, offset: 4, .newerVersion(version, readable: known))
                }
                throw SegmentError(path: path, offset: 4, .unsupportedVersion(version))
            }
            return (mid, version)
        }
        let (footerOffset, footerLen, footerCRC) = try Self.readTrailer(source, path: path, size: size, version: version, into: &buf)
        try source.read(at: footerOffset, count: footerLen, into: &buf)
        guard CRC32C.checksum(buf) == footerCRC else {
            throw SegmentError(path: path, offset: footerOffset, .footerChecksum)
        }
        let result = buf.withUnsafeBytes { raw in
            Result { () throws(SegmentFooter.Malformed) in try SegmentFooter.parse(raw, dataEnd: footerOffset, version: version) }
        }
        let f: SegmentFooter
        switch result {
        case .success(let footer): f = footer
        case .failure(let m): throw SegmentError(path: path, offset: footerOffset + UInt64(m.offset), .malformedFooter(m))
        }
        guard f.measurement.id == measurementID else {
            throw SegmentError(path: path, offset: footerOffset, .footerMeasurement(header: measurementID, footer: f.measurement.id))
        }
        parsed = Parsed(path: path, footer: f, version: version, dataEnd: footerOffset, footerLength: footerLen,
                        footerCRC: footerCRC, size: size)
    }

    /// Re-opens a segment parsed before (its descriptor was closed by a cache eviction): the
    /// file must have the same size and the same trailer (footer offset, length, checksum),
    /// and then the footer parsed before is used as it is. A segment file is never rewritten
    /// in place, so anything else is damage (`SegmentError`).
    public init(source: any SegmentSource, reusing p: Parsed) throws {
        self.source = source
        guard source.size == p.size else {
            throw SegmentError(path: p.path, offset: 0, .readPastEnd(count: Int(clamping: p.size), size: source.size))
        }
        var buf: [UInt8] = []
        let (off, len, crc) = try Self.readTrailer(source, path: p.path, size: p.size, version: p.version, into: &buf)
        guard off == p.dataEnd, len == p.footerLength, crc == p.footerCRC else {
            throw SegmentError(path: p.path, offset: p.size - UInt64(FormatConstants.segmentTrailerSize), .footerChecksum)
        }
        parsed = p
    }

    /// The trailer's footer offset, length and checksum, checked against the file's size.
    private static func readTrailer(
        _ source: any SegmentSource, path: String, size: UInt64, version: UInt16, into buf: inout [UInt8]
    ) throws -> (UInt64, Int, UInt32) {
        let trailerAt = size - UInt64(FormatConstants.segmentTrailerSize)
        try source.read(at: trailerAt, count: FormatConstants.segmentTrailerSize, into: &buf)
        return try buf.withUnsafeBytes { b in
            var r = ByteReader(b)
            let off = r.readUInt64() ?? 0, len = r.readUInt32() ?? 0, crc = r.readUInt32() ?? 0
            let trailerVersion = r.readUInt16() ?? 0, reserved = r.readUInt16() ?? 1
            let magic = r.readUInt32() ?? 0
            guard magic == FormatConstants.segmentTrailerMagic, trailerVersion == version, reserved == 0 else {
                throw SegmentError(path: path, offset: trailerAt, .badTrailer(headerVersion: version))
            }
            guard off >= UInt64(FormatConstants.segmentHeaderSize), off <= trailerAt, UInt64(len) == trailerAt - off else {
                throw SegmentError(path: path, offset: trailerAt, .footerBounds(offset: off, length: len, trailer: trailerAt))
            }
            return (off, Int(len), crc)
        }
    }
}
