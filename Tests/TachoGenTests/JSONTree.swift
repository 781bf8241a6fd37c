import TachoJSON

/// A whole small JSON document as a tree, built from TachoJSON's tokens (tests only).
indirect enum JSONTree: Equatable {
    case object([(String, JSONTree)])
    case array([JSONTree])
    case string(String)
    case number(Double, integer: Int64?)
    case bool(Bool)
    case null

    static func == (a: JSONTree, b: JSONTree) -> Bool { "\(a)" == "\(b)" }

    static func parse(_ bytes: [UInt8]) throws -> JSONTree {
        let parser = JSONParser(bytes: bytes)
        let tree = try value(parser, try parser.next())
        guard try parser.next() == .endOfDocument else { throw JSONTreeError.trailing }
        return tree
    }

    private static func value(_ p: JSONParser, _ t: JSONToken) throws -> JSONTree {
        switch t {
        case .beginObject:
            var members: [(String, JSONTree)] = []
            while true {
                let k = try p.next()
                if k == .endObject { return .object(members) }
                let key = p.stringValue
                members.append((key, try value(p, try p.next())))
            }
        case .beginArray:
            var items: [JSONTree] = []
            while true {
                let v = try p.next()
                if v == .endArray { return .array(items) }
                items.append(try value(p, v))
            }
        case .string: return .string(p.stringValue)
        case .number: return .number(p.doubleValue, integer: p.int64Value)
        case .bool(let b): return .bool(b)
        case .null: return .null
        default: throw JSONTreeError.unexpected("\(t)")
        }
    }

    subscript(_ key: String) -> JSONTree? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var double: Double? { if case .number(let d, _) = self { d } else { nil } }
    var integer: Int64? { if case .number(_, let i) = self { i } else { nil } }
    var array: [JSONTree]? { if case .array(let a) = self { a } else { nil } }
    var keys: [String] { if case .object(let m) = self { m.map(\.0) } else { [] } }
}

enum JSONTreeError: Error { case trailing, unexpected(String) }
