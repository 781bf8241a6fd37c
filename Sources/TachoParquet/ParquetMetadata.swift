/// The parts of apache/parquet-format's parquet.thrift this writer emits, with their field ids,
/// and their Thrift compact encoding (`ThriftCompactWriter`). Optional fields that are nil are
/// left out, as Thrift does.

/// parquet.thrift `Type`: the physical type of a leaf column.
public enum PhysicalType: Int32, Sendable {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// parquet.thrift `Encoding`.
public enum Encoding: Int32, Sendable {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9
}

/// parquet.thrift `FieldRepetitionType`.
public enum Repetition: Int32, Sendable { case required = 0, optional = 1, repeated = 2 }

/// parquet.thrift `ConvertedType` (the legacy annotations older readers look at).
public enum ConvertedType: Int32, Sendable { case utf8 = 0, list = 3, timestampMicros = 10 }

/// parquet.thrift `LogicalType` (a union): the few this writer uses.
public enum LogicalType: Sendable, Equatable {
    case string
    case list
    /// TIMESTAMP(unit MICROS): field 8, TimestampType {1: isAdjustedToUTC, 2: unit {2: MICROS}}.
    case timestampMicros(adjustedToUTC: Bool)

    func encode(_ w: inout ThriftCompactWriter) {
        switch self {
        case .string: w.field(1, struct: { _ in })
        case .list: w.field(3, struct: { _ in })
        case .timestampMicros(let utc):
            w.field(8) { t in
                t.field(1, bool: utc)
                t.field(2) { u in u.field(2, struct: { _ in }) }
            }
        }
    }
}

/// parquet.thrift `PageType`.
public enum PageType: Int32, Sendable { case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3 }

/// parquet.thrift `CompressionCodec`.
public enum CompressionCodec: Int32, Sendable { case uncompressed = 0, snappy = 1, gzip = 2, zstd = 6 }

/// parquet.thrift `SchemaElement`.
public struct SchemaElement: Sendable {
    public var type: PhysicalType?
    public var repetition: Repetition?
    public var name: String
    public var numChildren: Int32?
    public var convertedType: ConvertedType?
    public var logicalType: LogicalType?

    func encode(_ w: inout ThriftCompactWriter) {
        if let type { w.field(1, i32: type.rawValue) }
        if let repetition { w.field(3, i32: repetition.rawValue) }
        w.field(4, string: name)
        if let numChildren { w.field(5, i32: numChildren) }
        if let convertedType { w.field(6, i32: convertedType.rawValue) }
        if let logicalType { w.field(10) { logicalType.encode(&$0) } }
    }
}

/// parquet.thrift `Statistics`: min_value/max_value are the plain encoding of the values
/// (without a byte array's length prefix), in the column's sort order.
public struct Statistics: Sendable, Equatable {
    public var nullCount: Int64
    public var minValue: [UInt8]?
    public var maxValue: [UInt8]?

    public init(nullCount: Int64, minValue: [UInt8]? = nil, maxValue: [UInt8]? = nil) {
        (self.nullCount, self.minValue, self.maxValue) = (nullCount, minValue, maxValue)
    }

    func encode(_ w: inout ThriftCompactWriter) {
        w.field(3, i64: nullCount)
        if let maxValue { w.field(5, binary: maxValue) }
        if let minValue { w.field(6, binary: minValue) }
    }
}

/// parquet.thrift `ColumnMetaData`.
public struct ColumnMetaData: Sendable {
    public var type: PhysicalType
    public var encodings: [Encoding]
    public var path: [String]
    public var codec: CompressionCodec
    public var numValues: Int64
    public var totalUncompressedSize: Int64
    public var totalCompressedSize: Int64
    public var dataPageOffset: Int64
    public var dictionaryPageOffset: Int64?
    public var statistics: Statistics?

    func encode(_ w: inout ThriftCompactWriter) {
        w.field(1, i32: type.rawValue)
        w.field(2, i32s: encodings.map(\.rawValue))
        w.field(3, strings: path)
        w.field(4, i32: codec.rawValue)
        w.field(5, i64: numValues)
        w.field(6, i64: totalUncompressedSize)
        w.field(7, i64: totalCompressedSize)
        w.field(9, i64: dataPageOffset)
        if let dictionaryPageOffset { w.field(11, i64: dictionaryPageOffset) }
        if let statistics { w.field(12) { statistics.encode(&$0) } }
    }
}

/// parquet.thrift `ColumnChunk` (file_path absent: the chunk is in this file).
public struct ColumnChunk: Sendable {
    public var fileOffset: Int64
    public var metaData: ColumnMetaData

    func encode(_ w: inout ThriftCompactWriter) {
        w.field(2, i64: fileOffset)
        w.field(3) { metaData.encode(&$0) }
    }
}

/// parquet.thrift `SortingColumn`.
public struct SortingColumn: Sendable {
    public var columnIndex: Int32
    public var descending = false
    public var nullsFirst = false
}

/// parquet.thrift `RowGroup`.
public struct RowGroup: Sendable {
    public var columns: [ColumnChunk]
    public var totalByteSize: Int64
    public var numRows: Int64
    public var sortingColumns: [SortingColumn]
    public var fileOffset: Int64
    public var totalCompressedSize: Int64
    public var ordinal: Int16

    func encode(_ w: inout ThriftCompactWriter) {
        w.field(1, structs: columns) { w, c in c.encode(&w) }
        w.field(2, i64: totalByteSize)
        w.field(3, i64: numRows)
        if !sortingColumns.isEmpty {
            w.field(4, structs: sortingColumns) { w, s in
                w.field(1, i32: s.columnIndex)
                w.field(2, bool: s.descending)
                w.field(3, bool: s.nullsFirst)
            }
        }
        w.field(5, i64: fileOffset)
        w.field(6, i64: totalCompressedSize)
        w.field(7, i16: ordinal)
    }
}

/// parquet.thrift `FileMetaData`: the footer. Every leaf column's order is TYPE_DEFINED_ORDER
/// (signed for int64 and double, unsigned bytes for strings), which tells readers they may
/// trust min_value/max_value.
public struct FileMetaData: Sendable {
    public var version: Int32 = 1
    public var schema: [SchemaElement]
    public var numRows: Int64
    public var rowGroups: [RowGroup]
    public var keyValues: [(key: String, value: String)] = []
    public var createdBy: String
    public var leafCount: Int

    public func encoded() -> [UInt8] {
        var w = ThriftCompactWriter()
        w.beginStruct()
        w.field(1, i32: version)
        w.field(2, structs: schema) { w, e in e.encode(&w) }
        w.field(3, i64: numRows)
        w.field(4, structs: rowGroups) { w, g in g.encode(&w) }
        if !keyValues.isEmpty {
            w.field(5, structs: keyValues) { w, kv in
                w.field(1, string: kv.key)
                w.field(2, string: kv.value)
            }
        }
        w.field(6, string: createdBy)
        w.field(7, structs: Array(repeating: (), count: leafCount)) { w, _ in w.field(1, struct: { _ in }) }
        w.endStruct()
        return w.bytes
    }
}

/// parquet.thrift `PageHeader` with its `DataPageHeader` (v1) or `DictionaryPageHeader`.
struct PageHeader {
    var type: PageType
    var uncompressedSize: Int32
    var compressedSize: Int32
    /// Data page: level entries (values and nulls); dictionary page: entries.
    var numValues: Int32
    var encoding: Encoding

    func encoded(into out: inout [UInt8]) {
        var w = ThriftCompactWriter()
        w.beginStruct()
        w.field(1, i32: type.rawValue)
        w.field(2, i32: uncompressedSize)
        w.field(3, i32: compressedSize)
        if type == .dictionaryPage {
            w.field(7) { d in
                d.field(1, i32: numValues)
                d.field(2, i32: encoding.rawValue)
            }
        } else {
            w.field(5) { d in
                d.field(1, i32: numValues)
                d.field(2, i32: encoding.rawValue)
                d.field(3, i32: Encoding.rle.rawValue)
                d.field(4, i32: Encoding.rle.rawValue)
            }
        }
        w.endStruct()
        out.append(contentsOf: w.bytes)
    }
}
