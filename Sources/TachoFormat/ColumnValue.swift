/// One value of a column, boxed: for the few places that hold single values (the latest
/// index, `RowBatch.append`), never for columns (`ColumnValues`). Strings compare by bytes
/// (`Identity`), doubles by bit pattern.
public enum ColumnValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    case string(String)
    case bool(Bool)
    case strings([String])

    public var type: ColumnType {
        switch self {
        case .int: .int64
        case .double: .float64
        case .string: .string
        case .bool: .bool
        case .strings: .stringList
        }
    }

    public var description: String {
        switch self {
        case .int(let x): "\(x)"
        case .double(let x): "\(x)"
        case .string(let s): s
        case .bool(let b): "\(b)"
        case .strings(let l): l.joined(separator: ",")
        }
    }

    public static func == (a: ColumnValue, b: ColumnValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): Identity.equal(x, y)
        case (.bool(let x), .bool(let y)): x == y
        case (.strings(let x), .strings(let y)): x.count == y.count && zip(x, y).allSatisfy { Identity.equal($0, $1) }
        default: false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .int(let x): h.combine(x)
        case .double(let x): h.combine(x.bitPattern)
        case .string(let s): h.combine(ByteString(s))
        case .bool(let b): h.combine(b)
        case .strings(let l): for s in l { h.combine(ByteString(s)) }
        }
    }

    /// Row `i` of `c` (strings from `dictionary`); nil when the row is null.
    public static func at(_ i: Int, of c: ColumnValues, dictionary: [String]) -> ColumnValue? {
        guard !c.isNull(i) else { return nil }
        switch c.type {
        case .int64: return .int(c.ints[i])
        case .float64: return .double(c.doubles[i])
        case .string: return .string(dictionary[Int(c.ids[i])])
        case .bool: return .bool(c.bools[i])
        case .stringList: return .strings(c.listRange(i).map { dictionary[Int(c.ids[$0])] })
        }
    }

    /// The `last` value a chunk's stats record for a column of `type` (FORMAT.md §2.4.2), nil
    /// for types whose stats have none (string lists).
    public static func last(of s: ColumnStats, type: ColumnType) -> ColumnValue? {
        switch type {
        case .int64: .int(s.lastInt)
        case .float64: .double(s.lastDouble)
        case .string: .string(s.lastString)
        case .bool: .bool(s.lastBool)
        case .stringList: nil
        }
    }

    /// The value's bytes without a type tag (FORMAT.md §4): svarint, f64, str, u8, or
    /// count <uvarint> and that many str.
    public func encode(into w: inout ByteWriter) {
        switch self {
        case .int(let x): w.writeSignedVarint(x)
        case .double(let x): w.writeDouble(x)
        case .string(let s): w.writeString(s)
        case .bool(let b): w.writeUInt8(b ? 1 : 0)
        case .strings(let l):
            w.writeVarint(UInt64(l.count))
            for s in l { w.writeString(s) }
        }
    }

    public static func decode(_ type: ColumnType, from r: inout ByteReader, stringLimit: Int) -> ColumnValue? {
        switch type {
        case .int64: return r.readSignedVarint().map { .int($0) }
        case .float64: return r.readDouble().map { .double($0) }
        case .string: return r.readString(limit: stringLimit).map { .string($0) }
        case .bool:
            guard let b = r.readUInt8(), b <= 1 else { return nil }
            return .bool(b == 1)
        case .stringList:
            guard let n = r.readLength(limit: r.remaining) else { return nil }
            var l: [String] = []
            for _ in 0..<n {
                guard let s = r.readString(limit: stringLimit) else { return nil }
                l.append(s)
            }
            return .strings(l)
        }
    }
}
