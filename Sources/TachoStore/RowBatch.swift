import TachoFormat

/// Rows of one measurement on their way into the store, columnar. String values (vehicle
/// ids included) are ids into the batch's own `dictionary`, so a reader interns each distinct
/// string once per batch instead of creating a String per row.
public struct RowBatch: Sendable {
    public let measurement: Measurement
    public var dictionary: [String] = []
    public var vehicles: [UInt32] = []
    public var times: [Int64] = []
    public var columns: [ColumnValues]
    /// Which input the rows came from (the file's place in a commit group; 0 by default).
    /// Sealing counts, per source, the rows that a later row of the same source and identity
    /// replaced (`SupersededRows`): what an operator is told was superseded within a file.
    public var source: Int32 = 0
    /// Keyed by bytes (`Identity`): `"é"` and `"e\u{301}"` are two entries.
    private var lookup: [ByteString: UInt32] = [:]

    public init(_ measurement: Measurement, capacity: Int = 0) {
        self.measurement = measurement
        vehicles.reserveCapacity(capacity)
        times.reserveCapacity(capacity)
        columns = measurement.columns.map { ColumnValues(type: $0.type, capacity: capacity) }
    }

    public var count: Int { times.count }
    public var isEmpty: Bool { times.isEmpty }

    /// The id of `s` in this batch's dictionary, adding it if new.
    public mutating func intern(_ s: String) -> UInt32 {
        let key = ByteString(s)
        if let id = lookup[key] { return id }
        let id = UInt32(dictionary.count)
        dictionary.append(s)
        lookup[key] = id
        return id
    }

    /// A typed value for `append(vehicle:time:_:)`; nil is a null (a row without the field).
    public typealias Value = ColumnValue

    /// Appends one row; `values` follow the measurement's columns, nil for a null. Convenient,
    /// not fast: hot paths append to the arrays directly (and `ColumnValues.appendNull`).
    public mutating func append(vehicle: String, time: Int64, _ values: [Value?]) {
        precondition(values.count == columns.count, "row has \(values.count) values, schema \(columns.count)")
        vehicles.append(intern(vehicle))
        times.append(time)
        for (i, v) in values.enumerated() {
            switch v {
            case nil: columns[i].appendNull(zeroStringID: columns[i].type.codec.usesDictionary ? intern("") : 0)
            case .int(let x)?: columns[i].ints.append(x)
            case .double(let x)?: columns[i].doubles.append(x)
            case .string(let s)?: columns[i].ids.append(intern(s))
            case .bool(let b)?: columns[i].bools.append(b)
            case .strings(let l)?: columns[i].appendList(l.map { intern($0) })
            }
            precondition(columns[i].count == times.count, "value \(i) is not of column type \(columns[i].type)")
        }
    }

    public mutating func removeAll() {
        dictionary.removeAll(keepingCapacity: true)
        lookup.removeAll(keepingCapacity: true)
        vehicles.removeAll(keepingCapacity: true)
        times.removeAll(keepingCapacity: true)
        for i in columns.indices { columns[i].removeAll() }
    }

    /// Rebuilds the lookup after `dictionary` was set directly by a fast reader.
    public mutating func setDictionary(_ strings: [String]) {
        dictionary = strings
        lookup.removeAll(keepingCapacity: true)
        for (i, s) in strings.enumerated() { lookup[ByteString(s)] = UInt32(i) }
    }
}
