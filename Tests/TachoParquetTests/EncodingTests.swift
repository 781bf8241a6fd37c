import Testing
@testable import TachoParquet

/// The byte-level encoders against bytes worked out by hand from the specifications (the
/// Thrift compact protocol spec; parquet-format Encodings.md and its worked examples).
@Suite struct EncodingTests {
    @Test func thriftCompactStructMatchesTheSpec() {
        var w = ThriftCompactWriter()
        w.beginStruct()
        w.field(1, i32: 1)                    // delta 1, type 5: 0x15; zigzag(1) = 2
        w.field(2, string: "ab")              // 0x18, length 2, bytes
        w.field(20, i64: -1)                  // delta 18 > 15: type 6 alone, zigzag(20) = 40; zigzag(-1) = 1
        w.field(21, bool: true)               // 0x11: the value is the type nibble
        w.field(22, i32s: [1, 2, 300])        // 0x19; list header 3 << 4 | 5; 2, 4, 600 = d8 04
        w.field(23) { $0.field(1, i64: 150) } // 0x1c; nested 0x16, zigzag(150) = 300 = ac 02; stop
        w.field(24, bool: false)              // 0x12
        w.endStruct()
        #expect(w.bytes == [
            0x15, 0x02, 0x18, 0x02, 0x61, 0x62, 0x06, 0x28, 0x01, 0x11,
            0x19, 0x35, 0x02, 0x04, 0xD8, 0x04, 0x1C, 0x16, 0xAC, 0x02, 0x00, 0x12, 0x00,
        ])
    }

    @Test func thriftListsOfFifteenOrMoreCarryAVarintSize() {
        var w = ThriftCompactWriter()
        w.beginStruct()
        w.field(1, i32s: Array(repeating: 0, count: 20))
        w.endStruct()
        #expect(w.bytes == [0x19, 0xF5, 20] + Array(repeating: 0, count: 20) + [0x00])
    }

    @Test func timestampLogicalTypeIsTheUnionOfTheSpec() {
        var w = ThriftCompactWriter()
        w.beginStruct()
        LogicalType.timestampMicros(adjustedToUTC: true).encode(&w)
        w.endStruct()
        // field 8 struct (0x8c): isAdjustedToUTC true (0x11), unit (0x1c) { MICROS: field 2 (0x2c) {} }
        #expect(w.bytes == [0x8C, 0x11, 0x1C, 0x2C, 0x00, 0x00, 0x00, 0x00])
    }

    /// Encodings.md: the values 0…7 bit-packed with width 3 are 10001000 11000110 11111010.
    @Test func hybridBitPackedRunMatchesTheSpecExample() {
        var out: [UInt8] = []
        let v: [UInt32] = [0, 1, 2, 3, 4, 5, 6, 7]
        v.withUnsafeBufferPointer { HybridEncoder.encode($0, width: 3, into: &out) }
        #expect(out == [0x03, 0x88, 0xC6, 0xFA])
    }

    @Test func hybridRepeatsBecomeRLERuns() {
        var out: [UInt8] = []
        let v = [UInt32](repeating: 5, count: 100) + [1, 2, 3]
        v.withUnsafeBufferPointer { HybridEncoder.encode($0, width: 3, into: &out) }
        // RLE run: header 100 << 1 = 200 (c8 01), value in one byte; then one padded group of 8.
        #expect(out == [0xC8, 0x01, 0x05, 0x03, 0xD1, 0x00, 0x00])
    }

    /// Encodings.md example 1: 1 2 3 4 5 — every delta 1, so all miniblocks have width 0.
    @Test func deltaBinaryPackedSpecExampleOne() {
        var out: [UInt8] = []
        let v: [Int64] = [1, 2, 3, 4, 5]
        v.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &out) }
        #expect(out == [0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0])
    }

    /// Encodings.md example 2: 7 5 3 1 2 3 4 5 — min delta −2, relative deltas 0 0 0 3 3 3 3 at width 2.
    @Test func deltaBinaryPackedSpecExampleTwo() {
        var out: [UInt8] = []
        let v: [Int64] = [7, 5, 3, 1, 2, 3, 4, 5]
        v.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &out) }
        #expect(out == [0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F, 0, 0, 0, 0, 0, 0])
    }

    /// Wrapping deltas: the extremes of Int64 side by side still encode (width 64).
    @Test func deltaBinaryPackedTakesAnyInt64() {
        var out: [UInt8] = []
        let v: [Int64] = [.max, .min, 0, .max]
        v.withUnsafeBufferPointer { DeltaBinaryPacked.encode($0, into: &out) }
        // header: 80 01, 04, 04, zigzag(max) in 10 bytes = 14; min delta Int64.min: zigzag in 10
        // bytes; widths 64 0 0 0 (the deltas 1, min, max less the min span 64 bits); 32 × 8 bytes.
        #expect(out.count == 14 + 10 + 4 + 32 * 8)
        #expect(Array(out[24..<28]) == [64, 0, 0, 0])
    }
}
