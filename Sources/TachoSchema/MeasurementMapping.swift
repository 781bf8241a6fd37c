import TachoFormat

/// Declared field types → the engine's column types. The one place that knows which
/// declared types the engine can store.
public enum ColumnTypeAdapter {
    /// nil when the engine cannot store `t` yet.
    public static func columnType(_ t: FieldType) -> ColumnType? {
        switch t {
        case .int64: .int64
        case .float64: .float64
        case .string: .string
        case .bool: .bool
        case .stringList: .stringList
        }
    }
}

extension MeasurementDeclaration {
    /// The engine's schema of this measurement with the one-byte `id` the store's catalog
    /// gives it (`DefaultDeclarations.builtinIDs` for the built-ins; 0: the catalog assigns one): the fields as
    /// columns in declaration order, identity flags, the latest column's index.
    /// Throws `.typeNotStorable` for a type the engine cannot hold yet (`ColumnTypeAdapter`).
    public func measurement(id: UInt8) throws(ConfigError) -> Measurement {
        var columns: [ColumnSpec] = []
        for f in fields {
            guard let t = ColumnTypeAdapter.columnType(f.type) else {
                throw ConfigError(path: "measurement", measurement: name, column: f.name, .typeNotStorable(f.type.rawValue))
            }
            // An optional field is a nullable column: a record without it stores a null.
            columns.append(ColumnSpec(f.name, t, identity: identity.contains(f.name), nullable: !f.required))
        }
        return Measurement(id: id, name: name, columns: columns, latestColumn: latest.flatMap { l in fields.firstIndex { $0.name == l } })
    }
}
