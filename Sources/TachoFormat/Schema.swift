/// The engine stores measurements: typed columns keyed by (series, time). The series key is
/// always the vehicle id and the time is always microseconds since the Unix epoch (UTC); a
/// measurement adds its own columns. Identity columns join (series, time) to form a row's
/// identity (SEMANTICS §2): a later row with the same identity replaces the earlier one.
public enum ColumnType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case int64 = 1
    case float64 = 2
    case string = 3

    public var description: String {
        switch self {
        case .int64: "int64"
        case .float64: "float64"
        case .string: "string"
        }
    }
}

public struct ColumnSpec: Sendable, Hashable {
    public let name: String
    public let type: ColumnType
    public let isIdentity: Bool

    public init(_ name: String, _ type: ColumnType, identity: Bool = false) {
        self.name = name
        self.type = type
        self.isIdentity = identity
    }
}

/// A measurement's schema. `id` is its one-byte code in segment headers (FORMAT.md §2.1).
public struct Measurement: Sendable, Hashable, CustomStringConvertible {
    public let id: UInt8
    public let name: String
    public let columns: [ColumnSpec]
    /// The string column whose newest value per vehicle the store keeps in the latest index
    /// (status), or nil.
    public let latestColumn: Int?

    public init(id: UInt8, name: String, columns: [ColumnSpec], latestColumn: Int? = nil) {
        self.id = id
        self.name = name
        self.columns = columns
        self.latestColumn = latestColumn
    }

    public var description: String { name }

    /// Column indexes that belong to the identity, in schema order.
    public var identityColumns: [Int] { columns.indices.filter { columns[$0].isIdentity } }

    public func columnIndex(named name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// One row per detected object: (vehicle_id, time, object_type, value).
    public static let detections = Measurement(
        id: 1, name: "detections",
        columns: [ColumnSpec("object_type", .string, identity: true), ColumnSpec("value", .int64)]
    )
    /// One row per status report: (vehicle_id, time, status).
    public static let status = Measurement(
        id: 2, name: "status",
        columns: [ColumnSpec("status", .string)],
        latestColumn: 0
    )

    /// One row per location fix: (vehicle_id, time, lat, lon, speed_kmh, heading).
    /// Built in until TOML declarations (issue 13) replace it.
    public static let locations = Measurement(
        id: 3, name: "locations",
        columns: [ColumnSpec("lat", .float64), ColumnSpec("lon", .float64), ColumnSpec("speed_kmh", .float64),
                  ColumnSpec("heading", .int64)]
    )
    /// One row per power reading: (vehicle_id, time, value, units) with units `kW` (a power
    /// sample) or `kWh` (energy used in the sample's interval). Built in until TOML
    /// declarations (issue 13) replace it.
    public static let power = Measurement(
        id: 5, name: "power",
        columns: [ColumnSpec("value", .float64), ColumnSpec("units", .string)]
    )

    /// The measurements this build knows. TOML declarations (issue 13) will replace the
    /// built-in locations and power; queries look measurements up through
    /// `MeasurementLookup` only.
    public static let all: [Measurement] = [.detections, .status, .locations, .power]

    public static func byID(_ id: UInt8) -> Measurement? { all.first { $0.id == id } }
    public static func named(_ name: String) -> Measurement? { all.first { $0.name == name } }
}
