// The mapping contract from points to measurements (docs/SEMANTICS.md, "Line protocol input",
// "Mapping"). Pure functions: whoever wires line protocol into ingest calls them per point.

/// A column's type as the mapping sees it. Tags and string fields are `string`; `uint` values
/// map to `int64` (a value above Int64.max rejects its line); `bool` has no store type yet.
public enum LineColumnType: String, Sendable, Hashable, CustomStringConvertible {
    case string, int64, float64, bool

    public var description: String { rawValue }
}

/// A column a point maps to. Tags (other than the vehicle tag) are identity columns.
public struct LineColumn: Sendable, Hashable {
    public var name: String
    public var type: LineColumnType
    /// True for a tag: part of the row's identity with (vehicle, time).
    public var isTag: Bool

    public init(_ name: String, _ type: LineColumnType, isTag: Bool = false) {
        self.name = name
        self.type = type
        self.isTag = isTag
    }
}

/// Mapping settings (the `[line_protocol]` part of a config file, when wired).
public struct LineMappingOptions: Sendable, Hashable {
    /// The tag that names the vehicle (the series key). Default `vehicle_id`.
    public var vehicleTag: String
    /// Whether a line for an undeclared measurement declares it (`auto_create`). Default true.
    public var autoCreate: Bool
    /// Whether a line without a timestamp is rejected. Default true: files must replay to the
    /// same rows, so the time of reading is not a timestamp. An HTTP write may turn this off
    /// and stamp the receive time.
    public var requireTimestamp: Bool

    public init(vehicleTag: String = "vehicle_id", autoCreate: Bool = true, requireTimestamp: Bool = true) {
        self.vehicleTag = vehicleTag
        self.autoCreate = autoCreate
        self.requireTimestamp = requireTimestamp
    }
}

/// Why a well-formed point is rejected by the mapping. Each rejects its line only.
public enum LineMappingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The line has no vehicle tag.
    case missingVehicleTag(tag: String)
    /// The line has no timestamp and `requireTimestamp` is set.
    case missingTimestamp
    /// The measurement is not declared and `autoCreate` is off.
    case undeclaredMeasurement(String)
    /// A tag or field named `time`, or a field named like the vehicle tag, or a key used as
    /// both a tag and a field.
    case reservedName(String)
    /// A field's value has another type than its declared column.
    case typeMismatch(column: String, declared: LineColumnType, found: LineColumnType)
    /// A tag names a declared column that is a field, or a field names a tag column.
    case tagFieldMismatch(column: String, declaredTag: Bool)
    /// A tag or field that the declared measurement does not have.
    case unknownColumn(String)
    /// A declared column the line does not carry (the store has no nulls).
    case missingColumn(String)
    /// An unsigned value above Int64.max.
    case unsignedOutOfRange(column: String, value: UInt64)

    public var description: String {
        switch self {
        case .missingVehicleTag(let tag): "no '\(tag)' tag (the vehicle id)"
        case .missingTimestamp: "no timestamp"
        case .undeclaredMeasurement(let m): "measurement '\(m)' is not declared (auto_create = false)"
        case .reservedName(let n): "'\(n)' cannot be a column here (reserved, or both a tag and a field)"
        case .typeMismatch(let c, let d, let f): "field '\(c)' is \(f), but the column is declared \(d)"
        case .tagFieldMismatch(let c, let tag): tag ? "'\(c)' is declared a tag but comes as a field"
            : "'\(c)' is declared a field but comes as a tag"
        case .unknownColumn(let c): "'\(c)' is not a column of the measurement"
        case .missingColumn(let c): "the line has no value for column '\(c)'"
        case .unsignedOutOfRange(let c, let v): "field '\(c)' = \(v)u does not fit in int64"
        }
    }
}

public enum LineMapping {
    /// The column type of a field value.
    public static func type(of value: LineFieldValue) -> LineColumnType {
        switch value {
        case .float: .float64
        case .int, .uint: .int64
        case .bool: .bool
        case .string: .string
        }
    }

    /// The columns an undeclared measurement gets from this point: its tags (vehicle tag
    /// excluded) as string identity columns, then its fields with their types, in line order.
    public static func inferSchema(_ point: LinePoint, options: LineMappingOptions = LineMappingOptions())
        -> Result<[LineColumn], LineMappingError> {
        if let e = common(point, options) { return .failure(e) }
        var columns: [LineColumn] = []
        for tag in point.tags where !point[tag.key].elementsEqual(options.vehicleTag.utf8) {
            columns.append(LineColumn(point.string(tag.key), .string, isTag: true))
        }
        for field in point.fields {
            if case .uint(let v) = field.value, v > UInt64(Int64.max) {
                return .failure(.unsignedOutOfRange(column: point.string(field.key), value: v))
            }
            columns.append(LineColumn(point.string(field.key), type(of: field.value)))
        }
        return .success(columns)
    }

    /// Why `point` does not fit the declared `columns` (vehicle and time are implicit), or nil.
    /// Every tag and field must be a declared column of the same kind and type, and every
    /// declared column must be on the line.
    public static func check(_ point: LinePoint, against columns: [LineColumn],
                             options: LineMappingOptions = LineMappingOptions()) -> LineMappingError? {
        if let e = common(point, options) { return e }
        var seen = 0
        for tag in point.tags where !point[tag.key].elementsEqual(options.vehicleTag.utf8) {
            guard let c = columns.first(where: { point[tag.key].elementsEqual($0.name.utf8) }) else {
                return .unknownColumn(point.string(tag.key))
            }
            if !c.isTag { return .tagFieldMismatch(column: c.name, declaredTag: false) }
            seen += 1
        }
        for field in point.fields {
            guard let c = columns.first(where: { point[field.key].elementsEqual($0.name.utf8) }) else {
                return .unknownColumn(point.string(field.key))
            }
            if c.isTag { return .tagFieldMismatch(column: c.name, declaredTag: true) }
            let found = type(of: field.value)
            if found != c.type { return .typeMismatch(column: c.name, declared: c.type, found: found) }
            if case .uint(let v) = field.value, v > UInt64(Int64.max) {
                return .unsignedOutOfRange(column: c.name, value: v)
            }
            seen += 1
        }
        if seen < columns.count {  // keys are unique per line, so some declared column is absent
            for c in columns {
                let present = c.isTag
                    ? point.tags.contains { point[$0.key].elementsEqual(c.name.utf8) }
                    : point.fields.contains { point[$0.key].elementsEqual(c.name.utf8) }
                if !present { return .missingColumn(c.name) }
            }
        }
        return nil
    }

    /// The columns for `point`: checked against `declared`, or inferred when the measurement
    /// is undeclared (nil) and `autoCreate` is on.
    public static func resolve(_ point: LinePoint, declared: [LineColumn]?,
                               options: LineMappingOptions = LineMappingOptions()) -> Result<[LineColumn], LineMappingError> {
        guard let declared else {
            guard options.autoCreate else { return .failure(.undeclaredMeasurement(point.measurement)) }
            return inferSchema(point, options: options)
        }
        if let e = check(point, against: declared, options: options) { return .failure(e) }
        return .success(declared)
    }

    /// Line timestamps are nanoseconds; the store keeps microseconds (finer digits truncated
    /// toward the past, as for JSON times).
    public static func microseconds(fromNanoseconds ns: Int64) -> Int64 {
        let q = ns / 1000
        return ns % 1000 < 0 ? q - 1 : q
    }

    /// Checks shared by inference and checking: vehicle tag, timestamp, reserved names.
    static func common(_ point: LinePoint, _ options: LineMappingOptions) -> LineMappingError? {
        guard point.tagValue(options.vehicleTag.utf8) != nil else { return .missingVehicleTag(tag: options.vehicleTag) }
        if options.requireTimestamp && point.timestamp == nil { return .missingTimestamp }
        for tag in point.tags where point[tag.key].elementsEqual("time".utf8) { return .reservedName("time") }
        for field in point.fields {
            let key = point[field.key]
            if key.elementsEqual("time".utf8) || key.elementsEqual(options.vehicleTag.utf8)
                || point.tags.contains(where: { point[$0.key] == key }) {
                return .reservedName(point.string(field.key))
            }
        }
        return nil
    }
}
