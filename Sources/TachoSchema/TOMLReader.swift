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
        let root: TOMLKit.TOMLTable
        do {
            root = try TOMLKit.TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw TOMLError(position: TOMLPosition(line: e.source.begin.line, column: e.source.begin.column), message: e.description)
        } catch {
            throw TOMLError(position: TOMLPosition(line: 1, column: 1), message: "\(error)")
        }
        let start = TOMLPosition(line: 1, column: 1)
        return try table(root, path: [], at: start, TOMLKeyLocator(bytes))
    }

    static let dateTimeRefused = "date and time values are not used in a Tacho config: write times as strings"

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
