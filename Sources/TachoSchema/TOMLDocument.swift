/// A parsed TOML document: tables whose keys keep the order they were written in, every
/// value with the line and column where it starts (for errors that point into the file).
///
/// TOMLKit reads the text (`TOMLReader`, the adapter); this model is what the rest of the
/// module reads, so positions and key order survive for errors. Everything of TOML 1.0 is
/// read except date and time values, which a Tacho config never holds (times are strings
/// such as "30d" or RFC 3339 text); they are refused with a message.
public struct TOMLPosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([TOMLNode])
    case table(TOMLTable)

    /// What an error calls this kind of value: "a string", "an integer", …
    public var kindName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A value and where it starts in the file.
public struct TOMLNode: Sendable, Equatable {
    public var value: TOMLValue
    public var position: TOMLPosition

    public init(_ value: TOMLValue, at position: TOMLPosition) {
        self.value = value
        self.position = position
    }
}

/// A table: keys in the order they first appeared.
public struct TOMLTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLNode] = [:]
    /// Where the table was opened (its header, its inline `{`, or its first dotted key).
    public var position: TOMLPosition

    public init(position: TOMLPosition = TOMLPosition(line: 1, column: 1)) {
        self.position = position
    }

    public subscript(key: String) -> TOMLNode? { values[key] }

    public var isEmpty: Bool { keys.isEmpty }

    /// Adds or replaces `key` (a new key goes last).
    public mutating func set(_ key: String, _ node: TOMLNode) {
        if values.updateValue(node, forKey: key) == nil { keys.append(key) }
    }

    /// The entries in order.
    public var entries: [(key: String, node: TOMLNode)] { keys.compactMap { k in values[k].map { (k, $0) } } }
}

/// A TOML syntax or structure error at a position.
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: TOMLPosition
    public var message: String

    public var description: String { "\(position): \(message)" }
}
