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

    /// The measurements this build knows. Later ones (locations, alarms, power) add entries here.
    public static let all: [Measurement] = [.detections, .status]

    public static func byID(_ id: UInt8) -> Measurement? { all.first { $0.id == id } }
    public static func named(_ name: String) -> Measurement? { all.first { $0.name == name } }
}
