// The incremental pull parser: buffer management, whitespace, the container state machine.

/// An incremental, iterative JSON (RFC 8259) pull parser over a `JSONByteSource`.
///
/// Bytes are read in chunks of `options.chunkSize` into one buffer owned by the parser;
/// memory use is the chunk plus a string scratch buffer bounded by
/// `JSONLimits.maxStringBytes`, independent of file size and document shape. Nesting is
/// tracked with an explicit stack, never recursion.
///
/// Usage: call `next()` until it returns `.endOfDocument` (only then is trailing garbage
/// detected). After `.key`/`.string`, read the decoded bytes with `withStringBytes` (no
/// allocation) or `stringValue`; after `.number`, read `int64Value`/`doubleValue`. String and
/// number bytes stay valid only until the next call to `next()`/`skipValue()`.
///
/// Not thread-safe and deliberately not `Sendable`: use one parser from one thread at a
/// time. After an error is thrown, every further call rethrows that error.
public final class JSONParser {
    enum State: UInt8 {
        case start, done, finished, failed
        case arrayFirst, arrayNext, arrayValue
        case objectFirst, objectNext, objectKey, objectColon, objectValue
    }

    // Mutable state is `@exclusivity(unchecked)`: the parser is single-threaded and never
    // lends out inout access to its properties across a call that could re-enter it, so
    // the runtime's dynamic exclusivity checks (which cost ~35% of tokenizing time in a
    // final class) can never fire. Static checks still apply.

    /// The options the parser was created with.
    public let options: JSONParserOptions
    let lenient: Bool
    let maxDepth: Int
    let maxStringBytes: Int
    let maxNumberLength: Int

    // Input buffer: bytes buf[pos..<end] are unread; buf[0] is at absolute offset `base`.
    @exclusivity(unchecked) var source: any JSONByteSource
    let buf: UnsafeMutablePointer<UInt8>
    let bufCapacity: Int
    @exclusivity(unchecked) var pos = 0
    @exclusivity(unchecked) var end = 0
    @exclusivity(unchecked) var base = 0
    @exclusivity(unchecked) var eof = false

    // Line tracking. Newlines can only occur in whitespace (raw newlines in strings are
    // errors), so only the whitespace skipper updates these.
    @exclusivity(unchecked) var line = 1
    @exclusivity(unchecked) var lineStart = 0

    @exclusivity(unchecked) var state: State = .start
    @exclusivity(unchecked) var stack: ContainerStack
    @exclusivity(unchecked) var failure: JSONError?

    // Current token.
    /// The token most recently returned by `next()`, or nil before the first call.
    @exclusivity(unchecked) public private(set) var currentToken: JSONToken?
    @exclusivity(unchecked) var tokOffset = 0
    @exclusivity(unchecked) var tokLine = 1
    @exclusivity(unchecked) var tokColumn = 1

    // Current string: either a slice of `buf` or of `scratch`.
    // Read by the @inlinable accessors (withStringBytes, keyEquals, asExactInt64), which the
    // telemetry reader calls for every field from another module.
    @usableFromInline @exclusivity(unchecked) var strPtr: UnsafePointer<UInt8>?
    @usableFromInline @exclusivity(unchecked) var strLen = 0
    @exclusivity(unchecked) var scratch: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) var scratchCap: Int
    @exclusivity(unchecked) var scratchLen = 0

    // Current number.
    @exclusivity(unchecked) var numPtr: UnsafePointer<UInt8>?
    @exclusivity(unchecked) var numLen = 0
    @usableFromInline @exclusivity(unchecked) var numIsInt = true
    @usableFromInline @exclusivity(unchecked) var numInt: Int64 = 0
    @exclusivity(unchecked) var numDouble: Double = 0
    let numScratch: UnsafeMutablePointer<UInt8>

    // Position of the last comma (for trailing-comma repairs).
    @exclusivity(unchecked) var commaPosition = JSONPosition(line: 1, column: 1, offset: 0)

    /// Repairs made in lenient mode since the last `drainRepairs()` (at most
    /// `JSONLimits.maxStoredRepairs` are kept).
    @exclusivity(unchecked) public private(set) var repairs: [JSONRepair] = []
    /// Total number of repairs made (including ones not stored).
    @exclusivity(unchecked) public private(set) var repairCount = 0

    /// Creates a parser reading from `source`.
    public init(source: some JSONByteSource, options: JSONParserOptions = JSONParserOptions()) {
        self.options = options
        self.lenient = options.lenient
        self.maxDepth = options.limits.maxDepth
        self.maxStringBytes = options.limits.maxStringBytes
        self.maxNumberLength = options.limits.maxNumberLength
        self.source = source
        self.bufCapacity = max(1, options.chunkSize)
        self.buf = .allocate(capacity: bufCapacity)
        self.scratchCap = 256
        self.scratch = .allocate(capacity: 256)
        self.numScratch = .allocate(capacity: maxNumberLength + 1)
        self.stack = ContainerStack(capacity: min(maxDepth, 1024))
    }

    /// Creates a parser over in-memory bytes.
    public convenience init(bytes: [UInt8], options: JSONParserOptions = JSONParserOptions()) {
        self.init(source: BytesSource(bytes), options: options)
    }

    /// Creates a parser reading the file at `path` with read(2).
    /// Throws `ByteSourceError` if the file cannot be opened.
    public convenience init(path: String, options: JSONParserOptions = JSONParserOptions()) throws {
        self.init(source: try FileDescriptorSource(path: path), options: options)
    }

    deinit {
        buf.deallocate()
        scratch.deallocate()
        numScratch.deallocate()
        stack.base.deallocate()
    }

    // MARK: Public state

    /// Position of the first byte of the current token (for `.endOfDocument`: the end).
    public var position: JSONPosition { JSONPosition(line: tokLine, column: tokColumn, offset: tokOffset) }

    /// Number of currently open arrays/objects.
    public var depth: Int { stack.count }

    /// Bytes consumed so far (absolute offset of the next unread byte).
    public var bytesConsumed: Int { base + pos }

    /// Returns the stored repairs and clears the list (`repairCount` keeps counting).
    public func drainRepairs() -> [JSONRepair] {
        defer { repairs.removeAll(keepingCapacity: true) }
        return repairs
    }

    // MARK: Next token

    /// Reads the next token. Throws `JSONError` on malformed or truncated input.
    public func next() throws(JSONError) -> JSONToken {
        do {
            strLen = 0
            let t = try nextToken()
            currentToken = t
            return t
        } catch {
            if state != .failed {
                state = .failed
                failure = error
            }
            throw error
        }
    }

    /// Skips the next complete value (iteratively, still validating it). If the next token
    /// is a key, skips the key and its value. Returns false (having consumed it) if the next
    /// token is `]`, `}` or the end of the document instead of a value.
    @discardableResult
    public func skipValue() throws(JSONError) -> Bool {
        var t = try next()
        if t == .key { t = try next() }
        switch t {
        case .beginObject, .beginArray:
            let target = stack.count - 1
            while stack.count > target { _ = try next() }
            return true
        case .endObject, .endArray, .endOfDocument:
            return false
        default:
            return true
        }
    }

    /// Skips the rest of the innermost open array/object, consuming its closing `]`/`}`
    /// (e.g. right after `.beginObject`, or midway through its members). Does nothing at
    /// depth 0.
    public func skipToEndOfContainer() throws(JSONError) {
        let target = stack.count - 1
        while stack.count > target { _ = try next() }
    }

    @inline(__always)
    func nextToken() throws(JSONError) -> JSONToken {
        let lineBefore = line
        while true {
            guard let c = try peekNonWhitespace() else { return try endOfInput() }
            tokOffset = base &+ pos
            tokLine = line
            tokColumn = tokOffset &- lineStart &+ 1
            switch state {
            case .objectNext:
                if c == UInt8(ascii: ",") { takeComma(); state = .objectKey; continue }
                if c == UInt8(ascii: "}") { pos &+= 1; return closeContainer(.endObject) }
                if c == UInt8(ascii: "\"") && lenient && line != lineBefore {
                    addRepair(.missingComma, position, "missing ',' between object members (assumed)")
                    return try readKey()
                }
                throw unexpected(c, "expected ',' or '}' after object member")
            case .arrayNext:
                if c == UInt8(ascii: ",") { takeComma(); state = .arrayValue; continue }
                if c == UInt8(ascii: "]") { pos &+= 1; return closeContainer(.endArray) }
                if lenient && line != lineBefore && Self.startsValue(c) {
                    addRepair(.missingComma, position, "missing ',' between array elements (assumed)")
                    return try readValue(c, "expected a value")
                }
                throw unexpected(c, "expected ',' or ']' after array element")
            case .objectFirst:
                if c == UInt8(ascii: "\"") { return try readKey() }
                if c == UInt8(ascii: "}") { pos &+= 1; return closeContainer(.endObject) }
                throw unexpected(c, "expected string key or '}' after '{'")
            case .objectKey:
                if c == UInt8(ascii: "\"") { return try readKey() }
                if c == UInt8(ascii: "}") && lenient {
                    addRepair(.trailingComma, commaPosition, "trailing ',' before '}' (ignored)")
                    pos &+= 1
                    return closeContainer(.endObject)
                }
                throw unexpected(c, "expected string key after ',' in object")
            case .objectColon:
                if c == UInt8(ascii: ":") { pos &+= 1; state = .objectValue; continue }
                throw unexpected(c, "expected ':' after object key")
            case .objectValue:
                return try readValue(c, "expected a value after ':'")
            case .arrayFirst:
                if c == UInt8(ascii: "]") { pos &+= 1; return closeContainer(.endArray) }
                return try readValue(c, "expected a value or ']' after '['")
            case .arrayValue:
                if c == UInt8(ascii: "]") && lenient {
                    addRepair(.trailingComma, commaPosition, "trailing ',' before ']' (ignored)")
                    pos &+= 1
                    return closeContainer(.endArray)
                }
                return try readValue(c, "expected a value after ',' in array")
            case .start:
                if c == 0xEF && tokOffset == 0 { try skipByteOrderMark(); continue }
                return try readValue(c, "expected a JSON value")
            case .done:
                if options.valueSequence && line != lineBefore {
                    return try readValue(c, "expected a JSON value")
                }
                throw JSONError(kind: .trailingContent, position: position,
                                message: "unexpected \(describeByte(c)) after the top-level value")
            case .finished:
                return .endOfDocument
            case .failed:
                throw failure!
            }
        }
    }

    @inline(__always)
    static func startsValue(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "-"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            return true
        default:
            return false
        }
    }

    @inline(__always)
    func readValue(_ c: UInt8, _ expectation: StaticString) throws(JSONError) -> JSONToken {
        switch c {
        case UInt8(ascii: "\""):
            try scanString()
            afterValue()
            return .string
        case UInt8(ascii: "{"):
            try push(true)
            state = .objectFirst
            return .beginObject
        case UInt8(ascii: "["):
            try push(false)
            state = .arrayFirst
            return .beginArray
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            afterValue()
            return .number
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            afterValue()
            return .bool(true)
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            afterValue()
            return .bool(false)
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            afterValue()
            return .null
        default:
            throw unexpected(c, expectation)
        }
    }

    @inline(__always)
    func readKey() throws(JSONError) -> JSONToken {
        try scanString()
        if lenient { trimKeyWhitespace() }
        // The usual `"key":` takes its colon now: one pass of `nextToken`'s loop less per
        // member. Nothing observable moves (token positions are the key's and the value's).
        if pos < end && buf[pos] == UInt8(ascii: ":") {
            pos &+= 1
            state = .objectValue
        } else {
            state = .objectColon
        }
        return .key
    }

    /// The state after a value or a closed container; a `,` right after it is taken now
    /// (recording its position for trailing-comma repairs, as `takeComma` does), which saves
    /// `nextToken` a pass of its loop per member and element.
    @inline(__always)
    func afterValue() {
        guard stack.count > 0 else {
            state = .done
            return
        }
        let inObject = stack.base[stack.count &- 1]
        if pos < end && buf[pos] == UInt8(ascii: ",") {
            commaPosition = positionAt(base &+ pos)
            pos &+= 1
            state = inObject ? .objectKey : .arrayValue
        } else {
            state = inObject ? .objectNext : .arrayNext
        }
    }

    @inline(__always)
    func push(_ isObject: Bool) throws(JSONError) {
        if stack.count >= maxDepth {
            throw JSONError(kind: .depthLimitExceeded, position: position,
                            message: "nesting depth exceeds JSONLimits.maxDepth (\(maxDepth))")
        }
        if stack.count == stack.capacity { stack.grow(limit: maxDepth) }
        stack.base[stack.count] = isObject
        stack.count &+= 1
        pos &+= 1
    }

    /// Only called in a state inside a container, so one is open.
    @inline(__always)
    func closeContainer(_ t: JSONToken) -> JSONToken {
        precondition(stack.count > 0)
        stack.count &-= 1
        afterValue()
        return t
    }

    @inline(__always)
    func takeComma() {
        commaPosition = position
        pos &+= 1
    }

    func addRepair(_ kind: JSONRepair.Kind, _ at: JSONPosition, _ message: String) {
        repairCount += 1
        if repairs.count < options.limits.maxStoredRepairs {
            repairs.append(JSONRepair(kind: kind, position: at, message: message))
        }
    }

    func endOfInput() throws(JSONError) -> JSONToken {
        tokOffset = base &+ pos
        tokLine = line
        tokColumn = tokOffset &- lineStart &+ 1
        let what: String
        switch state {
        case .start:
            throw JSONError(kind: .emptyInput, position: position, message: "empty input: expected a JSON value")
        case .done, .finished:
            state = .finished
            return .endOfDocument
        case .failed: throw failure!
        case .arrayFirst: what = "unclosed array: expected a value or ']'"
        case .arrayNext: what = "unclosed array: expected ',' or ']'"
        case .arrayValue: what = "unclosed array: expected a value after ','"
        case .objectFirst: what = "unclosed object: expected a key or '}'"
        case .objectNext: what = "unclosed object: expected ',' or '}'"
        case .objectKey: what = "unclosed object: expected a key after ','"
        case .objectColon: what = "unclosed object: expected ':' after key"
        case .objectValue: what = "unclosed object: expected a value after ':'"
        }
        throw JSONError(kind: .truncated, position: position, message: what)
    }

    func skipByteOrderMark() throws(JSONError) {
        let at = position
        for expected: UInt8 in [0xEF, 0xBB, 0xBF] {
            if pos == end {
                guard try refill() else {
                    throw JSONError(kind: .truncated, position: positionAt(base &+ pos),
                                    message: "incomplete byte order mark")
                }
            }
            if buf[pos] != expected {
                throw JSONError(kind: .unexpectedCharacter, position: positionAt(base &+ pos),
                                message: "expected a JSON value, found \(describeByte(buf[pos]))")
            }
            pos &+= 1
        }
        if !lenient {
            throw JSONError(kind: .byteOrderMark, position: at,
                            message: "UTF-8 byte order mark is not allowed in strict mode")
        }
        addRepair(.byteOrderMark, at, "UTF-8 byte order mark at start of input (skipped)")
    }
}

/// The open containers, innermost last (true = object). Raw memory rather than an Array:
/// every bracket pushes or pops, and an Array checks uniqueness and capacity each time.
/// Owned (and deallocated) by its parser.
struct ContainerStack {
    var base: UnsafeMutablePointer<Bool>
    var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
    }

    mutating func grow(limit: Int) {
        let cap = min(capacity * 2, limit)
        let fresh = UnsafeMutablePointer<Bool>.allocate(capacity: cap)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = cap
    }
}
