// An owned copy of a point: what tests compare, what the generator and the writer take.

/// A field value that owns its string.
public enum LineValue: Sendable, Hashable, CustomStringConvertible {
    case float(Double)
    case int(Int64)
    case uint(UInt64)
    case bool(Bool)
    case string(String)

    public var description: String {
        switch self {
        case .float(let v): "\(v)"
        case .int(let v): "\(v)i"
        case .uint(let v): "\(v)u"
        case .bool(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        }
    }
}

/// A point with its own storage (allocates; for tests, tools and small volumes).
public struct LineRecord: Sendable, Hashable {
    public var measurement: String
    /// In line order.
    public var tags: [(key: String, value: String)]
    /// In line order.
    public var fields: [(key: String, value: LineValue)]
    /// Nanoseconds since the Unix epoch, or nil.
    public var timestamp: Int64?

    public init(measurement: String, tags: [(key: String, value: String)] = [],
                fields: [(key: String, value: LineValue)], timestamp: Int64? = nil) {
        self.measurement = measurement
        self.tags = tags
        self.fields = fields
        self.timestamp = timestamp
    }

    /// Copies a parsed point out of the parser's reusable storage.
    public init(_ point: LinePoint) {
        measurement = point.measurement
        tags = point.tags.map { (point.string($0.key), point.string($0.value)) }
        fields = point.fields.map { field in
            let value: LineValue
            switch field.value {
            case .float(let v): value = .float(v)
            case .int(let v): value = .int(v)
            case .uint(let v): value = .uint(v)
            case .bool(let v): value = .bool(v)
            case .string(let r): value = .string(point.string(r))
            }
            return (point.string(field.key), value)
        }
        timestamp = point.timestamp
    }

    public static func == (a: LineRecord, b: LineRecord) -> Bool {
        a.measurement == b.measurement && a.timestamp == b.timestamp
            && a.tags.elementsEqual(b.tags, by: { $0.key == $1.key && $0.value == $1.value })
            && a.fields.elementsEqual(b.fields, by: { $0.key == $1.key && $0.value == $1.value })
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(measurement)
        hasher.combine(timestamp)
        for t in tags { hasher.combine(t.key); hasher.combine(t.value) }
        for f in fields { hasher.combine(f.key); hasher.combine(f.value) }
    }
}
