/// A measurement as an operator declares it in the config file (docs/CONFIG.md): what is
/// stored (typed fields, identity, latest) and where it is found in the input (file names,
/// top-level key, the path of its records, which input keys hold the vehicle, time and
/// fields). The engine works on `TachoFormat.Measurement` (`measurement(id:)`); the readers
/// work on the input side. The five built-ins are declarations too (`DefaultDeclarations`).
public struct MeasurementDeclaration: Sendable, Hashable {
    public static let maxFields = 1024

    public var name: String
    public var vehicle: VehicleSource
    public var time: TimeSource
    /// In column order (after the vehicle and time columns).
    public var fields: [FieldDeclaration]
    /// Field names that join (vehicle, time) to form a row's identity (SEMANTICS §2).
    public var identity: [String]
    /// The string field whose newest value per vehicle is kept (`tacho latest`), or nil.
    public var latest: String?
    /// Where the records sit in a JSON document, e.g. `objects_detection_events[].detections[]`.
    public var records: RecordPath
    public var files: FileMatch
    /// Default age retention of this measurement (`[store] retention` overrides it); nil keeps
    /// its rows until the disk budget needs the space.
    public var retention: Retention?
    /// Pre-aggregated tiers kept of this measurement's rows (docs/CONFIG.md "Rollups").
    public var rollups: [RollupDeclaration]

    public init(name: String, vehicle: VehicleSource, time: TimeSource, fields: [FieldDeclaration], identity: [String] = [],
                latest: String? = nil, records: RecordPath, files: FileMatch, retention: Retention? = nil,
                rollups: [RollupDeclaration] = []) {
        self.name = name
        self.vehicle = vehicle
        self.time = time
        self.fields = fields
        self.identity = identity
        self.latest = latest
        self.records = records
        self.files = files
        self.retention = retention
        self.rollups = rollups
    }

    public func field(named n: String) -> FieldDeclaration? { fields.first { $0.name == n } }
}

/// The vehicle (series) column and the input keys that may hold it, tried in order
/// (`vehicle_id`, `imei`, `spaceship_id`, a line-protocol tag).
public struct VehicleSource: Sendable, Hashable {
    public var column: String
    public var keys: [String]

    public init(column: String = "vehicle_id", keys: [String]) {
        self.column = column
        self.keys = keys
    }
}

/// The time column, its input key and how the input writes it.
public struct TimeSource: Sendable, Hashable {
    public var column: String
    public var key: String
    public var format: TimeFormat
    /// Other input keys that may hold the time (`datetime` beside `timestamp`), tried after `key`.
    public var altKeys: [String]

    public init(column: String = "time", key: String, format: TimeFormat = .rfc3339, altKeys: [String] = []) {
        self.column = column
        self.key = key
        self.format = format
        self.altKeys = altKeys
    }

    /// `key`, then `altKeys`.
    public var keys: [String] { [key] + altKeys }
}

/// How an input writes a time.
public enum TimeFormat: String, Sendable, Hashable, CaseIterable {
    /// RFC 3339 (`Z` or an offset, 0–9 fraction digits), also `YYYY-MM-DD HH:MM:SS` (UTC).
    case rfc3339
    /// A number of seconds, milliseconds, microseconds or nanoseconds since the Unix epoch.
    case unixSeconds = "unix_s"
    case unixMillis = "unix_ms"
    case unixMicros = "unix_us"
    case unixNanos = "unix_ns"
}

/// A field's type as declared.
public enum FieldType: String, Sendable, Hashable, CaseIterable {
    case int64
    case float64
    case string
    case bool
    case stringList = "string_list"

    public var isNumber: Bool { self == .int64 || self == .float64 }
}

/// A numeric bound as written (an integer stays an integer).
public enum NumberBound: Sendable, Hashable {
    case int(Int64)
    case float(Double)

    public var doubleValue: Double {
        switch self {
        case .int(let v): Double(v)
        case .float(let d): d
        }
    }

    var toml: TOMLValue {
        switch self {
        case .int(let v): .integer(v)
        case .float(let d): .float(d)
        }
    }
}

/// One typed column and how it is read.
public struct FieldDeclaration: Sendable, Hashable {
    public var name: String
    /// The input key holding it (default: its name).
    public var key: String
    public var type: FieldType
    /// A record without it is rejected; an optional field is stored as null.
    public var required: Bool
    /// Numbers: the smallest and largest accepted value.
    public var min: NumberBound?
    public var max: NumberBound?
    /// Strings: the accepted values (an open set when nil).
    public var allowed: [String]?
    /// Strings and list items: the longest accepted value in bytes.
    public var maxBytes: Int?

    public init(name: String, key: String? = nil, type: FieldType, required: Bool = true, min: NumberBound? = nil,
                max: NumberBound? = nil, allowed: [String]? = nil, maxBytes: Int? = nil) {
        self.name = name
        self.key = key ?? name
        self.type = type
        self.required = required
        self.min = min
        self.max = max
        self.allowed = allowed
        self.maxBytes = maxBytes
    }
}

/// Which files carry a measurement: by file-name prefix, else by a top-level key.
public struct FileMatch: Sendable, Hashable {
    public var prefixes: [String]
    /// A file whose prefix is unknown is recognised by this top-level key (nil: by prefix only).
    public var key: String?
    /// The files may also be NDJSON: one document per line, each read with `records`.
    public var ndjson: Bool

    public init(prefixes: [String], key: String? = nil, ndjson: Bool = false) {
        self.prefixes = prefixes
        self.key = key
        self.ndjson = ndjson
    }
}

/// An age retention as written (`30d`) and in microseconds (0 keeps forever).
public struct Retention: Sendable, Hashable {
    public var text: String
    public var micros: Int64

    public init?(_ text: String) {
        guard let m = SettingUnits.durationMicrosOrZero(text) else { return nil }
        self.text = text
        self.micros = m
    }
}
