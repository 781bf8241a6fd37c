/// A TOML 1.0 reader for config files (see `TOMLDocument`). Small inputs only: the whole text
/// is in memory, nesting of arrays and inline tables is bounded (`maxDepth`).
public struct TOMLParser {
    let b: [UInt8]
    var i = 0
    var line = 1
    var lineStart = 0
    var depth = 0
    static let maxDepth = 32

    /// Parses `text`; throws `TOMLError` at the first problem.
    public static func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        var p = TOMLParser(bytes: Array(text.utf8))
        return try p.document()
    }

    public static func parse(bytes: [UInt8]) throws(TOMLError) -> TOMLTable {
        var p = TOMLParser(bytes: bytes)
        return try p.document()
    }

    private init(bytes: [UInt8]) {
        // A UTF-8 byte-order mark is allowed before the document.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { b = Array(bytes.dropFirst(3)) } else { b = bytes }
    }

    // MARK: Tables under construction

    private final class Builder {
        enum Kind { case implicit, header, dotted }
        enum Node {
            case value(TOMLNode)
            case table(Builder)
            case tableArray([Builder], TOMLPosition)
        }
        var kind: Kind
        var keys: [String] = []
        var map: [String: Node] = [:]
        let position: TOMLPosition

        init(_ kind: Kind, _ position: TOMLPosition) {
            self.kind = kind
            self.position = position
        }

        func set(_ k: String, _ n: Node) {
            if map.updateValue(n, forKey: k) == nil { keys.append(k) }
        }

        func freeze() -> TOMLTable {
            var t = TOMLTable(position: position)
            for k in keys {
                switch map[k] {
                case .value(let n): t.set(k, n)
                case .table(let sub): t.set(k, TOMLNode(.table(sub.freeze()), at: sub.position))
                case .tableArray(let subs, let p): t.set(k, TOMLNode(.array(subs.map { TOMLNode(.table($0.freeze()), at: $0.position) }), at: p))
                case nil: break
                }
            }
            return t
        }
    }

    // MARK: Document

    private mutating func document() throws(TOMLError) -> TOMLTable {
        let root = Builder(.header, TOMLPosition(line: 1, column: 1))
        var current = root
        while true {
            skipBlankLinesAndComments()
            guard i < b.count else { break }
            if b[i] == UInt8(ascii: "[") {
                let start = position
                let isArray = i + 1 < b.count && b[i + 1] == UInt8(ascii: "[")
                i += isArray ? 2 : 1
                skipSpaces()
                let key = try dottedKey()
                skipSpaces()
                guard expect("]") && (!isArray || expect("]")) else {
                    throw error(isArray ? "expected ']]' to close the table-array header" : "expected ']' to close the table header")
                }
                current = try openTable(root, key, isArray: isArray, at: start)
            } else {
                try keyValue(into: current)
            }
            try endOfLine()
        }
        return root.freeze()
    }

    /// `[a.b.c]` or `[[a.b.c]]`: the table the following keys go into.
    private func openTable(_ root: Builder, _ key: [(String, TOMLPosition)], isArray: Bool, at start: TOMLPosition) throws(TOMLError) -> Builder {
        var t = root
        let name = key.map { Self.quotedKey($0.0) }.joined(separator: ".")
        for (k, _) in key.dropLast() {
            switch t.map[k] {
            case nil:
                let n = Builder(.implicit, start)
                t.set(k, .table(n))
                t = n
            case .table(let n): t = n
            case .tableArray(let arr, _):
                guard let last = arr.last else { throw TOMLError(position: start, message: "cannot open [\(name)]") }
                t = last
            case .value:
                throw TOMLError(position: start, message: "cannot open [\(name)]: \(k) is already a value")
            }
        }
        guard let (last, _) = key.last else { throw TOMLError(position: start, message: "empty table name") }
        switch t.map[last] {
        case nil:
            if isArray {
                let n = Builder(.header, start)
                t.set(last, .tableArray([n], start))
                return n
            }
            let n = Builder(.header, start)
            t.set(last, .table(n))
            return n
        case .table(let n) where !isArray && n.kind == .implicit:
            n.kind = .header
            return n
        case .tableArray(var arr, let p) where isArray:
            let n = Builder(.header, start)
            arr.append(n)
            t.set(last, .tableArray(arr, p))
            return n
        case .table:
            throw TOMLError(position: start, message: "table [\(name)] is defined twice")
        case .tableArray:
            throw TOMLError(position: start, message: "[\(name)] is an array of tables ([[\(name)]]), not a table")
        case .value(let v):
            throw TOMLError(position: start, message: "cannot open [\(name)]: it is already \(v.value.kindName) (line \(v.position.line))")
        }
    }

    /// `a.b = value` into `table`.
    private mutating func keyValue(into table: Builder) throws(TOMLError) {
        let key = try dottedKey()
        skipSpaces()
        guard expect("=") else { throw error("expected '=' after the key \(key.map { Self.quotedKey($0.0) }.joined(separator: "."))") }
        skipSpaces()
        let node = try value()
        var t = table
        for (k, p) in key.dropLast() {
            switch t.map[k] {
            case nil:
                let n = Builder(.dotted, p)
                t.set(k, .table(n))
                t = n
            case .table(let n) where n.kind != .header || n === table:
                t = n
            default:
                throw TOMLError(position: p, message: "cannot add keys to \(k) with a dotted key: it is already defined")
            }
        }
        guard let (last, p) = key.last else { throw error("expected a key") }
        if t.map[last] != nil { throw TOMLError(position: p, message: "duplicate key '\(last)'") }
        t.set(last, .value(node))
    }

    // MARK: Keys

    private mutating func dottedKey() throws(TOMLError) -> [(String, TOMLPosition)] {
        var parts: [(String, TOMLPosition)] = []
        while true {
            let p = position
            parts.append((try simpleKey(), p))
            if parts.count > Self.maxDepth { throw TOMLError(position: p, message: "a dotted key of more than \(Self.maxDepth) parts") }
            skipSpaces()
            guard i < b.count, b[i] == UInt8(ascii: ".") else { return parts }
            i += 1
            skipSpaces()
        }
    }

    private mutating func simpleKey() throws(TOMLError) -> String {
        guard i < b.count else { throw error("expected a key, found the end of the file") }
        if b[i] == UInt8(ascii: "\"") { i += 1; return try basicString(multiline: false) }
        if b[i] == UInt8(ascii: "'") { i += 1; return try literalString(multiline: false) }
        let start = i
        while i < b.count, Self.isBareKeyByte(b[i]) { i += 1 }
        guard i > start else { throw error("expected a key, found \(describeHere())") }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    /// A key as TOML writes it: bare when it can be, else quoted.
    public static func quotedKey(_ k: String) -> String {
        !k.isEmpty && k.utf8.allSatisfy(isBareKeyByte) ? k : TOMLWriter.quote(k)
    }

    // MARK: Values

    private mutating func value() throws(TOMLError) -> TOMLNode {
        let p = position
        guard i < b.count else { throw error("expected a value, found the end of the file") }
        switch b[i] {
        case UInt8(ascii: "\""):
            if hasPrefix("\"\"\"") { i += 3; return TOMLNode(.string(try basicString(multiline: true)), at: p) }
            i += 1
            return TOMLNode(.string(try basicString(multiline: false)), at: p)
        case UInt8(ascii: "'"):
            if hasPrefix("'''") { i += 3; return TOMLNode(.string(try literalString(multiline: true)), at: p) }
            i += 1
            return TOMLNode(.string(try literalString(multiline: false)), at: p)
        case UInt8(ascii: "["):
            return TOMLNode(.array(try array()), at: p)
        case UInt8(ascii: "{"):
            return TOMLNode(.table(try inlineTable()), at: p)
        default:
            if hasPrefix("true") && !continuesWord(4) { i += 4; return TOMLNode(.bool(true), at: p) }
            if hasPrefix("false") && !continuesWord(5) { i += 5; return TOMLNode(.bool(false), at: p) }
            return TOMLNode(try number(), at: p)
        }
    }

    private mutating func enter() throws(TOMLError) {
        depth += 1
        if depth > Self.maxDepth { throw error("arrays and inline tables nested deeper than \(Self.maxDepth)") }
    }

    private mutating func array() throws(TOMLError) -> [TOMLNode] {
        try enter()
        defer { depth -= 1 }
        i += 1  // [
        var items: [TOMLNode] = []
        while true {
            skipBlankLinesAndComments()
            guard i < b.count else { throw error("unterminated array: expected ']'") }
            if b[i] == UInt8(ascii: "]") { i += 1; return items }
            items.append(try value())
            skipBlankLinesAndComments()
            guard i < b.count else { throw error("unterminated array: expected ']'") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "]") { i += 1; return items }
            throw error("expected ',' or ']' in an array, found \(describeHere())")
        }
    }

    private mutating func inlineTable() throws(TOMLError) -> TOMLTable {
        try enter()
        defer { depth -= 1 }
        let t = Builder(.dotted, position)
        i += 1  // {
        skipSpaces()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return t.freeze() }
        while true {
            skipSpaces()
            try keyValue(into: t)
            skipSpaces()
            guard i < b.count else { throw error("unterminated inline table: expected '}'") }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            if b[i] == UInt8(ascii: "}") { i += 1; return t.freeze() }
            throw error("expected ',' or '}' in an inline table (which stays on one line), found \(describeHere())")
        }
    }

    private mutating func number() throws(TOMLError) -> TOMLValue {
        let start = i
        while i < b.count, Self.isNumberByte(b[i]) { i += 1 }
        let text = String(decoding: b[start..<i], as: UTF8.self)
        if i < b.count, b[i] == UInt8(ascii: ":") || (b[i] == UInt8(ascii: " ") && Self.looksLikeDate(text)) {
            i = start
            throw error("date and time values are not used in a Tacho config: write times as strings")
        }
        guard !text.isEmpty else { i = start; throw error("expected a value, found \(describeHere())") }
        switch text {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if let v = Self.integer(text) { return .integer(v) }
        if let v = Self.float(text) { return .float(v) }
        i = start
        if Self.looksLikeDate(String(text.prefix(10))) { throw error("date and time values are not used in a Tacho config: write times as strings") }
        throw error("'\(text)' is not a value (strings need quotes)")
    }

    /// `YYYY-MM-DD`.
    static func looksLikeDate(_ t: String) -> Bool {
        let u = Array(t.utf8)
        guard u.count == 10 else { return false }
        return u.indices.allSatisfy { k in k == 4 || k == 7 ? u[k] == UInt8(ascii: "-") : (u[k] >= 0x30 && u[k] <= 0x39) }
    }

    static func isNumberByte(_ c: UInt8) -> Bool {
        isBareKeyByte(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
    }

    /// A TOML integer: decimal with single underscores between digits and no leading zero,
    /// or 0x / 0o / 0b.
    static func integer(_ t: String) -> Int64? {
        var s = Substring(t)
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where s.hasPrefix(prefix) {
            let digits = s.dropFirst(2)
            guard validUnderscores(digits), digits.allSatisfy({ $0.isHexDigit || $0 == "_" }), let v = Int64(digits.filter { $0 != "_" }, radix: radix) else { return nil }
            return v
        }
        var sign = ""
        if let f = s.first, f == "+" || f == "-" { sign = f == "-" ? "-" : ""; s = s.dropFirst() }
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "_") }), validUnderscores(s) else { return nil }
        if s.count > 1 && s.first == "0" { return nil }
        return Int64(sign + s.filter { $0 != "_" })
    }

    static func float(_ t: String) -> Double? {
        var s = Substring(t)
        if let f = s.first, f == "+" || f == "-" { s = s.dropFirst() }
        // int part, then .frac and/or exponent; every part with digits around underscores.
        let expSplit = s.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
            .flatMap { $0.split(separator: "E", maxSplits: 1, omittingEmptySubsequences: false) }
        guard let mantissa = expSplit.first, expSplit.count <= 2 else { return nil }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let intPart = parts.first, digitsOnly(intPart), !(intPart.count > 1 && intPart.first == "0") else { return nil }
        if parts.count == 2 { guard digitsOnly(parts[1]) else { return nil } }
        if expSplit.count == 2 {
            var e = expSplit[1]
            if let f = e.first, f == "+" || f == "-" { e = e.dropFirst() }
            guard digitsOnly(e) else { return nil }
        } else if parts.count == 1 {
            return nil  // an integer
        }
        return Double(t.filter { $0 != "_" })
    }

    private static func digitsOnly(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "_") } && validUnderscores(s)
    }

    private static func validUnderscores(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.first != "_", s.last != "_" else { return false }
        return !s.contains("__")
    }

    // MARK: Whitespace, comments, positions

    var position: TOMLPosition { TOMLPosition(line: line, column: i - lineStart + 1) }

    func error(_ message: String) -> TOMLError { TOMLError(position: position, message: message) }

    func hasPrefix(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        return s.withUTF8Buffer { p in (0..<n).allSatisfy { b[i + $0] == p[$0] } }
    }

    private func continuesWord(_ n: Int) -> Bool { i + n < b.count && Self.isBareKeyByte(b[i + n]) }

    private mutating func expect(_ c: Character) -> Bool {
        guard i < b.count, let a = c.asciiValue, b[i] == a else { return false }
        i += 1
        return true
    }

    private mutating func skipSpaces() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
    }

    private mutating func skipComment() {
        guard i < b.count, b[i] == UInt8(ascii: "#") else { return }
        while i < b.count, b[i] != 0x0A { i += 1 }
    }

    mutating func skipBlankLines() {
        while i < b.count {
            if b[i] == 0x20 || b[i] == 0x09 { i += 1 } else if b[i] == 0x0A { i += 1; line += 1; lineStart = i } else if b[i] == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A {
                i += 2; line += 1; lineStart = i
            } else { return }
        }
    }

    private mutating func skipBlankLinesAndComments() {
        while true {
            skipBlankLines()
            guard i < b.count, b[i] == UInt8(ascii: "#") else { return }
            skipComment()
        }
    }

    /// After a key/value pair or a header: spaces, an optional comment, then a newline or the end.
    private mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        skipComment()
        guard i < b.count else { return }
        if b[i] == 0x0A { i += 1; line += 1; lineStart = i; return }
        if b[i] == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A { i += 2; line += 1; lineStart = i; return }
        throw error("expected a newline after the value, found \(describeHere())")
    }

    func describeHere() -> String {
        guard i < b.count else { return "the end of the file" }
        let c = b[i]
        if c == 0x0A || c == 0x0D { return "the end of the line" }
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }
}
