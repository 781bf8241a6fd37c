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
        // PENDING(engine): `ColumnType.bool` and `.stringList` are added to TachoFormat by the
        // engine work of issue 13; until they exist these two declared types cannot be stored.
        // When they land, map them here (`.bool`, `.stringList`) and nowhere else.
        case .bool, .stringList: nil
        }
    }
}

extension MeasurementDeclaration {
    /// The engine's schema of this measurement with the one-byte `id` the store's catalog
    /// gives it (`DefaultDeclarations.builtinIDs` for detections and status): the fields as
    /// columns in declaration order, identity flags, the latest column's index.
    /// Throws `.typeNotStorable` for a type the engine cannot hold yet (`ColumnTypeAdapter`).
    public func measurement(id: UInt8) throws(ConfigError) -> Measurement {
        var columns: [ColumnSpec] = []
        for f in fields {
            guard let t = ColumnTypeAdapter.columnType(f.type) else {
                throw ConfigError(path: "measurement", measurement: name, column: f.name, .typeNotStorable(f.type.rawValue))
            }
            // Nullable (optional) fields: the engine's ColumnSpec gains its flag with the
            // engine work of issue 13 (PENDING(engine)); `required` is carried here until then.
            columns.append(ColumnSpec(f.name, t, identity: identity.contains(f.name)))
        }
        return Measurement(id: id, name: name, columns: columns, latestColumn: latest.flatMap { l in fields.firstIndex { $0.name == l } })
    }
}
