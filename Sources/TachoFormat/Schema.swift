/// The engine stores measurements: typed columns keyed by (series, time). The series key is
/// always the vehicle id and the time is always microseconds since the Unix epoch (UTC); a
/// measurement adds its own columns. Identity columns join (series, time) to form a row's
/// identity (SEMANTICS §2): a later row with the same identity replaces the earlier one.
///
/// Each type's behaviour lives in its `ColumnCodec` (`codec`, ColumnCodec.swift).
public enum ColumnType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case int64 = 1
    case float64 = 2
    case string = 3
    /// Segment version 3 on.
    case bool = 4
    /// 0…n strings per row (segment version 3 on).
    case stringList = 5

    public var description: String {
        switch self {
        case .int64: "int64"
        case .float64: "float64"
        case .string: "string"
        case .bool: "bool"
        case .stringList: "string_list"
        }
    }
}

public struct ColumnSpec: Sendable, Hashable {
    public let name: String
    public let type: ColumnType
    public let isIdentity: Bool
    /// A row may lack the value (SEMANTICS §2: an optional field).
    public let isNullable: Bool
    /// The column's stable id within its measurement (FORMAT.md §2.4, §7): given by the
    /// store's catalog, never reused. 0 until assigned (`Measurement.init` numbers a schema
    /// whose ids are all 0 as 1, 2, …).
    public let id: UInt32

    public init(_ name: String, _ type: ColumnType, identity: Bool = false, nullable: Bool = false, id: UInt32 = 0) {
        self.name = name
        self.type = type
        self.isIdentity = identity
        self.isNullable = nullable
        self.id = id
    }

    /// The same column with id `id`.
    public func withID(_ id: UInt32) -> ColumnSpec {
        ColumnSpec(name, type, identity: isIdentity, nullable: isNullable, id: id)
    }
}

/// A measurement's schema. `id` is its one-byte code in segment headers (FORMAT.md §2.1),
/// given by the store's catalog (`Catalog`) for declared measurements.
public struct Measurement: Sendable, Hashable, CustomStringConvertible {
    public let id: UInt8
    public let name: String
    public let columns: [ColumnSpec]
    /// The column whose newest value per vehicle the store keeps in the latest index (status),
    /// or nil.
    public let latestColumn: Int?
    /// The width (µs, > 0) of this measurement's partitions when it has one of its own (a
    /// rollup's, FORMAT.md §7 and §3.3), else nil: the store's `partition_width`. Stored in its
    /// catalog entry with its first rows and fixed from then on (`Catalog.resolving` keeps the
    /// stored value whatever is declared).
    public let partitionWidth: Int64?

    /// Columns whose ids are all 0 are numbered 1, 2, … in order.
    public init(id: UInt8, name: String, columns: [ColumnSpec], latestColumn: Int? = nil, partitionWidth: Int64? = nil) {
        self.id = id
        self.partitionWidth = partitionWidth
        self.name = name
        if columns.allSatisfy({ $0.id == 0 }) {
            self.columns = columns.enumerated().map { $0.element.withID(UInt32($0.offset + 1)) }
        } else {
            self.columns = columns
        }
        self.latestColumn = latestColumn
    }

    public var description: String { name }

    /// Column indexes that belong to the identity, in schema order.
    public var identityColumns: [Int] { columns.indices.filter { columns[$0].isIdentity } }

    public func columnIndex(named name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// The index of the column with stable id `id`.
    public func columnIndex(id: UInt32) -> Int? { columns.firstIndex { $0.id == id } }

    /// The same measurement with another id.
    public func withID(_ id: UInt8) -> Measurement {
        Measurement(id: id, name: name, columns: columns, latestColumn: latestColumn, partitionWidth: partitionWidth)
    }

    /// The same measurement with partitions of `width` µs (nil: the store's width).
    public func withPartitionWidth(_ width: Int64?) -> Measurement {
        Measurement(id: id, name: name, columns: columns, latestColumn: latestColumn, partitionWidth: width)
    }

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

    /// The built-in measurements: what a store without a catalog file holds (FORMAT.md §7).
    /// Look measurements up in a store's `Catalog`, not here.
    public static let builtIns: [Measurement] = [.detections, .status]
    /// The built-ins (kept for callers not yet on `Catalog`).
    public static let all: [Measurement] = builtIns

    public static func byID(_ id: UInt8) -> Measurement? { builtIns.first { $0.id == id } }
    public static func named(_ name: String) -> Measurement? { builtIns.first { $0.name == name } }
}
