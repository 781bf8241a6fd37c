// libFuzzer target: TachoJSON's pull parser.
//
// Input: byte 0 = flags (bit 0 lenient, bit 1 skip containers with skipValue(), bit 2 small
// limits), byte 1 = small chunk size (1…32), the rest = the document.
// Oracles: no crash, no sanitizer report, no hang; and the same token stream (with string and
// number bytes, positions) and the same error (kind, line, column, offset) whether the parser
// reads the document in one chunk or in tiny ones; error positions agree with the bytes.
import TachoJSON

struct Event: Equatable {
    var token: JSONToken
    var bytes: [UInt8]
    var offset: Int
    var line: Int
    var column: Int
}

func run(_ doc: [UInt8], options: JSONParserOptions, skip: Bool) -> ([Event], JSONError?) {
    let p = JSONParser(bytes: doc, options: options)
    var events: [Event] = []
    var n = 0
    do {
        while n < 1_000_000 {
            n += 1
            let t = try p.next()
            var bytes: [UInt8] = []
            switch t {
            case .key, .string:
                bytes = p.withStringBytes { Array($0) }
                _ = p.stringValue
                _ = bytes.withUnsafeBytes { Timestamp.parseMicros($0) }
            case .number:
                bytes = p.withNumberBytes { Array($0) }
                _ = p.int64Value
                _ = p.doubleValue
                _ = p.asExactInt64
                _ = p.isInteger
            default:
                break
            }
            let pos = p.position
            events.append(Event(token: t, bytes: bytes, offset: pos.offset, line: pos.line, column: pos.column))
            if t == .endOfDocument { break }
            if skip && (t == .beginArray || t == .beginObject) && n % 3 == 0 {
                try p.skipToEndOfContainer()
                events.append(Event(token: .null, bytes: [], offset: p.bytesConsumed, line: 0, column: 0))
            }
        }
        return (events, nil)
    } catch {
        _ = p.drainRepairs()
        return (events, error)
    }
}

/// One input (LLVMFuzzerTestOneInput).
func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let flags = data[0]
    let small = 1 + Int(data[1] % 32)
    let doc = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    var limits = JSONLimits.default
    if flags & 4 != 0 {
        limits.maxDepth = 4
        limits.maxStringBytes = 16
        limits.maxNumberLength = 8
        limits.maxStoredRepairs = 2
    }
    let lenient = flags & 1 != 0
    let skip = flags & 2 != 0
    let (refEvents, refError) = run(doc, options: JSONParserOptions(lenient: lenient, limits: limits, chunkSize: 1 << 16), skip: skip)
    let (events, error) = run(doc, options: JSONParserOptions(lenient: lenient, limits: limits, chunkSize: small), skip: skip)
    if events != refEvents {
        fatalError("token streams differ between chunk sizes 65536 and \(small): \(refEvents.count) vs \(events.count) events")
    }
    if let e = refError {
        guard let f = error, f == e else {
            fatalError("errors differ between chunk sizes 65536 and \(small): \(e) vs \(String(describing: error))")
        }
        // The position must agree with the bytes: line = newlines before offset + 1.
        guard e.offset >= 0, e.offset <= doc.count else { fatalError("error offset \(e.offset) outside 0…\(doc.count): \(e)") }
        let before = doc[0..<e.offset]
        let line = before.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        let lineStart = (before.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
        if e.line != line || e.column != e.offset - lineStart + 1 {
            fatalError("error position \(e.line):\(e.column) does not match offset \(e.offset) (expected \(line):\(e.offset - lineStart + 1))")
        }
    } else if let f = error {
        fatalError("chunk size \(small) fails where 65536 does not: \(f)")
    }
    return 0
}
