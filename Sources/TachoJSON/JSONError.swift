// Errors, positions and lenient-mode repair reports.

/// A position in the input.
///
/// `line` and `column` are 1-based. Columns are counted in **bytes** from the start of the
/// line (Python's `json` counts characters; the two agree for ASCII lines). Lines are
/// separated by `\n` only. `offset` is the 0-based byte offset from the start of the input
/// (a UTF-8 BOM, if present, counts).
public struct JSONPosition: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// 1-based column, counted in bytes.
    public var column: Int
    /// 0-based byte offset from the start of the input.
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "line \(line), column \(column) (offset \(offset))" }
}

/// A parse failure, with the position of the offending byte.
///
/// `description` reads like `line 20, column 7: expected ',' or '}' after object member,
/// found '"'`, or for truncated input `unexpected end of input at line 12, column 3
/// (offset 311): unterminated string`.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of problem.
    public enum Kind: String, Sendable, Hashable {
        /// The input ended inside a value (position = where it ended).
        case truncated
        /// The input holds no value at all (empty or whitespace only).
        case emptyInput
        /// A byte that cannot start or continue the expected syntax.
        case unexpectedCharacter
        /// A misspelled `true`, `false` or `null`.
        case invalidLiteral
        /// A number that does not follow the RFC 8259 grammar (e.g. leading zeros, `1.`).
        case invalidNumber
        /// A malformed backslash escape.
        case invalidEscape
        /// A `\u` escape of an unpaired UTF-16 surrogate.
        case loneSurrogate
        /// Bytes inside a string that are not well-formed UTF-8.
        case invalidUTF8
        /// An unescaped control character (U+0000…U+001F) inside a string.
        case controlCharacter
        /// Nesting deeper than `JSONLimits.maxDepth`.
        case depthLimitExceeded
        /// A decoded string longer than `JSONLimits.maxStringBytes`.
        case stringLimitExceeded
        /// A number literal longer than `JSONLimits.maxNumberLength`.
        case numberLimitExceeded
        /// Non-whitespace content after the top-level value.
        case trailingContent
        /// A UTF-8 byte order mark in strict mode.
        case byteOrderMark
        /// The byte source failed.
        case io
    }

    /// The class of problem.
    public var kind: Kind
    /// 1-based line of the problem (for `truncated`: where the input ended).
    public var line: Int
    /// 1-based column in bytes.
    public var column: Int
    /// 0-based byte offset.
    public var offset: Int
    /// What was expected / what went wrong, without the position.
    public var message: String

    public init(kind: Kind, position: JSONPosition, message: String) {
        self.kind = kind
        self.line = position.line
        self.column = position.column
        self.offset = position.offset
        self.message = message
    }

    /// Where the problem is.
    public var position: JSONPosition { JSONPosition(line: line, column: column, offset: offset) }

    public var description: String {
        switch kind {
        case .truncated:
            return "unexpected end of input at line \(line), column \(column) (offset \(offset)): \(message)"
        case .io:
            return "read error at offset \(offset): \(message)"
        default:
            return "line \(line), column \(column): \(message)"
        }
    }
}

/// A repair made in lenient mode, reported as a warning.
public struct JSONRepair: Sendable, Hashable, CustomStringConvertible {
    /// The class of damage that was repaired.
    public enum Kind: String, Sendable, Hashable {
        /// A `,` directly before `]` or `}` was ignored (position = the comma).
        case trailingComma
        /// A missing `,` between two elements on different lines was assumed
        /// (position = the start of the second element).
        case missingComma
        /// An object key had leading/trailing whitespace; it was delivered trimmed
        /// (position = the key's opening quote).
        case keyWhitespace
        /// A UTF-8 byte order mark at the start of the input was skipped.
        case byteOrderMark
    }

    public var kind: Kind
    public var line: Int
    public var column: Int
    public var offset: Int
    public var message: String

    public init(kind: Kind, position: JSONPosition, message: String) {
        self.kind = kind
        self.line = position.line
        self.column = position.column
        self.offset = position.offset
        self.message = message
    }

    public var position: JSONPosition { JSONPosition(line: line, column: column, offset: offset) }

    public var description: String { "line \(line), column \(column): warning: \(message)" }
}

/// Renders a byte for "found …" messages: printable ASCII quoted, anything else in hex.
@usableFromInline
func describeByte(_ c: UInt8) -> String {
    if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
    switch c {
    case 0x0A: return "newline"
    case 0x09: return "tab"
    case 0x0D: return "carriage return"
    default:
        let hex = String(c, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
