import Foundation
import TachoTestSupport
import TachoJSON

/// A parsed JSON value (object members in document order).
indirect enum JValue: Equatable, CustomStringConvertible {
    case object([Member])
    case array([JValue])
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null

    struct Member: Equatable {
        var key: String
        var value: JValue
    }

    var description: String {
        switch self {
        case .object(let m): return "{" + m.map { "\($0.key.debugDescription):\($0.value)" }.joined(separator: ",") + "}"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ",") + "]"
        case .string(let s): return s.debugDescription
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)d"
        case .bool(let b): return "\(b)"
        case .null: return "null"
        }
    }
}

enum Fixtures {
    /// Tests/Fixtures (TachoTestSupport.fixturesDirectory).
    static let root = URL(fileURLWithPath: fixturesDirectory)

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    static let malformedObjects = "mobileye-appendix-malformed/objects_detection_1654462954.json"
    static let malformedStatus = "mobileye-appendix-malformed/vehicles_status_1651788154.json"

    /// Every valid .json fixture (relative paths).
    static func validFiles() throws -> [String] {
        var out: [String] = []
        for dir in ["mobileye-nested", "mobileye-flat", "fleet-power"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path)
            out += names.filter { $0.hasSuffix(".json") }.sorted().map { "\(dir)/\($0)" }
        }
        return out
    }
}

/// Reads one complete value from the parser (iteratively, explicit stack).
func readValue(_ p: JSONParser) throws -> JValue {
    enum Frame {
        case object([JValue.Member], pendingKey: String?)
        case array([JValue])
    }
    var stack: [Frame] = []
    var pendingKey: String?
    while true {
        let t = try p.next()
        var produced: JValue?
        switch t {
        case .beginObject:
            stack.append(.object([], pendingKey: pendingKey))
            pendingKey = nil
            continue
        case .beginArray:
            stack.append(.array([]))
            continue
        case .key:
            pendingKey = p.stringValue
            continue
        case .endObject:
            guard case .object(let members, let outerKey) = stack.removeLast() else { fatalError("mismatched }") }
            produced = .object(members)
            pendingKey = outerKey
        case .endArray:
            guard case .array(let items) = stack.removeLast() else { fatalError("mismatched ]") }
            produced = .array(items)
        case .string: produced = .string(p.stringValue)
        case .number: produced = p.isInteger ? .int(p.int64Value!) : .double(p.doubleValue)
        case .bool(let b): produced = .bool(b)
        case .null: produced = .null
        case .endOfDocument: fatalError("unexpected end of document")
        }
        guard let v = produced else { continue }
        guard let top = stack.popLast() else { return v }
        switch top {
        case .object(var members, let outerKey):
            members.append(JValue.Member(key: pendingKey!, value: v))
            pendingKey = nil
            stack.append(.object(members, pendingKey: outerKey))
        case .array(var items):
            items.append(v)
            stack.append(.array(items))
        }
    }
}

/// Parses a whole document: one value, then `.endOfDocument`.
func parseDocument(_ bytes: [UInt8], options: JSONParserOptions = JSONParserOptions()) throws -> JValue {
    let p = JSONParser(bytes: bytes, options: options)
    let v = try readValue(p)
    let t = try p.next()
    precondition(t == .endOfDocument)
    return v
}

/// Parses and returns the error (nil if the document parsed).
func parseError(_ bytes: [UInt8], options: JSONParserOptions = JSONParserOptions()) -> JSONError? {
    do {
        _ = try parseDocument(bytes, options: options)
        return nil
    } catch let e as JSONError {
        return e
    } catch {
        fatalError("unexpected error type \(error)")
    }
}

func parseError(_ s: String, options: JSONParserOptions = JSONParserOptions()) -> JSONError? {
    parseError(Array(s.utf8), options: options)
}

/// Counts tokens until `.endOfDocument`.
func countTokens(_ p: JSONParser) throws -> Int {
    var n = 0
    while try p.next() != .endOfDocument { n += 1 }
    return n
}
