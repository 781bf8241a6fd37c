/// Writes TOML text: quoting and values, as `TOMLReader` reads them back. Kept rather than
/// TOMLKit's `convert(to: .toml)`: toml++ keeps a table's keys sorted and drops comments, so
/// the commented, ordered `tacho config defaults` text and the error messages' quoting are
/// written here.
public enum TOMLWriter {
    /// A key as TOML writes it: bare when it can be, else quoted.
    public static func quotedKey(_ k: String) -> String {
        !k.isEmpty && k.utf8.allSatisfy(isBareKeyByte) ? k : quote(k)
    }

    static func isBareKeyByte(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    /// A basic string with the escapes TOML needs.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    let hex = String(u.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A value on one line (arrays and tables inline).
    public static func inline(_ v: TOMLValue) -> String {
        switch v {
        case .string(let s): quote(s)
        case .integer(let n): String(n)
        case .float(let d): float(d)
        case .bool(let b): b ? "true" : "false"
        case .array(let items): "[" + items.map { inline($0.value) }.joined(separator: ", ") + "]"
        case .table(let t):
            t.isEmpty ? "{}" : "{ " + t.entries.map { "\(quotedKey($0.key)) = \(inline($0.node.value))" }.joined(separator: ", ") + " }"
        }
    }

    /// A float that reads back as a float (`1.0`, not `1`).
    public static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        let s = "\(d)"
        return s.contains(".") || s.contains("e") ? s : s + ".0"
    }
}
