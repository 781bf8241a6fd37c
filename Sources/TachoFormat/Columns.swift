/// One column of values in memory. Exactly one of the arrays is used, chosen by `type`
/// (a struct rather than an enum with payloads so appends mutate in place without copies).
/// Strings are ids into a dictionary that travels beside the column.
public struct ColumnValues: Sendable {
    public let type: ColumnType
    public var ints: [Int64] = []
    public var doubles: [Double] = []
    public var ids: [UInt32] = []

    public init(type: ColumnType, capacity: Int = 0) {
        self.type = type
        switch type {
        case .int64: ints.reserveCapacity(capacity)
        case .float64: doubles.reserveCapacity(capacity)
        case .string: ids.reserveCapacity(capacity)
        }
    }

    public var count: Int {
        switch type {
        case .int64: ints.count
        case .float64: doubles.count
        case .string: ids.count
        }
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        ints.removeAll(keepingCapacity: keepingCapacity)
        doubles.removeAll(keepingCapacity: keepingCapacity)
        ids.removeAll(keepingCapacity: keepingCapacity)
    }
}

/// A decoded column of one chunk: values plus, for strings, the chunk's dictionary.
public struct DecodedColumn: Sendable {
    public var type: ColumnType
    public var ints: [Int64] = []
    public var doubles: [Double] = []
    public var ids: [UInt32] = []
    public var dictionary: [String] = []

    public init(type: ColumnType) { self.type = type }

    public func string(at row: Int) -> String { dictionary[Int(ids[row])] }
}

/// A decoded chunk: one vehicle's rows, sorted by (time, identity columns).
public struct DecodedChunk: Sendable {
    public var times: [Int64] = []
    public var columns: [DecodedColumn]

    public init(measurement: Measurement) {
        columns = measurement.columns.map { DecodedColumn(type: $0.type) }
    }

    public var count: Int { times.count }
}
