import TachoFormat

/// Where the records of one measurement sit in an input file and how each column is read
/// from them: the input of `LayoutReader`, a plain value (docs/SEMANTICS.md §1, "Reading
/// records"). A declaration (TOML, issue 13) becomes one of these; the built-in layouts are
/// in `RecordLayout+Builtin.swift`, built from data like any other.
public struct RecordLayout: Sendable, Hashable, CustomStringConvertible {
    /// The measurement the rows are stored in.
    public var measurement: Measurement
    /// The arrays leading to the records, outermost first: `objects_detection_events[].detections[]`
    /// is `["objects_detection_events", "detections"]`. The first is a key of the top-level
    /// object; each further one a key of an element of the one before. An element holding no
    /// array of the next step is a record itself (flat detections).
    public var path: [PathStep]
    /// The series key (stored as the vehicle id).
    public var vehicle: FieldLayout
    /// The time of each row.
    public var time: TimeLayout
    /// The measurement's columns, each from one input field.
    public var fields: [FieldLayout]
    /// File name prefixes that say a file holds this layout (`objects_detection`).
    public var filePrefixes: [String]

    public init(
        measurement: Measurement, path: [PathStep], vehicle: FieldLayout, time: TimeLayout,
        fields: [FieldLayout], filePrefixes: [String]
    ) {
        self.measurement = measurement
        self.path = path
        self.vehicle = vehicle
        self.time = time
        self.fields = fields
        self.filePrefixes = filePrefixes
    }

    /// The top-level key whose array holds this layout's records: it tells the kind of a
    /// file whose name has no known prefix.
    public var topLevelKey: String { path.first?.key ?? "" }

    /// The path as written in declarations: `objects_detection_events[].detections[]`.
    public var pathText: String { path.map { $0.key + "[]" }.joined(separator: ".") }

    public var description: String { "\(measurement.name) at \(pathText)" }

    /// True when `name` (a file's base name) starts with one of `filePrefixes`.
    public func matches(fileName name: String) -> Bool {
        filePrefixes.contains { name.hasPrefix($0) }
    }
}

/// One array on the way to the records.
public struct PathStep: Sendable, Hashable {
    /// The key holding the array.
    public var key: String
    /// What one element is called in messages ("event", "detection").
    public var item: String

    public init(_ key: String, item: String) {
        self.key = key
        self.item = item
    }
}

/// How a field is found and checked.
public struct FieldLayout: Sendable, Hashable {
    /// The measurement column it fills (ignored for the vehicle and time).
    public var column: Int
    /// Input keys, the first preferred in messages; any of them supplies the field.
    public var keys: [String]
    /// Required fields missing from a record (and from every enclosing object) reject it;
    /// optional ones take `defaultValue`.
    public var required: Bool
    /// Where the value may come from.
    public var scope: FieldScope
    /// How the JSON value is read.
    public var input: FieldInput
    /// Checks beyond the type.
    public var rule: FieldRule
    /// The value of an optional field that is absent (nil: absent rejects the record, as the
    /// stored columns hold no nulls).
    public var defaultValue: FieldDefault?

    public init(
        column: Int = -1, keys: [String], required: Bool = true, scope: FieldScope = .inherited,
        input: FieldInput, rule: FieldRule = FieldRule(), defaultValue: FieldDefault? = nil
    ) {
        self.column = column
        self.keys = keys
        self.required = required
        self.scope = scope
        self.input = input
        self.rule = rule
        self.defaultValue = defaultValue
    }

    /// The name used in messages and reject records.
    public var name: String { keys.first ?? "" }
}

/// Where a field's value may come from.
public enum FieldScope: Sendable, Hashable {
    /// The record, else its nearest enclosing object that has it (vehicle and time of an
    /// event for its detections; `spaceship_id` of a power document for its samples).
    case inherited
    /// The record only. An enclosing object that carries such a field is a record of its
    /// own (a flat detection); beside an array of records it is the malformed-appendix quirk
    /// (strict: rejected; lenient: one more record).
    case record
}

/// How a JSON value becomes a column value.
public enum FieldInput: Sendable, Hashable {
    /// A JSON string, interned into the batch's dictionary. With `numbers`, an integer is
    /// taken as its decimal text (fleet-power's numeric `spaceship_id`).
    case string(numbers: Bool = false)
    /// A number that is an exact integer (`3`, `3.0`).
    case integer
    /// Any finite number.
    case number
    /// An array of strings, stored joined by `separator` in a string column (the column
    /// types hold no lists; an element containing the separator is rejected).
    case joinedStrings(separator: String)
    /// `true`/`false`, stored as 1/0 in an integer column.
    case bool
}

/// Value checks. Empty by default.
public struct FieldRule: Sendable, Hashable {
    /// Least value of a number (`object_value` ≥ 0, power `value` ≥ 0).
    public var min: Double?
    /// Greatest value of a number (latitude ≤ 90).
    public var max: Double?
    /// The only strings accepted (`units`: kW, kWh).
    public var allowed: [String]?
    /// Most UTF-8 bytes of a string (and of each element of a list).
    public var maxBytes: Int?

    public init(min: Double? = nil, max: Double? = nil, allowed: [String]? = nil, maxBytes: Int? = nil) {
        self.min = min
        self.max = max
        self.allowed = allowed
        self.maxBytes = maxBytes
    }
}

/// The value an absent optional field takes.
public enum FieldDefault: Sendable, Hashable {
    case int(Int64)
    case double(Double)
    case string(String)
}

/// The time field and its format.
public struct TimeLayout: Sendable, Hashable {
    public var keys: [String]
    public var format: TimeFormat
    public var scope: FieldScope

    public init(keys: [String], format: TimeFormat = .rfc3339, scope: FieldScope = .inherited) {
        self.keys = keys
        self.format = format
        self.scope = scope
    }

    public var name: String { keys.first ?? "" }
}

/// How times are written in the input.
public enum TimeFormat: String, Sendable, Hashable, CaseIterable {
    /// A string: RFC 3339 with an offset and 0–9 fraction digits, or `YYYY-MM-DD HH:MM:SS`
    /// (no zone: UTC).
    case rfc3339
    /// A number of seconds since the epoch (fractions allowed).
    case unixSeconds = "unix_s"
    /// Milliseconds since the epoch (fractions allowed).
    case unixMillis = "unix_ms"
    /// Microseconds since the epoch (an integer).
    case unixMicros = "unix_us"
    /// Nanoseconds since the epoch (an integer; stored to the microsecond, rounded down).
    case unixNanos = "unix_ns"
}
