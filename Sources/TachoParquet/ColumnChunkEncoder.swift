/// Encodes one `ColumnBuffer` as a column chunk: a dictionary page when the column is
/// dictionary-encoded, then v1 data pages of whole rows, each body — repetition levels,
/// definition levels (each RLE/bit-packed hybrid with a 4-byte length), then the values —
/// compressed as one zstd frame. Returns the chunk's metadata with its statistics.
///
/// Encodings: timestamps and int64 DELTA_BINARY_PACKED; doubles and booleans PLAIN; strings
/// (and the strings of lists) RLE_DICTIONARY over a PLAIN dictionary page, or PLAIN when the
/// row group's dictionary exceeds `dictionaryLimit` bytes (as pyarrow falls back at 1 MiB).
struct ColumnChunkEncoder {
    var pageRows = 1 << 17
    var pageBytes = 1 << 20
    var dictionaryLimit = 1 << 20

    /// Level and body scratch, reused across pages.
    private var levels: [UInt32] = []
    private var body: [UInt8] = []
    private var header: [UInt8] = []

    init(pageRows: Int, pageBytes: Int, dictionaryLimit: Int) {
        self.pageRows = pageRows
        self.pageBytes = pageBytes
        self.dictionaryLimit = dictionaryLimit
    }

    private struct Totals {
        var compressed = 0
        var uncompressed = 0
        var levelEntries = 0
    }

    mutating func encode(_ c: ColumnBuffer, zstd: ZstdPageCompressor, sink: ParquetSink) throws -> ColumnChunk {
        let col = c.column
        let start = sink.offset
        var t = Totals()
        var encodings: [Encoding] = []
        let isStrings = col.kind == .string || col.kind == .stringList
        let dictBytes = c.dictionary.bytes.count + 4 * c.dictionary.count
        let useDictionary = isStrings && dictBytes <= dictionaryLimit
        var dictionaryOffset: Int64?
        if useDictionary {
            dictionaryOffset = sink.offset
            body.removeAll(keepingCapacity: true)
            for i in 0..<c.dictionary.count { appendPlain(c.dictionary, i, to: &body) }
            try writePage(.dictionaryPage, entries: c.dictionary.count, .plain, col, zstd, sink, &t)
            encodings.append(.plain)
        }
        let valueEncoding: Encoding = switch col.kind {
        case .timestampMicros, .int64: .deltaBinaryPacked
        case .double, .boolean: .plain
        case .string, .stringList: useDictionary ? .rleDictionary : .plain
        }
        if !encodings.contains(valueEncoding) { encodings.append(valueEncoding) }
        if col.maxDefinitionLevel > 0 || col.maxRepetitionLevel > 0 { encodings.append(.rle) }
        let dataOffset = sink.offset

        // Pages of whole rows: [row, rowEnd), values [value, valueEnd), non-null rows [present, …).
        var row = 0, value = 0, present = 0
        let dictWidth = max(1, HybridEncoder.bitWidth(UInt64(max(c.dictionary.count, 1) - 1)))
        repeat {
            var rowEnd = row, valueEnd = value, presentEnd = present, bytes = 0
            while rowEnd < c.rows && rowEnd - row < pageRows && bytes < pageBytes {
                if !col.nullable || c.defined[rowEnd] != 0 {
                    let k = col.kind == .stringList ? Int(c.listEnds[presentEnd]) - valueEnd : 1
                    bytes += estimate(c, col.kind, valueEnd, k, useDictionary)
                    valueEnd += k
                    presentEnd += 1
                }
                rowEnd += 1
            }
            body.removeAll(keepingCapacity: true)
            let entries = levelsOf(c, rows: row..<rowEnd, present: present)
            switch col.kind {
            case .timestampMicros, .int64:
                c.ints.withUnsafeBufferPointer { DeltaBinaryPacked.encode(UnsafeBufferPointer(rebasing: $0[value..<valueEnd]), into: &body) }
            case .double:
                c.doubles.withUnsafeBytes { body.append(contentsOf: $0[(value * 8)..<(valueEnd * 8)]) }
            case .boolean:
                appendBits(c.bools[value..<valueEnd], to: &body)
            case .string, .stringList:
                if useDictionary {
                    body.append(UInt8(dictWidth))
                    c.ids.withUnsafeBufferPointer {
                        HybridEncoder.encode(UnsafeBufferPointer(rebasing: $0[value..<valueEnd]), width: dictWidth, into: &body)
                    }
                } else {
                    for i in value..<valueEnd { appendPlain(c.dictionary, Int(c.ids[i]), to: &body) }
                }
            }
            try writePage(.dataPage, entries: entries, valueEncoding, col, zstd, sink, &t)
            t.levelEntries += entries
            (row, value, present) = (rowEnd, valueEnd, presentEnd)
        } while row < c.rows

        let meta = ColumnMetaData(
            type: col.physicalType, encodings: encodings, path: col.path, codec: .zstd,
            numValues: Int64(t.levelEntries), totalUncompressedSize: Int64(t.uncompressed),
            totalCompressedSize: Int64(t.compressed), dataPageOffset: dataOffset,
            dictionaryPageOffset: dictionaryOffset, statistics: ColumnStatistics.of(c))
        return ColumnChunk(fileOffset: start, metaData: meta)
    }

    /// Bytes a run of `k` values from `v` adds to a page body (to cut pages near `pageBytes`).
    @inline(__always)
    private func estimate(_ c: ColumnBuffer, _ kind: ParquetColumn.Kind, _ v: Int, _ k: Int, _ dict: Bool) -> Int {
        switch kind {
        case .timestampMicros, .int64, .double: return 8
        case .boolean: return 1
        case .string, .stringList:
            if dict { return k * 4 }
            var n = 0
            for i in v..<(v + k) { n += 4 + c.dictionary.range(Int(c.ids[i])).count }
            return n
        }
    }

    /// Appends the page's repetition and definition levels to `body`; returns the level entries.
    private mutating func levelsOf(_ c: ColumnBuffer, rows: Range<Int>, present: Int) -> Int {
        let col = c.column
        if col.kind != .stringList {
            guard col.nullable else { return rows.count }
            levels.removeAll(keepingCapacity: true)
            for r in rows { levels.append(UInt32(c.defined[r])) }
            levels.withUnsafeBufferPointer { HybridEncoder.encodeLevels($0, width: 1, into: &body) }
            return rows.count
        }
        // Lists: (rep, def) per entry. A null row (0, 0); an empty list (0, base); each string
        // (0 for the first, 1 after; base + 1), base = 1 for an optional list, else 0.
        let base: UInt32 = col.nullable ? 1 : 0
        var reps: [UInt32] = []
        levels.removeAll(keepingCapacity: true)
        var p = present
        for r in rows {
            if col.nullable && c.defined[r] == 0 {
                reps.append(0); levels.append(0)
                continue
            }
            let lo = p == 0 ? 0 : Int(c.listEnds[p - 1]), hi = Int(c.listEnds[p])
            p += 1
            if lo == hi {
                reps.append(0); levels.append(base)
                continue
            }
            reps.append(0); levels.append(base + 1)
            for _ in (lo + 1)..<hi { reps.append(1); levels.append(base + 1) }
        }
        reps.withUnsafeBufferPointer { HybridEncoder.encodeLevels($0, width: 1, into: &body) }
        let width = HybridEncoder.bitWidth(UInt64(col.maxDefinitionLevel))
        levels.withUnsafeBufferPointer { HybridEncoder.encodeLevels($0, width: width, into: &body) }
        return reps.count
    }

    /// Compresses `body` and writes header + frame; adds both to the totals.
    private mutating func writePage(_ type: PageType, entries: Int, _ encoding: Encoding, _ col: ParquetColumn,
                                    _ zstd: ZstdPageCompressor, _ sink: ParquetSink, _ t: inout Totals) throws {
        guard body.count < Int(Int32.max) else { throw ParquetError.pageTooLarge(column: col.name, bytes: body.count) }
        let frame = try zstd.compress(body, column: col.name)
        header.removeAll(keepingCapacity: true)
        PageHeader(type: type, uncompressedSize: Int32(body.count), compressedSize: Int32(frame.count),
                   numValues: Int32(entries), encoding: encoding).encoded(into: &header)
        try sink.write(header)
        try sink.write(frame)
        t.compressed += header.count + frame.count
        t.uncompressed += header.count + body.count
    }
}

/// PLAIN BYTE_ARRAY: a 4-byte little-endian length, then the bytes.
@inline(__always)
func appendPlain(_ d: StringDictionary, _ i: Int, to out: inout [UInt8]) {
    let r = d.range(i)
    let n = UInt32(r.count)
    out.append(UInt8(truncatingIfNeeded: n)); out.append(UInt8(truncatingIfNeeded: n >> 8))
    out.append(UInt8(truncatingIfNeeded: n >> 16)); out.append(UInt8(truncatingIfNeeded: n >> 24))
    out.append(contentsOf: d.bytes[r])
}

/// PLAIN BOOLEAN: one bit per value, least significant bit first.
func appendBits(_ v: ArraySlice<Bool>, to out: inout [UInt8]) {
    var byte: UInt8 = 0, bit = 0
    for b in v {
        if b { byte |= 1 << UInt8(bit) }
        bit += 1
        if bit == 8 { out.append(byte); byte = 0; bit = 0 }
    }
    if bit > 0 { out.append(byte) }
}
