/// The few fields Tacho reads from S3's XML answers (`UploadId`, `Key`, `Size`, `ETag`,
/// `IsTruncated`, `NextContinuationToken`, `Code`, `Message`): element text by tag name, with
/// the five predefined entities and numeric references decoded. Not a general XML parser: the
/// answers are flat and Tacho asks only for leaf elements.
enum XMLFields {
    /// The text of every `<tag>…</tag>` in `xml`, in order.
    static func all(_ tag: String, in xml: String) -> [String] {
        let open = "<\(tag)>", close = "</\(tag)>"
        var out: [String] = []
        var rest = xml[...]
        while let a = rest.firstRange(of: open) {
            guard let b = rest[a.upperBound...].firstRange(of: close) else { break }
            out.append(unescape(String(rest[a.upperBound..<b.lowerBound])))
            rest = rest[b.upperBound...]
        }
        return out
    }

    static func first(_ tag: String, in xml: String) -> String? { all(tag, in: xml).first }

    /// The `<Contents>` blocks of a ListObjectsV2 answer.
    static func blocks(_ tag: String, in xml: String) -> [String] {
        let open = "<\(tag)>", close = "</\(tag)>"
        var out: [String] = []
        var rest = xml[...]
        while let a = rest.firstRange(of: open), let b = rest[a.upperBound...].firstRange(of: close) {
            out.append(String(rest[a.upperBound..<b.lowerBound]))
            rest = rest[b.upperBound...]
        }
        return out
    }

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var rest = s[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let name = rest[rest.index(after: amp)..<semi]
            switch name {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: UInt32?
                if name.hasPrefix("#x") { scalar = UInt32(name.dropFirst(2), radix: 16) } else if name.hasPrefix("#") { scalar = UInt32(name.dropFirst(), radix: 10) }
                if let v = scalar, let u = Unicode.Scalar(v) { out.unicodeScalars.append(u) } else { out += "&\(name);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    /// `s` with `&`, `<`, `>` escaped, for request bodies.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(c)
            }
        }
        return out
    }
}
