import TachoFormat

/// One value of a row's column, whatever the measurement: what generic queries return.
/// Strings compare by bytes (`Identity`), not by Unicode canonical equivalence.
public enum CellValue: Sendable, Hashable {
    /// A nullable column without a value in this row.
    case null
    case int(Int64)
    case double(Double)
    case string(String)
    case bool(Bool)
    /// A string-list column (0…n strings).
    case strings([String])

    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): Identity.equal(x, y)
        case (.bool(let x), .bool(let y)): x == y
        case (.strings(let x), .strings(let y)): x.count == y.count && zip(x, y).allSatisfy { Identity.equal($0, $1) }
        default: false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .int(let v): h.combine(1); h.combine(v)
        case .double(let v): h.combine(2); h.combine(v)
        case .string(let s): h.combine(3); h.combine(ByteString(s))
        case .bool(let v): h.combine(4); h.combine(v)
        case .strings(let a): h.combine(5); for s in a { h.combine(ByteString(s)) }
        }
    }
}

/// One row of any measurement: the series key, the time (µs since the Unix epoch, UTC) and
/// one cell per schema column, in schema order.
public struct Row: Sendable, Hashable {
    public var vehicle: String
    public var time: Int64
    public var cells: [CellValue]

    public init(vehicle: String, time: Int64, cells: [CellValue]) {
        (self.vehicle, self.time, self.cells) = (vehicle, time, cells)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.time == b.time && Identity.equal(a.vehicle, b.vehicle) && a.cells == b.cells
    }

    public func hash(into h: inout Hasher) { h.combine(ByteString(vehicle)); h.combine(time); h.combine(cells) }
}
