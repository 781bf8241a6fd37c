import TOMLKit

/// The config's TOML, read by TOMLKit (toml++) and turned into this module's `TOMLTable`
/// model, which `TableReader`, `DeclarationCoding` and `TachoConfig` consume.
///
/// Syntax errors keep TOMLKit's line:column. TOMLKit gives parsed nodes no position and keeps
/// a table's keys sorted, so both come from `TOMLKeyLocator`: a node's position is where its
/// key (or header, or array item) is written when that is unambiguous, else its parent's; a
/// table's keys are in the order they are written. Date and time values are refused: a Tacho
/// config writes times as strings ("30d", RFC 3339 text).
public enum TOMLReader {
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        try parse(bytes: Array(text.utf8))
    }

    public static func parse(bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        let text = try checkedText(bytes)
        let locator = TOMLKeyLocator(bytes)
        if let at = locator.unsafeHeader { throw TOMLError(position: at, message: "expected a table name after '['") }
        if let at = strayBraceInArray(bytes) { throw TOMLError(position: at, message: "expected a value or ']' in the array, found '}'") }
        let root: TOMLKit.TOMLTable
        do {
            root = try TOMLKit.TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw TOMLError(position: TOMLPosition(line: e.source.begin.line, column: e.source.begin.column), message: e.description)
        } catch {
            throw TOMLError(position: TOMLPosition(line: 1, column: 1), message: "\(error)")
        }
        let start = TOMLPosition(line: 1, column: 1)
        return try table(root, path: [], at: start, locator)
    }

    static let dateTimeRefused = "date and time values are not used in a Tacho config: write times as strings"
    /// Tables and arrays nested deeper are refused (toml++ bounds arrays and inline tables, not
    /// dotted keys; the conversion recurses once per level).
    static let maxDepth = 64

    /// TOMLKit reads a C string: a NUL byte would end the document early, and bytes that are
    /// not UTF-8 would be replaced before toml++ could refuse them. Both are refused here.
    static func checkedText(_ bytes: [UInt8]) throws(TOMLError) -> String {
        var line = 1, column = 1
        var it = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let s):
                let v = Unicode.UTF8.decode(s).value
                if v == 0 { throw TOMLError(position: TOMLPosition(line: line, column: column), message: "a NUL character is not allowed") }
                if v == 0x0A { line += 1; column = 1 } else { column += s.count }
            case .error:
                throw TOMLError(position: TOMLPosition(line: line, column: column), message: "the file is not UTF-8 text")
            case .emptyInput:
                return String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    /// A `}` where an array expects a value (`[}]`, `[1, }]`): toml++ 3.4 assumes it never
    /// meets one (`TOML_ASSERT_ASSUME(!is_value_terminator(*cp))` in `parse_value`: an abort
    /// in a debug build, undefined behaviour in a release build). Found by a scan that skips
    /// strings and comments and tracks `[`/`{` nesting; nil when there is none.
    static func strayBraceInArray(_ b: [UInt8]) -> TOMLPosition? {
        let q = UInt8(ascii: "\""), a = UInt8(ascii: "'"), bs = UInt8(ascii: "\\")
        var i = 0, line = 1, lineStart = 0
        var open: [UInt8] = [], last: UInt8 = 0
        func at(_ s: [UInt8]) -> Bool { i + s.count <= b.count && b[i..<(i + s.count)].elementsEqual(s) }
        while i < b.count {
            let c = b[i]
            switch c {
            case 0x0A: line += 1; lineStart = i + 1; i += 1
            case 0x20, 0x09, 0x0D: i += 1
            case UInt8(ascii: "#"): while i < b.count, b[i] != 0x0A { i += 1 }
            case q, a:
                let triple = [c, c, c], multi = at(triple)
                i += multi ? 3 : 1
                while i < b.count {
                    if c == q, b[i] == bs { i += 2; continue }
                    if b[i] == 0x0A { if !multi { break }; line += 1; lineStart = i + 1 }
                    if multi ? at(triple) : b[i] == c {
                        i += multi ? 3 : 1
                        // Up to two quotes right before the closing three belong to the string.
                        while multi, i < b.count, b[i] == c { i += 1 }
                        break
                    }
                    i += 1
                }
                last = c
            default:
                if c == UInt8(ascii: "}"), open.last == UInt8(ascii: "["), last == UInt8(ascii: "[") || last == UInt8(ascii: ",") {
                    return TOMLPosition(line: line, column: i - lineStart + 1)
                }
                if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") { open.append(c) }
                if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") { _ = open.popLast() }
                last = c
                i += 1
            }
        }
        return nil
    }

    private static func table(_ t: TOMLKit.TOMLTable, path: [TOMLKeyLocator.Part], at position: TOMLPosition, _ locator: TOMLKeyLocator) throws(TOMLError) -> TOMLTable {
        var entries: [(key: String, node: TOMLNode, order: (Int, Int))] = []
        for (n, key) in t.keys.enumerated() {
            guard let v = t[key] else { continue }
            let p = path + [.key(key)]
            let at = locator[p]
            let node = TOMLNode(try value(v, path: p, at: at ?? position, locator), at: at ?? position)
            entries.append((key, node, at.map { ($0.line, $0.column) } ?? (Int.max, n)))
        }
        var out = TOMLTable(position: position)
        for e in entries.sorted(by: { $0.order < $1.order }) { out.set(e.key, e.node) }
        return out
    }

    private static func value(_ v: any TOMLValueConvertible, path: [TOMLKeyLocator.Part], at position: TOMLPosition, _ locator: TOMLKeyLocator) throws(TOMLError) -> TOMLValue {
        if path.count > maxDepth, v.type == .table || v.type == .array {
            throw TOMLError(position: position, message: "tables and arrays nested more than \(maxDepth) deep")
        }
        switch v.type {
        case .string: return .string(v.string ?? "")
        case .int: return .integer(Int64(v.int ?? 0))
        case .double: return .float(v.double ?? .nan)
        case .bool: return .bool(v.bool ?? false)
        case .table:
            guard let t = v.table else { return .table(TOMLTable(position: position)) }
            return .table(try table(t, path: path, at: position, locator))
        case .array:
            var items: [TOMLNode] = []
            let array: [any TOMLValueConvertible] = v.array.map { Array($0) } ?? []
            for (i, item) in array.enumerated() {
                let p = path + [.index(i)]
                let at = locator[p] ?? position
                items.append(TOMLNode(try value(item, path: p, at: at, locator), at: at))
            }
            return .array(items)
        case .date, .time, .dateTime:
            throw TOMLError(position: position, message: dateTimeRefused)
        }
    }
}
