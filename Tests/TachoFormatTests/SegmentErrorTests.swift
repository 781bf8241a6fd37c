import Testing
@testable import TachoFormat

/// Segment damage is reported as a case with its facts (`SegmentError.Kind`), the text derived
/// from it: callers match on the case, never on the message.
@Suite struct SegmentErrorTests {
    /// (footer offset, footer length) from a segment's trailer.
    static func footerBounds(_ bytes: [UInt8]) -> (offset: Int, length: Int) {
        let t = bytes.count - FormatConstants.segmentTrailerSize
        return bytes.withUnsafeBytes {
            (Int(UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: t, as: UInt64.self))),
             Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: t + 8, as: UInt32.self))))
        }
    }

    /// Rewrites the trailer's footer checksum after an edit, so the edit reaches the parser.
    static func resealFooter(_ bytes: inout [UInt8]) {
        let (off, len) = footerBounds(bytes)
        let crc = CRC32C.checksum(Array(bytes[off..<(off + len)]))
        let at = bytes.count - FormatConstants.segmentTrailerSize + 12
        for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    }

    @Test func aMalformedFooterNamesItsFieldAndOffset() throws {
        var bytes = try CorruptionTests.sampleSegment()
        let (off, _) = Self.footerBounds(bytes)
        // The measurement name's length (a varint after the id byte) becomes 16,383: over the limit.
        bytes[off + 1] = 0xFF
        bytes[off + 2] = 0x7F
        Self.resealFooter(&bytes)
        #expect {
            _ = try SegmentReader(source: InMemorySegmentSource(bytes), path: "x.tseg")
        } throws: { e in
            guard let e = e as? SegmentError else { return false }
            return e.kind == .malformedFooter(SegmentFooter.Malformed(field: "measurement name", offset: 1))
                && e.offset == UInt64(off + 1) && e.path == "x.tseg" && !e.newerFormat
        }
    }

    @Test func aFooterChecksumMismatchIsItsOwnCase() throws {
        var bytes = try CorruptionTests.sampleSegment()
        let (off, _) = Self.footerBounds(bytes)
        bytes[off + 3] ^= 0x40
        #expect {
            _ = try SegmentReader(source: InMemorySegmentSource(bytes), path: "x.tseg")
        } throws: { e in
            (e as? SegmentError).map { $0.kind == .footerChecksum && $0.offset == UInt64(off) } ?? false
        }
    }

    @Test func aNewerVersionIsNotDamage() throws {
        var bytes = try CorruptionTests.sampleSegment()
        let newer = FormatConstants.readableSegmentVersions.upperBound + 1
        bytes[4] = UInt8(newer & 0xFF)
        bytes[5] = UInt8(newer >> 8)
        let crc = CRC32C.checksum(Array(bytes[0..<8]))
        for k in 0..<4 { bytes[8 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        #expect {
            _ = try SegmentReader(source: InMemorySegmentSource(bytes), path: "x.tseg")
        } throws: { e in
            guard let e = e as? SegmentError, case .newerVersion(let v, _) = e.kind else { return false }
            return v == newer && e.newerFormat && e.offset == 4
        }
    }
}
