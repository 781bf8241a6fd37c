import TachoFormat
import TachoParquet
import TachoQuery

/// Appends the rows of query blocks (`RowBlock`) to a `ParquetWriter`'s columns: typed array
/// copies for runs without nulls, string ids translated from the chunk's dictionary to the row
/// group's once per distinct string (not per row). Splits a block where a row group fills.
struct BlockAppender {
    let writer: ParquetWriter
    let measurement: Measurement
    /// Per string column: chunk dictionary id → row-group id (UInt32.max: not yet interned).
    private var remaps: [[UInt32]]

    init(writer: ParquetWriter, measurement: Measurement) {
        self.writer = writer
        self.measurement = measurement
        remaps = Array(repeating: [], count: measurement.columns.count)
    }

    /// Appends every row of `b`; returns the rows appended.
    mutating func append(_ b: RowBlock) throws -> Int {
        var i = 0
        while i < b.count {
            let n = min(b.count - i, writer.room)
            resetRemaps(b)
            appendRows(b, i..<(i + n))
            try writer.commitRows(n)
            i += n
        }
        return b.count
    }

    private mutating func resetRemaps(_ b: RowBlock) {
        for c in measurement.columns.indices {
            switch measurement.columns[c].type {
            case .string, .stringList:
                let n = b.chunk.columns[c].dictionary.count
                remaps[c].removeAll(keepingCapacity: true)
                remaps[c].append(contentsOf: repeatElement(UInt32.max, count: n))
            default: break
            }
        }
    }

    /// Block rows `rows` (a run of chunk rows when the selection is a range).
    private mutating func appendRows(_ b: RowBlock, _ rows: Range<Int>) {
        let cols = writer.columns
        let vid = cols[0].intern(b.vehicle)
        cols[0].append(stringID: vid, count: rows.count)
        let chunk = b.chunk
        let contiguous: Range<Int>? = if case .range = b.selection {
            b.chunkRow(rows.lowerBound)..<(b.chunkRow(rows.lowerBound) + rows.count)
        } else { nil }
        if let r = contiguous {
            chunk.times.withUnsafeBufferPointer { cols[1].append(UnsafeBufferPointer(rebasing: $0[r])) }
        } else {
            for i in rows { cols[1].append(chunk.times[b.chunkRow(i)]) }
        }
        for c in measurement.columns.indices {
            let out = cols[c + 2]
            let values = chunk.columns[c].values
            if let r = contiguous, !values.hasNulls(in: r) {
                switch values.type {
                case .int64:
                    values.ints.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(rebasing: $0[r])) }
                    continue
                case .float64:
                    values.doubles.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(rebasing: $0[r])) }
                    continue
                default: break
                }
            }
            let col = chunk.columns[c]
            if let r = contiguous, values.type == .string, !values.hasNulls(in: r) {
                appendStrings(col, column: c, r, to: out)
                continue
            }
            for i in rows { appendCell(col, column: c, row: b.chunkRow(i), to: out) }
        }
    }

    /// A run of string rows without nulls: ids translated through the remap.
    private mutating func appendStrings(_ col: DecodedColumn, column c: Int, _ r: Range<Int>, to out: ColumnBuffer) {
        col.values.ids.withUnsafeBufferPointer { ids in
            for k in r { out.ids.append(rowGroupID(col, column: c, ids[k], out)) }
        }
        out.didAppend(r.count)
    }

    @inline(__always)
    private mutating func appendCell(_ col: DecodedColumn, column c: Int, row: Int, to out: ColumnBuffer) {
        if col.isNull(row) {
            // A null in a column the catalog calls required is written as its zero value
            // (what the store itself reads there); the writer only takes nulls in OPTIONAL columns.
            if (try? out.appendNull()) != nil { return }
        }
        switch col.type {
        case .int64: out.append(col.ints[row])
        case .float64: out.append(col.doubles[row])
        case .bool: out.append(col.bools[row])
        case .string: out.append(stringID: rowGroupID(col, column: c, col.ids[row], out))
        case .stringList:
            let range = col.values.listRange(row)
            var ids: [UInt32] = []
            ids.reserveCapacity(range.count)
            for k in range { ids.append(rowGroupID(col, column: c, col.ids[k], out)) }
            out.append(listIDs: ids)
        }
    }

    @inline(__always)
    private mutating func rowGroupID(_ col: DecodedColumn, column c: Int, _ id: UInt32, _ out: ColumnBuffer) -> UInt32 {
        let cached = remaps[c][Int(id)]
        if cached != .max { return cached }
        let g = out.intern(col.dictionary[Int(id)])
        remaps[c][Int(id)] = g
        return g
    }
}
