// Encoding a String as a JSON string literal (error messages, reject reports, CLI output).

/// `s` as a JSON string literal.
public func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 || u.value == 0x7F {
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}

/// `name` (a file name or path, or other outside text) for a log line or a stderr/stdout
/// message: control characters (C0, DEL, C1) become visible escapes — `\n`, `\r`, `\t`, else
/// `\u{1b}` — so a name cannot end a log line early, forge another, or send a terminal escape
/// sequence. Other text, non-ASCII letters included, is unchanged (and returned as is, without
/// copying, when nothing needs escaping: the common case). The one helper every message that
/// names an input file goes through.
public func escapedForLog(_ name: String) -> String {
    // C1 controls are U+0080…U+009F: in UTF-8, 0xC2 followed by 0x80…0x9F; 0xC2 alone is a
    // cheap enough pre-check.
    guard name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return name }
    var out = ""
    for u in name.unicodeScalars {
        switch u {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 || (u.value >= 0x7F && u.value <= 0x9F) {
                out += "\\u{" + String(u.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out
}
