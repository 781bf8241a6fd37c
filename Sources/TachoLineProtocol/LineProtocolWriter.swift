// Points → line-protocol text that LineProtocolParser reads back to the same point.

/// Why a record cannot be written as line protocol.
public enum LineWriteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The measurement, a tag key or value, or a field key is empty.
    case emptyName(String)
    /// A name, key or tag value holds a control character (they cannot be escaped).
    case controlCharacter(String)
    /// A measurement name starts with `#` (the line would read as a comment).
    case leadingHash(String)
    /// A string field value holds a newline (a line ends at every newline).
    case newlineInString(field: String)
    /// NaN or an infinity (line protocol has no spelling for them).
    case nonFiniteFloat(field: String)
    /// A record without fields.
    case noFields
    /// The timestamp is not a whole number of the precision's units.
    case timestampPrecision(Int64, LinePrecision)

    public var description: String {
        switch self {
        case .emptyName(let what): "empty \(what)"
        case .controlCharacter(let what): "control character in \(what)"
        case .leadingHash(let m): "measurement '\(m)' starts with '#'"
        case .newlineInString(let f): "string value of field '\(f)' holds a newline"
        case .nonFiniteFloat(let f): "field '\(f)' is NaN or infinite"
        case .noFields: "a point needs at least one field"
        case .timestampPrecision(let t, let p): "timestamp \(t) ns is not a whole number of \(p.rawValue)"
        }
    }
}

/// Appends line-protocol lines to `bytes` (each ends with `\n`). Escapes every byte the
/// parser would otherwise read as syntax, so parse(write(r)) == r for every writable record.
public struct LineProtocolWriter: Sendable {
    public var bytes: [UInt8] = []
    /// Unit the timestamps are written in (the reader must be told the same).
    public var precision: LinePrecision

    public init(precision: LinePrecision = .nanoseconds) { self.precision = precision }

    /// Appends `record` as one line. On error nothing is appended.
    public mutating func append(_ record: LineRecord) throws(LineWriteError) {
        let mark = bytes.count
        do {
            try write(record)
        } catch {
            bytes.removeSubrange(mark...)
            throw error
        }
    }

    /// Appends a comment line (`# text`); a newline in `text` ends the comment there.
    public mutating func comment(_ text: String) {
        bytes.append(contentsOf: "# ".utf8)
        bytes.append(contentsOf: text.utf8.prefix { $0 != 0x0A })
        bytes.append(0x0A)
    }

    private mutating func write(_ r: LineRecord) throws(LineWriteError) {
        if r.fields.isEmpty { throw .noFields }
        if r.measurement.utf8.first == UInt8(ascii: "#") { throw .leadingHash(r.measurement) }
        try name(r.measurement, "measurement", measurement: true)
        for tag in r.tags {
            bytes.append(UInt8(ascii: ","))
            try name(tag.key, "tag key", measurement: false)
            bytes.append(UInt8(ascii: "="))
            try name(tag.value, "value of tag '\(tag.key)'", measurement: false)
        }
        var separator = UInt8(ascii: " ")
        for field in r.fields {
            bytes.append(separator)
            separator = UInt8(ascii: ",")
            try name(field.key, "field key", measurement: false)
            bytes.append(UInt8(ascii: "="))
            switch field.value {
            case .float(let v):
                guard v.isFinite else { throw .nonFiniteFloat(field: field.key) }
                bytes.append(contentsOf: v.description.utf8)  // shortest text that reads back exactly
            case .int(let v):
                bytes.append(contentsOf: String(v).utf8)
                bytes.append(UInt8(ascii: "i"))
            case .uint(let v):
                bytes.append(contentsOf: String(v).utf8)
                bytes.append(UInt8(ascii: "u"))
            case .bool(let v):
                bytes.append(contentsOf: (v ? "true" : "false").utf8)
            case .string(let s):
                bytes.append(UInt8(ascii: "\""))
                for c in s.utf8 {
                    if c == 0x0A { throw .newlineInString(field: field.key) }
                    if c == UInt8(ascii: "\"") || c == 0x5C { bytes.append(0x5C) }
                    bytes.append(c)
                }
                bytes.append(UInt8(ascii: "\""))
            }
        }
        if let t = r.timestamp {
            let unit = precision.nanosecondsPerUnit
            guard t % unit == 0 else { throw .timestampPrecision(t, precision) }
            bytes.append(UInt8(ascii: " "))
            bytes.append(contentsOf: String(t / unit).utf8)
        }
        bytes.append(0x0A)
    }

    /// A measurement name, key or tag value with `\`, `,`, space (and `=` outside the
    /// measurement) escaped.
    private mutating func name(_ s: String, _ what: String, measurement: Bool) throws(LineWriteError) {
        if s.isEmpty { throw .emptyName(what) }
        for c in s.utf8 {
            if c < 0x20 || c == 0x7F { throw .controlCharacter(what) }
            if c == 0x5C || c == UInt8(ascii: ",") || c == 0x20 || (c == UInt8(ascii: "=") && !measurement) {
                bytes.append(0x5C)
            }
            bytes.append(c)
        }
    }
}
