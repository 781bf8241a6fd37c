/// One column of a Parquet file as a caller declares it; `schemaElements` turns it into the
/// footer's schema. Every column is a top-level field:
///
/// | kind              | physical   | logical / converted                  |
/// |-------------------|------------|--------------------------------------|
/// | `timestampMicros` | INT64      | TIMESTAMP(MICROS, isAdjustedToUTC=true) / TIMESTAMP_MICROS |
/// | `int64`           | INT64      | —                                    |
/// | `double`          | DOUBLE     | —                                    |
/// | `boolean`         | BOOLEAN    | —                                    |
/// | `string`          | BYTE_ARRAY | STRING / UTF8                        |
/// | `stringList`      | the 3-level LIST: `<name> (LIST) { repeated group list { required binary element (STRING) } }` |
///
/// `nullable` makes the field OPTIONAL (a definition level per row), else REQUIRED; the
/// strings inside a list are never null.
public struct ParquetColumn: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case timestampMicros, int64, double, boolean, string, stringList }

    public var name: String
    public var kind: Kind
    public var nullable: Bool

    public init(_ name: String, _ kind: Kind, nullable: Bool = false) {
        self.name = name
        self.kind = kind
        self.nullable = nullable
    }

    var physicalType: PhysicalType {
        switch kind {
        case .timestampMicros, .int64: .int64
        case .double: .double
        case .boolean: .boolean
        case .string, .stringList: .byteArray
        }
    }

    /// The leaf's path from the root (what ColumnMetaData.path_in_schema holds).
    var path: [String] { kind == .stringList ? [name, "list", "element"] : [name] }

    /// Highest definition level of the leaf: +1 for an optional field, +1 for a list's repeated group.
    var maxDefinitionLevel: Int { (nullable ? 1 : 0) + (kind == .stringList ? 1 : 0) }
    var maxRepetitionLevel: Int { kind == .stringList ? 1 : 0 }

    var schemaElements: [SchemaElement] {
        let rep: Repetition = nullable ? .optional : .required
        switch kind {
        case .timestampMicros:
            return [SchemaElement(type: .int64, repetition: rep, name: name, convertedType: .timestampMicros,
                                  logicalType: .timestampMicros(adjustedToUTC: true))]
        case .int64, .double, .boolean:
            return [SchemaElement(type: physicalType, repetition: rep, name: name)]
        case .string:
            return [SchemaElement(type: .byteArray, repetition: rep, name: name, convertedType: .utf8, logicalType: .string)]
        case .stringList:
            return [
                SchemaElement(repetition: rep, name: name, numChildren: 1, convertedType: .list, logicalType: .list),
                SchemaElement(repetition: .repeated, name: "list", numChildren: 1),
                SchemaElement(type: .byteArray, repetition: .required, name: "element", convertedType: .utf8, logicalType: .string),
            ]
        }
    }
}
