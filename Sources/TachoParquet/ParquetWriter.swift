/// Writes one Parquet file (apache/parquet-format) to a sink, streaming: "PAR1", the row
/// groups as they fill, then the FileMetaData footer (Thrift compact), its length and "PAR1".
/// At most one row group's column buffers are held in memory; a full row group is encoded and
/// written when the caller commits the rows that fill it (`commitRows`).
///
///     let w = try ParquetWriter(columns: [.init("time", .timestampMicros), .init("v", .double)], sink: sink)
///     w.columns[0].append(t); w.columns[1].append(x)
///     try w.commitRows(1)
///     try w.close()
///
/// Callers append to every column (`ColumnBuffer`), then commit how many rows they appended;
/// at most `room` rows may be committed at once, so a row group never exceeds `rowGroupRows`.
public final class ParquetWriter {
    public struct Options: Sendable {
        /// Rows per row group (readers parallelise and skip by row group).
        public var rowGroupRows = 1 << 20
        /// A data page ends after this many rows or about `pageBytes` bytes of values.
        public var pageRows = 1 << 17
        public var pageBytes = 1 << 20
        /// A string column whose row-group dictionary would be larger is written PLAIN.
        public var dictionaryLimit = 1 << 20
        public var zstdLevel: Int32 = 3
        /// Columns the rows are sorted by (recorded as each row group's sorting_columns).
        public var sortedBy: [Int] = []
        /// FileMetaData.key_value_metadata.
        public var keyValues: [(key: String, value: String)] = []
        public var createdBy = "tacho"
        public init() {}
    }

    public let schema: [ParquetColumn]
    public let columns: [ColumnBuffer]
    public let options: Options
    private let sink: ParquetSink
    private let zstd: ZstdPageCompressor
    private var encoder: ColumnChunkEncoder
    /// The row groups written so far (their column chunks' metadata).
    public private(set) var rowGroups: [RowGroup] = []
    private var pending = 0
    public private(set) var totalRows: Int64 = 0
    private var closed = false

    public init(columns schema: [ParquetColumn], sink: ParquetSink, options: Options = Options()) throws {
        self.schema = schema
        self.columns = schema.map { ColumnBuffer($0) }
        self.options = options
        self.sink = sink
        zstd = ZstdPageCompressor(level: options.zstdLevel)
        encoder = ColumnChunkEncoder(pageRows: options.pageRows, pageBytes: options.pageBytes,
                                     dictionaryLimit: options.dictionaryLimit)
        try sink.write(Self.magic)
    }

    static let magic: [UInt8] = Array("PAR1".utf8)

    /// Rows that can still be committed before the row group is full (at least 1).
    public var room: Int { options.rowGroupRows - pending }

    /// Rows appended to the buffers but not yet committed: the caller's own bookkeeping.
    public var pendingRows: Int { pending }

    /// Declares `n` more rows appended to every column (n ≤ `room`); writes the row group
    /// when it is full. Returns true when it did (the buffers, dictionaries included, are then empty).
    @discardableResult
    public func commitRows(_ n: Int) throws -> Bool {
        guard !closed else { throw ParquetError.closed }
        precondition(n <= room, "commitRows(\(n)) past the row group's room \(room)")
        pending += n
        guard pending >= options.rowGroupRows else { return false }
        try flushRowGroup()
        return true
    }

    /// Writes the buffered rows as a row group now (nothing when there are none).
    public func flushRowGroup() throws {
        guard pending > 0 else { return }
        for c in columns where c.rows != pending {
            throw ParquetError.columnLengthMismatch(column: c.column.name, rows: c.rows, expected: pending)
        }
        let start = sink.offset
        var chunks: [ColumnChunk] = []
        var uncompressed: Int64 = 0
        for c in columns {
            let chunk = try encoder.encode(c, zstd: zstd, sink: sink)
            uncompressed += chunk.metaData.totalUncompressedSize
            chunks.append(chunk)
            c.reset()
        }
        rowGroups.append(RowGroup(
            columns: chunks, totalByteSize: uncompressed, numRows: Int64(pending),
            // Every column is one leaf, so a column's index is its leaf index.
            sortingColumns: options.sortedBy.map { SortingColumn(columnIndex: Int32($0)) },
            fileOffset: start, totalCompressedSize: sink.offset - start, ordinal: Int16(truncatingIfNeeded: rowGroups.count)))
        totalRows += Int64(pending)
        pending = 0
    }

    /// Writes the last row group and the footer. The sink then holds a complete file.
    public func close() throws {
        guard !closed else { throw ParquetError.closed }
        try flushRowGroup()
        closed = true
        let meta = FileMetaData(
            schema: [SchemaElement(name: "schema", numChildren: Int32(schema.count))] + schema.flatMap(\.schemaElements),
            numRows: totalRows, rowGroups: rowGroups, keyValues: options.keyValues,
            createdBy: options.createdBy, leafCount: schema.count)
        let footer = meta.encoded()
        try sink.write(footer)
        let n = UInt32(footer.count)
        try sink.write((0..<4).map { UInt8(truncatingIfNeeded: n >> (8 * UInt32($0))) })
        try sink.write(Self.magic)
    }
}
