/// TOML strings: basic (with escapes), literal, and their multi-line forms.
extension TOMLParser {
    mutating func basicString(multiline: Bool) throws(TOMLError) -> String {
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

    mutating func literalString(multiline: Bool) throws(TOMLError) -> String {
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
}
