import TachoFormat
import TachoSchema

/// The one mapping from a declaration (TachoSchema, the config file) to the reader's
/// `RecordLayout`: every measurement, built-in or declared only in TOML, is read through
/// it (docs/SEMANTICS.md §1, "Declared measurements").
///
/// * Records sit at the declaration's `records` path; every step must be an array.
/// * Vehicle and time may come from the record or any enclosing object. Fields come from
///   the record itself when the path has more than one step (nested detections: an enclosing
///   event carrying them is a flat record of its own); with one step they may also come from
///   the document (power's `units` beside `data`).
/// * Vehicle ids are strings; under a key other than `vehicle_id` an integer is taken as its
///   decimal text (`spaceship_id`, `imei` written as numbers).
/// * An optional field a record lacks is stored as null.
/// * Files: the declaration's name prefixes; any file holding the path's top-level array is
///   read as this measurement whatever its name.
extension RecordLayout {
    /// Element names in messages for the built-in inputs' keys; other keys use their last
    /// word without a plural `s` (`detections` → detection), else "record".
    static let itemNames = ["objects_detection_events": "event", "vehicle_status": "event", "data": "sample"]

    static func itemName(_ key: String) -> String {
        if let n = itemNames[key] { return n }
        let word = key.split(separator: "_").last.map(String.init) ?? key
        if word.count > 1 && word.hasSuffix("s") && !word.hasSuffix("ss") { return String(word.dropLast()) }
        return word.isEmpty ? "record" : word
    }

    /// The layout of `declaration`, whose rows are stored as `measurement` (the store
    /// catalog's schema of that name: its column order and ids). Catalog columns the
    /// declaration does not name are nullable and read as null.
    public init(declaration d: MeasurementDeclaration, measurement m: Measurement) throws(DeclarationLayoutError) {
        var path: [PathStep] = []
        for step in d.records.steps {
            guard step.isArray else { throw .pathStepNotArray(measurement: d.name, step: step.key) }
            path.append(PathStep(step.key, item: Self.itemName(step.key)))
        }
        guard !path.isEmpty, path.count < 7 else { throw .pathTooLong(measurement: d.name, steps: path.count) }
        let fieldScope: FieldScope = path.count > 1 ? .record : .inherited
        let numericIDs = !d.vehicle.keys.contains("vehicle_id")
        let vehicle = FieldLayout(
            keys: d.vehicle.keys, input: .string(numbers: numericIDs), rule: FieldRule(maxBytes: Self.maxVehicleBytes))
        let format: TimeFormat
        switch d.time.format {
        case .rfc3339: format = .rfc3339
        case .unixSeconds: format = .unixSeconds
        case .unixMillis: format = .unixMillis
        case .unixMicros: format = .unixMicros
        case .unixNanos: format = .unixNanos
        }
        let time = TimeLayout(keys: d.time.keys, format: format)
        var fields: [FieldLayout] = []
        for (c, spec) in m.columns.enumerated() {
            guard let f = d.field(named: spec.name) else {
                guard spec.isNullable else { throw .columnNotDeclared(measurement: d.name, column: spec.name) }
                // Stored by an older declaration: no input key can name it (a NUL byte).
                fields.append(FieldLayout(
                    column: c, keys: ["\u{0}" + spec.name], required: false, scope: .record,
                    input: Self.input(spec.type), defaultValue: .null))
                continue
            }
            var rule = FieldRule(min: f.min?.doubleValue, max: f.max?.doubleValue, allowed: f.allowed, maxBytes: f.maxBytes)
            if spec.type == .string || spec.type == .stringList { rule.maxBytes = f.maxBytes ?? Self.maxDeclaredStringBytes }
            fields.append(FieldLayout(
                column: c, keys: [f.key], required: f.required, scope: fieldScope, input: Self.input(spec.type),
                rule: rule, defaultValue: f.required ? nil : (spec.isNullable ? .null : nil)))
        }
        guard fields.count + 2 <= 62 else { throw .tooManyFields(measurement: d.name, count: fields.count) }
        self.init(measurement: m, path: path, vehicle: vehicle, time: time, fields: fields, filePrefixes: d.files.prefixes)
    }

    /// Longest string of a declared field without `max_bytes`.
    static let maxDeclaredStringBytes = 4096

    static func input(_ t: ColumnType) -> FieldInput {
        switch t {
        case .int64: .integer
        case .float64: .number
        case .string: .string()
        case .bool: .bool
        case .stringList: .joinedStrings(separator: RecordLayout.listSeparator)
        }
    }

    /// The layouts of `declarations`, each stored as the measurement of its name in `catalog`.
    public static func layouts(_ declarations: [MeasurementDeclaration], catalog: Catalog) throws(DeclarationLayoutError) -> [RecordLayout] {
        var out: [RecordLayout] = []
        for d in declarations {
            guard let m = catalog.measurement(named: d.name) else { throw .notInCatalog(measurement: d.name) }
            out.append(try RecordLayout(declaration: d, measurement: m))
        }
        return out
    }
}

/// A declaration the JSON reader cannot follow.
public enum DeclarationLayoutError: Error, Sendable, Hashable, CustomStringConvertible {
    case pathStepNotArray(measurement: String, step: String)
    case pathTooLong(measurement: String, steps: Int)
    case tooManyFields(measurement: String, count: Int)
    case columnNotDeclared(measurement: String, column: String)
    case notInCatalog(measurement: String)

    public var description: String {
        switch self {
        case .pathStepNotArray(let m, let s): "measurement \(m): records: step \(s) must be an array (\(s)[]); the reader follows arrays only"
        case .pathTooLong(let m, let n): "measurement \(m): records: \(n) steps, the reader follows 1 to 6"
        case .tooManyFields(let m, let n): "measurement \(m): \(n) fields, the JSON reader reads at most 60 per measurement"
        case .columnNotDeclared(let m, let c): "measurement \(m): the store holds column \(c), which the declaration lacks and which is not nullable"
        case .notInCatalog(let m): "measurement \(m): not in the store's catalog"
        }
    }
}
