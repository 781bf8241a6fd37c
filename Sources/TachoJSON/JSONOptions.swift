// Tokens, limits and parser options.

/// One event of the pull parser.
public enum JSONToken: Sendable, Hashable {
    /// `{`
    case beginObject
    /// `}`
    case endObject
    /// `[`
    case beginArray
    /// `]`
    case endArray
    /// An object key; read it with `withStringBytes`, `stringValue` or `keyEquals`.
    case key
    /// A string value; read it with `withStringBytes` or `stringValue`.
    case string
    /// A number; read it with `int64Value`, `doubleValue`, `isInteger`, `asExactInt64`.
    case number
    /// `true` or `false`.
    case bool(Bool)
    /// `null`
    case null
    /// The top-level value is complete and only whitespace followed it.
    case endOfDocument

    /// Hand-written so comparisons like `t == .endArray` inline into callers in other modules.
    @inlinable
    public static func == (a: JSONToken, b: JSONToken) -> Bool {
        switch (a, b) {
        case (.beginObject, .beginObject), (.endObject, .endObject), (.beginArray, .beginArray),
             (.endArray, .endArray), (.key, .key), (.string, .string), (.number, .number),
             (.null, .null), (.endOfDocument, .endOfDocument):
            return true
        case (.bool(let x), .bool(let y)):
            return x == y
        default:
            return false
        }
    }
}

/// Resource limits. Exceeding one is an error whose kind and message name the limit.
public struct JSONLimits: Sendable, Hashable {
    /// Maximum number of simultaneously open arrays/objects. Default 256.
    /// The parser is iterative, so this bounds memory, not stack use.
    public var maxDepth: Int
    /// Maximum length of one decoded (unescaped) string or key in bytes. Default 1 MiB
    /// (1,048,576). Bounds the scratch buffer used for strings that span chunks.
    public var maxStringBytes: Int
    /// Maximum length of one number literal in bytes (sign, digits, `.`, exponent).
    /// Default 512.
    public var maxNumberLength: Int
    /// Maximum number of lenient-mode repairs kept for `repairs` between drains; further
    /// repairs are still made and counted in `repairCount` but not stored. Default 10,000.
    public var maxStoredRepairs: Int

    public init(
        maxDepth: Int = 256,
        maxStringBytes: Int = 1 << 20,
        maxNumberLength: Int = 512,
        maxStoredRepairs: Int = 10_000
    ) {
        precondition(maxDepth >= 1 && maxStringBytes >= 0 && maxNumberLength >= 1 && maxStoredRepairs >= 0)
        self.maxDepth = maxDepth
        self.maxStringBytes = maxStringBytes
        self.maxNumberLength = maxNumberLength
        self.maxStoredRepairs = maxStoredRepairs
    }

    /// All defaults.
    public static let `default` = JSONLimits()
}

/// Parser configuration.
public struct JSONParserOptions: Sendable, Hashable {
    /// Lenient mode repairs exactly these damages, each reported as a `JSONRepair`:
    /// trailing commas before `]`/`}`; a missing comma between elements/members separated
    /// by at least one newline; object keys with leading/trailing whitespace (delivered
    /// trimmed); a UTF-8 BOM at the start. Everything else is still an error.
    /// Default `false` (strict RFC 8259).
    public var lenient: Bool
    /// Resource limits.
    public var limits: JSONLimits
    /// Bytes requested from the source per read; the parser's buffer has this size.
    /// Default 256 KiB. Values below 1 are treated as 1.
    public var chunkSize: Int
    /// Read a sequence of top-level values, each starting on a new line (NDJSON / JSON
    /// Lines): after a value, `next()` returns the next one's first token, and
    /// `.endOfDocument` only at the end of the input. Default `false` (one value).
    public var valueSequence: Bool

    public init(lenient: Bool = false, limits: JSONLimits = .default, chunkSize: Int = 256 * 1024, valueSequence: Bool = false) {
        self.lenient = lenient
        self.limits = limits
        self.chunkSize = max(1, chunkSize)
        self.valueSequence = valueSequence
    }
}
