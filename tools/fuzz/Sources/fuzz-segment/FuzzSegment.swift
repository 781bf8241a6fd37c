// libFuzzer target: TachoFormat's SegmentReader (header, trailer, footer) and chunk decoding
// (time, int, float, string codecs; zstd and raw blocks).
//
// Input: byte 0 = mode, the rest = a segment file. Mode bit 0 set: before reading, the header,
// footer and block checksums are recomputed over the (mutated) bytes, so mutations reach the
// footer parser and the codecs instead of stopping at a checksum mismatch.
// Oracles: no crash, no sanitizer report, no hang, bounded allocation (-rss_limit_mb); every
// failure is a SegmentError with an offset inside the file.
import TachoFormat

func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
}

func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
}

/// Recomputes the header and footer checksums in place when the layout allows.
func fixHeaderAndFooter(_ b: inout [UInt8]) {
    let h = FormatConstants.segmentHeaderSize, t = FormatConstants.segmentTrailerSize
    guard b.count >= h + t else { return }
    put32(&b, 8, b[0..<8].withUnsafeBytes { CRC32C.checksum($0) })
    let trailer = b.count - t
    var off: UInt64 = 0
    for i in 0..<8 { off |= UInt64(b[trailer + i]) << (8 * UInt64(i)) }
    let len = UInt64(u32(b, trailer + 8))
    guard off >= UInt64(h), off <= UInt64(trailer), len == UInt64(trailer) - off else { return }
    put32(&b, trailer + 12, b[Int(off)..<trailer].withUnsafeBytes { CRC32C.checksum($0) })
}

func check(_ e: any Error, size: Int) {
    guard let s = e as? SegmentError else { fatalError("not a SegmentError: \(e)") }
    guard s.offset <= UInt64(size) else { fatalError("error offset \(s.offset) beyond the file (\(size)): \(s)") }
}

func readAll(_ bytes: [UInt8]) -> SegmentReader? {
    let r: SegmentReader
    do {
        r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "fuzz")
    } catch {
        check(error, size: bytes.count)
        return nil
    }
    let f = r.footer
    var chunk = DecodedChunk(measurement: f.measurement)
    for v in f.vehicles {
        _ = f.vehicle(v.vehicle)
        for c in v.chunks {
            do {
                try r.decode(c, into: &chunk)
                guard chunk.times.count == c.rowCount else { fatalError("decoded \(chunk.times.count) times, footer says \(c.rowCount)") }
            } catch {
                check(error, size: bytes.count)
            }
            let some = f.measurement.columns.indices.map { $0 % 2 == 0 }
            do { try r.decode(c, columns: some, into: &chunk) } catch { check(error, size: bytes.count) }
        }
    }
    return r
}

/// One input (LLVMFuzzerTestOneInput).
func fuzzSegment(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    guard data[0] & 1 != 0 else {
        _ = readAll(bytes)
        return 0
    }
    fixHeaderAndFooter(&bytes)
    guard let r = readAll(bytes) else { return 0 }
    // The footer parsed: fix every block's checksum too and decode again.
    var fixed = bytes
    for v in r.footer.vehicles {
        for c in v.chunks {
            for b in c.blocks {
                let end = Int(b.offset) + Int(b.length) + 1
                guard end + 4 <= fixed.count else { continue }
                put32(&fixed, end, fixed[Int(b.offset)..<end].withUnsafeBytes { CRC32C.checksum($0) })
            }
        }
    }
    fixHeaderAndFooter(&fixed)
    _ = readAll(fixed)
    return 0
}
