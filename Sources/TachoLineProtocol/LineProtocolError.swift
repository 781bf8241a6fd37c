// Why a line was rejected (or the input could not be read), with its line:column.

/// A rejected line, or a failing byte source.
///
/// `line` is the 1-based physical line (lines end at `\n`); `column` is 1-based and counted in
/// bytes from the start of that line, like `TachoJSON.JSONError`. `description` reads
/// `line 3:17: expected '=' after field key "temp_c", found ','`.
public struct LineProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of problem. Tests match on these, messages are derived from the facts.
    public enum Kind: String, Sendable, Hashable {
        /// The line starts with `,`, `=` or a space run ends it before any measurement name.
        case expectedMeasurement
        /// `,` after the measurement or a tag is not followed by a tag key.
        case expectedTagKey
        /// A tag key is not followed by `=`.
        case expectedTagEquals
        /// `=` after a tag key is not followed by a value.
        case expectedTagValue
        /// A tag value holds an unescaped `=` (write `\=`).
        case unescapedEquals
        /// The measurement and tags are not followed by a space and a field set.
        case expectedFieldSet
        /// A field key is missing (after the space, or after `,` in the field set).
        case expectedFieldKey
        /// A field key is not followed by `=`.
        case expectedFieldEquals
        /// `=` after a field key is not followed by a value.
        case expectedFieldValue
        /// The value is neither a number, a boolean nor a quoted string (e.g. `state=on`).
        case unrecognizedFieldValue
        /// A number that does not follow the grammar (`1.2.3`, `1e`, `12ai`, `-1u`).
        case invalidNumber
        /// A number the type cannot hold: an integer beyond Int64/UInt64, a float beyond Double.
        case valueOutOfRange
        /// A quoted string field value without its closing `"` on the same line.
        case unterminatedString
        /// Something other than `,`, a space or the end of the line follows a field value.
        case expectedFieldSeparator
        /// The timestamp is not `[-]digits`.
        case invalidTimestamp
        /// The timestamp, scaled to nanoseconds by the precision, does not fit in Int64.
        case timestampOutOfRange
        /// Something other than spaces follows the timestamp.
        case trailingContent
        /// A tag key appears twice on one line.
        case duplicateTagKey
        /// A field key appears twice on one line.
        case duplicateFieldKey
        /// A `\` ends the line (it escapes nothing).
        case danglingBackslash
        /// A control character (U+0000–U+001F, U+007F; tab included) in a name, key or tag value.
        case controlCharacter
        /// Bytes that are not well-formed UTF-8.
        case invalidUTF8
        /// The line is longer than `LineProtocolOptions.maxLineBytes` (it is skipped whole).
        case lineTooLong
        /// The byte source failed; thrown, not a per-line reject.
        case io
    }

    /// The class of problem.
    public var kind: Kind
    /// 1-based physical line.
    public var line: Int
    /// 1-based column in bytes.
    public var column: Int
    /// What was expected / what went wrong, without the position.
    public var message: String

    public init(kind: Kind, line: Int, column: Int, message: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        kind == .io ? "read error after line \(line): \(message)" : "line \(line):\(column): \(message)"
    }
}

/// Renders a byte for "found …" messages: printable ASCII quoted, anything else in hex.
func describeByte(_ c: UInt8) -> String {
    if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
    switch c {
    case 0x09: return "tab"
    case 0x0D: return "carriage return"
    default:
        let hex = String(c, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}

/// Renders element bytes for messages (`"temp_c"`), shortened past 40 bytes.
func quoted(_ bytes: ArraySlice<UInt8>) -> String {
    let shown = bytes.prefix(40)
    var text = String(decoding: shown, as: UTF8.self)
    if bytes.count > 40 { text += "…" }
    return "\"" + text + "\""
}
