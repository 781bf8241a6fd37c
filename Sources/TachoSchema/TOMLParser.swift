/// A TOML 1.0 reader for config files (see `TOMLDocument`). Small inputs only: the whole text
/// is in memory, nesting of arrays and inline tables is bounded (`maxDepth`).
public struct TOMLParser {
    private let b: [UInt8]
    private var i = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
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
            guard validUnderscores(digits), let v = Int64(digits.filter { $0 != "_" }, radix: radix) else { return nil }
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

    // MARK: Strings

    private mutating func basicString(multiline: Bool) throws(TOMLError) -> String {
        var out: [UInt8] = []
        if multiline { skipNewlineRightAfterOpening() }
        while true {
            guard i < b.count else { throw error("unterminated string: expected \(multiline ? "\"\"\"" : "'\"'")") }
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                if !multiline { i += 1; break }
                if hasPrefix("\"\"\"") {
                    // Up to two quotes may end the content right before the closing three.
                    var n = 3
                    while n < 5, i + n < b.count, b[i + n] == UInt8(ascii: "\"") { n += 1 }
                    out.append(contentsOf: repeatElement(UInt8(ascii: "\""), count: n - 3))
                    i += n
                    break
                }
                out.append(c); i += 1; continue
            }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { throw error("unterminated string") }
                let e = b[i]
                if multiline && (e == 0x20 || e == 0x09 || e == 0x0A || e == 0x0D) {
                    // A line-ending backslash: the newline and the whitespace after it go.
                    var j = i
                    while j < b.count, b[j] == 0x20 || b[j] == 0x09 { j += 1 }
                    guard j < b.count, b[j] == 0x0A || (b[j] == 0x0D && j + 1 < b.count && b[j + 1] == 0x0A) else {
                        throw error("a backslash in a string must start an escape (\\n, \\t, \\\", \\\\, \\uXXXX…)")
                    }
                    i = j
                    skipBlankLines()
                    continue
                }
                i += 1
                switch e {
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "e"): out.append(0x1B)
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let n = e == UInt8(ascii: "u") ? 4 : 8
                    guard i + n <= b.count, let v = UInt32(String(decoding: b[i..<(i + n)], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(v)
                    else { throw error("\\\(e == UInt8(ascii: "u") ? "u" : "U") needs \(n) hex digits of a Unicode scalar") }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    i += n
                default:
                    i -= 2
                    throw error("unknown escape '\\\(Character(Unicode.Scalar(e)))' in a string")
                }
                continue
            }
            try stringByte(c, multiline: multiline, into: &out)
        }
        return try utf8(out)
    }

    private mutating func literalString(multiline: Bool) throws(TOMLError) -> String {
        var out: [UInt8] = []
        if multiline { skipNewlineRightAfterOpening() }
        while true {
            guard i < b.count else { throw error("unterminated string: expected \(multiline ? "'''" : "\"'\"")") }
            let c = b[i]
            if c == UInt8(ascii: "'") {
                if !multiline { i += 1; break }
                if hasPrefix("'''") {
                    var n = 3
                    while n < 5, i + n < b.count, b[i + n] == UInt8(ascii: "'") { n += 1 }
                    out.append(contentsOf: repeatElement(UInt8(ascii: "'"), count: n - 3))
                    i += n
                    break
                }
            }
            try stringByte(c, multiline: multiline, into: &out)
        }
        return try utf8(out)
    }

    /// One ordinary byte of a string: no control characters but tab (and newlines in a
    /// multi-line string).
    private mutating func stringByte(_ c: UInt8, multiline: Bool, into out: inout [UInt8]) throws(TOMLError) {
        if c == 0x0A || (c == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A) {
            guard multiline else { throw error("unterminated string: a newline before the closing quote") }
            if c == 0x0D { i += 1 }
            out.append(0x0A)
            i += 1
            line += 1
            lineStart = i
            return
        }
        if (c < 0x20 && c != 0x09) || c == 0x7F {
            throw error("control character 0x\(String(c, radix: 16)) in a string (write it as an escape)")
        }
        out.append(c)
        i += 1
    }

    private mutating func skipNewlineRightAfterOpening() {
        if hasPrefix("\n") { i += 1; line += 1; lineStart = i } else if hasPrefix("\r\n") { i += 2; line += 1; lineStart = i }
    }

    private func utf8(_ bytes: [UInt8]) throws(TOMLError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
        return s
    }

    // MARK: Whitespace, comments, positions

    private var position: TOMLPosition { TOMLPosition(line: line, column: i - lineStart + 1) }

    private func error(_ message: String) -> TOMLError { TOMLError(position: position, message: message) }

    private func hasPrefix(_ s: StaticString) -> Bool {
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

    private mutating func skipBlankLines() {
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

    private func describeHere() -> String {
        guard i < b.count else { return "the end of the file" }
        let c = b[i]
        if c == 0x0A || c == 0x0D { return "the end of the line" }
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }
}
