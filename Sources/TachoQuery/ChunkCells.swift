import TachoFormat
import TachoStore

/// How a query handles a column's values, whatever the storage type behind them.
enum CellKind: Sendable, Hashable {
    case int, double, string, bool, stringList

    var isNumeric: Bool { self == .int || self == .double }
}

/// The one place in TachoQuery that knows how decoded chunks (`DecodedChunk`,
/// `DecodedColumn`) and footer statistics (`ColumnStats`) lay values out. Everything else
/// reads cells, dictionaries and stats through here, so a change of representation (bool
/// and string-list columns, null bitmaps) is answered in this file alone.
enum ChunkCells {
    static func kind(_ type: ColumnType) -> CellKind {
        switch type {
        case .int64: .int
        case .float64: .double
        case .string: .string
        case .bool: .bool
        case .stringList: .stringList
        }
    }

    static func kind(_ m: Measurement, _ column: Int) -> CellKind { kind(m.columns[column].type) }

    // MARK: decoded rows

    /// Row `row`'s value of column `column` (which must have been decoded).
    @inline(__always)
    static func cell(_ chunk: DecodedChunk, column: Int, row: Int) -> CellValue {
        if isNull(chunk, column: column, row: row) { return .null }
        // Element access straight through `chunk.columns[column]`: binding the column to a
        // local would retain and release each of its arrays per cell.
        switch chunk.columns[column].type {
        case .int64: return .int(chunk.columns[column].ints[row])
        case .float64: return .double(chunk.columns[column].doubles[row])
        case .string: return .string(chunk.columns[column].string(at: row))
        case .bool: return .bool(chunk.columns[column].bools[row])
        case .stringList: return .strings(chunk.columns[column].strings(at: row))
        }
    }

    /// Whether the column has any null in this chunk.
    @inline(__always)
    static func hasNulls(_ chunk: DecodedChunk, column: Int) -> Bool {
        chunk.columns[column].values.hasNulls(in: 0..<chunk.count)
    }

    @inline(__always)
    static func isNull(_ chunk: DecodedChunk, column: Int, row: Int) -> Bool { chunk.columns[column].isNull(row) }

    /// The chunk dictionary of a string column; rows hold ids into it (`withIDs`).
    static func dictionary(_ chunk: DecodedChunk, column: Int) -> [String] { chunk.columns[column].dictionary }

    @inline(__always)
    static func string(_ chunk: DecodedChunk, column: Int, row: Int) -> String { chunk.columns[column].string(at: row) }

    @inline(__always)
    static func int(_ chunk: DecodedChunk, column: Int, row: Int) -> Int64 { chunk.columns[column].ints[row] }

    @inline(__always)
    static func double(_ chunk: DecodedChunk, column: Int, row: Int) -> Double { chunk.columns[column].doubles[row] }

    static func withIDs<R>(_ chunk: DecodedChunk, column: Int, _ body: (UnsafeBufferPointer<UInt32>) throws -> R) rethrows -> R {
        try chunk.columns[column].ids.withUnsafeBufferPointer(body)
    }

    static func withInts<R>(_ chunk: DecodedChunk, column: Int, _ body: (UnsafeBufferPointer<Int64>) throws -> R) rethrows -> R {
        try chunk.columns[column].ints.withUnsafeBufferPointer(body)
    }

    static func withDoubles<R>(_ chunk: DecodedChunk, column: Int, _ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try chunk.columns[column].doubles.withUnsafeBufferPointer(body)
    }

    /// A numeric cell as a Double (nil for null).
    @inline(__always)
    static func number(_ chunk: DecodedChunk, column: Int, row: Int) -> Double? {
        if isNull(chunk, column: column, row: row) { return nil }
        return chunk.columns[column].type == .int64 ? Double(chunk.columns[column].ints[row]) : chunk.columns[column].doubles[row]
    }

    /// Decodes the time column and the `columns` of a stored chunk (no deduplication: for
    /// a look at a chunk's dictionaries before reading it through the scan).
    static func decode(_ reader: SegmentReader, _ meta: ChunkMeta, columns: [Bool], into out: inout DecodedChunk) throws {
        do {
            try reader.decode(meta, columns: columns, into: &out)
        } catch let e as SegmentError {
            throw StoreError.corrupt(e)
        }
    }

    // MARK: footer statistics

    /// The one value every row of the chunk holds in a string column, or nil when there are
    /// several (or nulls).
    static func singleString(_ meta: ChunkMeta, column: Int) -> String? {
        let s = meta.stats[column]
        return s.distinct == 1 && s.nulls == 0 ? s.lastString : nil
    }

    /// The one value the rows with a value hold in a string column (nulls aside), or nil.
    static func singleNonNullString(_ meta: ChunkMeta, column: Int) -> String? {
        let s = meta.stats[column]
        return s.distinct == 1 ? s.lastString : nil
    }

    /// Whether the chunk may hold nulls in the column.
    static func mayHaveNulls(_ meta: ChunkMeta, column: Int) -> Bool { meta.stats[column].nulls > 0 }

    /// Rows with a value (not null) in the column.
    static func valueCount(_ meta: ChunkMeta, column: Int) -> Int { meta.rowCount - meta.stats[column].nulls }

    /// Rows of a bool column that are true.
    static func trueCount(_ meta: ChunkMeta, column: Int) -> Int { meta.stats[column].trues }

    /// Min and max of the non-null values of an int64 column.
    static func intRange(_ meta: ChunkMeta, column: Int) -> (min: Int64, max: Int64) {
        (meta.stats[column].minInt, meta.stats[column].maxInt)
    }

    /// Min and max of the non-null values of a float64 column.
    static func doubleRange(_ meta: ChunkMeta, column: Int) -> (min: Double, max: Double) {
        (meta.stats[column].minDouble, meta.stats[column].maxDouble)
    }

    /// The exact sum of an int64 column, or nil when it overflowed Int64.
    static func intSum(_ meta: ChunkMeta, column: Int) -> Int64? {
        meta.stats[column].sumOverflow ? nil : meta.stats[column].sumInt
    }

    static func doubleSum(_ meta: ChunkMeta, column: Int) -> Double { meta.stats[column].sumDouble }
}
