import TachoFormat
import TachoParquet

/// How a measurement's rows become Parquet columns (docs/EXPORT.md): `vehicle_id` (required
/// STRING), `time` (required TIMESTAMP(MICROS, UTC)), then the measurement's columns in schema
/// order — int64 → INT64, float64 → DOUBLE, bool → BOOLEAN, string → STRING, string_list →
/// LIST of STRING — OPTIONAL when the column is nullable, else REQUIRED.
public enum ParquetSchemaMapping {
    public static func columns(of m: Measurement) -> [ParquetColumn] {
        [ParquetColumn("vehicle_id", .string), ParquetColumn("time", .timestampMicros)]
            + m.columns.map { ParquetColumn($0.name, kind($0.type), nullable: $0.isNullable) }
    }

    static func kind(_ t: ColumnType) -> ParquetColumn.Kind {
        switch t {
        case .int64: .int64
        case .float64: .double
        case .string: .string
        case .bool: .boolean
        case .stringList: .stringList
        }
    }
}
