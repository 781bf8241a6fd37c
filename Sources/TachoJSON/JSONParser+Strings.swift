// String scanning: the unescaped in-chunk fast path, escapes, UTF-8 validation, accessors.

extension JSONParser {
    // MARK: Accessors

    /// Calls `body` with the decoded (unescaped, UTF-8) bytes of the current `.key` or
    /// `.string` token, without allocating. The buffer is valid only inside `body`.
    /// For other tokens the buffer is empty.
    @inlinable @inline(__always)
    public func withStringBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: strPtr, count: strLen))
    }

    /// The current `.key`/`.string` token as a String (allocates for long strings).
    public var stringValue: String {
        String(decoding: UnsafeBufferPointer(start: strPtr, count: strLen), as: UTF8.self)
    }

    /// True if the current key/string's decoded bytes equal `s`'s UTF-8 bytes.
    @inlinable @inline(__always)
    public func keyEquals(_ s: StaticString) -> Bool {
        guard s.hasPointerRepresentation else {
            return stringValue == s.description
        }
        let n = s.utf8CodeUnitCount
        guard n == strLen else { return false }
        if n == 0 { return true }
        return memEqual(strPtr!, s.utf8Start, n)
    }

    /// True if the current key/string's decoded bytes equal `bytes`.
    public func stringEquals(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == strLen else { return false }
        if strLen == 0 { return true }
        return memEqual(strPtr!, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), strLen)
    }

    @inlinable @inline(__always)
    func memEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i &+ 8 <= n {
            if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self)
                != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
            i &+= 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i &+= 1
        }
        return true
    }

    // MARK: Scanning

    /// Index of the first byte in buf[p..<end] that is `"`, `\`, a control character or
    /// non-ASCII; `end` if none. Eight bytes at a time.
    @inline(__always)
    func findSpecial(from start: Int) -> Int {
        var p = start
        let e = end
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        while p &+ 8 <= e {
            let w = UInt64(littleEndian: UnsafeRawPointer(buf + p).loadUnaligned(as: UInt64.self))
            let q = w ^ (ones &* 0x22)
            let b = w ^ (ones &* 0x5C)
            let m = (((q &- ones) & ~q) | ((b &- ones) & ~b) | ((w &- ones &* 0x20) & ~w) | w) & high
            if m != 0 { return p &+ (m.trailingZeroBitCount &>> 3) }
            p &+= 8
        }
        while p < e {
            let c = buf[p]
            if c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80 { return p }
            p &+= 1
        }
        return e
    }

    /// Scans a string starting at the opening quote at `pos`. On return the decoded bytes
    /// are at strPtr/strLen and `pos` is past the closing quote.
    @inline(__always)
    func scanString() throws(JSONError) {
        let startAbs = base &+ pos
        pos &+= 1
        // Fast path: no escapes, all inside this chunk, ASCII until the quote.
        let p = findSpecial(from: pos)
        if p < end && buf[p] == 0x22 {
            let n = p &- pos
            if n > maxStringBytes { throw stringLimitError(startAbs) }
            strPtr = UnsafePointer(buf + pos)
            strLen = n
            pos = p &+ 1
            return
        }
        try scanStringGeneral(startAbs: startAbs, from: p)
    }

    /// General string scanner: UTF-8 validation, escapes, strings spanning chunks.
    /// `p` is the first special byte at or after `pos` (or `end`).
    func scanStringGeneral(startAbs: Int, from first: Int) throws(JSONError) {
        var copying = false
        scratchLen = 0
        var runStart = pos
        var p = first
        while true {
            if p == end {
                try scratchAppend(buf + runStart, p &- runStart, startAbs)
                copying = true
                pos = end
                guard try refill() else { throw truncatedError("unterminated string") }
                runStart = 0
                p = findSpecial(from: 0)
                continue
            }
            let c = buf[p]
            if c == 0x22 {
                if copying {
                    try scratchAppend(buf + runStart, p &- runStart, startAbs)
                    strPtr = UnsafePointer(scratch)
                    strLen = scratchLen
                } else {
                    if p &- runStart > maxStringBytes { throw stringLimitError(startAbs) }
                    strPtr = UnsafePointer(buf + runStart)
                    strLen = p &- runStart
                }
                pos = p &+ 1
                return
            }
            if c == 0x5C {
                try scratchAppend(buf + runStart, p &- runStart, startAbs)
                copying = true
                pos = p &+ 1
                try decodeEscape(escapeAbs: base &+ p, startAbs: startAbs)
                runStart = pos
                p = findSpecial(from: pos)
                continue
            }
            // A string already over the limit reports that first, as it does when its bytes
            // were copied at a chunk boundary: the error must not depend on the chunk size.
            if c < 0x20 {
                if scratchLen &+ (p &- runStart) > maxStringBytes { throw stringLimitError(startAbs) }
                pos = p
                throw JSONError(kind: .controlCharacter, position: positionAt(base &+ p),
                                message: "unescaped control character (\(describeByte(c))) in string")
            }
            // Non-ASCII: validate one UTF-8 sequence.
            let (len, lo, hi) = Self.utf8Lead(c)
            if len == 0 || (p &+ len <= end && !Self.utf8Valid(buf + p, len, lo, hi)) {
                if scratchLen &+ (p &- runStart) > maxStringBytes { throw stringLimitError(startAbs) }
                throw invalidUTF8(at: base &+ p, c)
            }
            if p &+ len <= end {
                p = findSpecial(from: p &+ len)
                continue
            }
            // The sequence crosses the chunk boundary: validate it byte by byte, then copy it
            // (validating first, like the in-chunk path, so the error does not depend on it).
            try scratchAppend(buf + runStart, p &- runStart, startAbs)
            copying = true
            let leadAbs = base &+ p
            pos = p &+ 1
            var sequence = UInt32(c)
            for k in 1..<len {
                let b = try stringByte()
                let ok = k == 1 ? (b >= lo && b <= hi) : (b & 0xC0 == 0x80)
                if !ok {
                    throw invalidUTF8(at: leadAbs, c)
                }
                sequence |= UInt32(b) << (8 * UInt32(k))
            }
            for k in 0..<len { try scratchAppendByte(UInt8(truncatingIfNeeded: sequence >> (8 * UInt32(k))), startAbs) }
            runStart = pos
            p = findSpecial(from: pos)
        }
    }

    /// (sequence length, allowed range of the second byte) for a UTF-8 lead byte;
    /// length 0 if `c` cannot start a well-formed sequence (Unicode Table 3-7).
    @inline(__always)
    static func utf8Lead(_ c: UInt8) -> (Int, UInt8, UInt8) {
        switch c {
        case 0xC2...0xDF: return (2, 0x80, 0xBF)
        case 0xE0: return (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: return (3, 0x80, 0xBF)
        case 0xED: return (3, 0x80, 0x9F)
        case 0xF0: return (4, 0x90, 0xBF)
        case 0xF1...0xF3: return (4, 0x80, 0xBF)
        case 0xF4: return (4, 0x80, 0x8F)
        default: return (0, 0, 0)
        }
    }

    /// Whether the `len` bytes at `q` (all in the buffer) are one well-formed sequence whose
    /// lead `utf8Lead` gave `len`, `lo`, `hi`.
    @inline(__always)
    static func utf8Valid(_ q: UnsafeMutablePointer<UInt8>, _ len: Int, _ lo: UInt8, _ hi: UInt8) -> Bool {
        let b1 = q[1]
        if b1 < lo || b1 > hi { return false }
        if len >= 3 && q[2] & 0xC0 != 0x80 { return false }
        if len == 4 && q[3] & 0xC0 != 0x80 { return false }
        return true
    }

    func invalidUTF8(at abs: Int, _ c: UInt8) -> JSONError {
        JSONError(kind: .invalidUTF8, position: positionAt(abs),
                  message: "invalid UTF-8 sequence in string starting with \(describeByte(c))")
    }

    func stringLimitError(_ startAbs: Int) -> JSONError {
        JSONError(kind: .stringLimitExceeded, position: positionAt(startAbs),
                  message: "string longer than JSONLimits.maxStringBytes (\(maxStringBytes) bytes)")
    }

    /// Next byte inside a string, refilling as needed; end of input is `truncated`.
    @inline(__always)
    func stringByte() throws(JSONError) -> UInt8 {
        if pos == end {
            guard try refill() else { throw truncatedError("unterminated string") }
        }
        let c = buf[pos]
        pos &+= 1
        return c
    }

    /// Decodes the escape after a backslash (`pos` is just past it) into the scratch buffer.
    func decodeEscape(escapeAbs: Int, startAbs: Int) throws(JSONError) {
        let e = try stringByte()
        let out: UInt8
        switch e {
        case UInt8(ascii: "\""): out = 0x22
        case UInt8(ascii: "\\"): out = 0x5C
        case UInt8(ascii: "/"): out = 0x2F
        case UInt8(ascii: "b"): out = 0x08
        case UInt8(ascii: "f"): out = 0x0C
        case UInt8(ascii: "n"): out = 0x0A
        case UInt8(ascii: "r"): out = 0x0D
        case UInt8(ascii: "t"): out = 0x09
        case UInt8(ascii: "u"):
            var cp = try hex4()
            if cp >= 0xD800 && cp <= 0xDBFF {
                let b1 = try stringByte()
                let b2 = b1 == 0x5C ? try stringByte() : 0
                if b1 != 0x5C || b2 != UInt8(ascii: "u") {
                    throw JSONError(kind: .loneSurrogate, position: positionAt(escapeAbs),
                                    message: "unpaired high surrogate \\u\(hexString(cp)) in string")
                }
                let low = try hex4()
                if low < 0xDC00 || low > 0xDFFF {
                    throw JSONError(kind: .loneSurrogate, position: positionAt(escapeAbs),
                                    message: "high surrogate \\u\(hexString(cp)) not followed by a low surrogate")
                }
                cp = 0x10000 &+ ((cp &- 0xD800) &<< 10) &+ (low &- 0xDC00)
            } else if cp >= 0xDC00 && cp <= 0xDFFF {
                throw JSONError(kind: .loneSurrogate, position: positionAt(escapeAbs),
                                message: "unpaired low surrogate \\u\(hexString(cp)) in string")
            }
            try appendScalar(cp, startAbs)
            return
        default:
            throw JSONError(kind: .invalidEscape, position: positionAt(escapeAbs),
                            message: "invalid escape in string: backslash followed by \(describeByte(e))")
        }
        try scratchAppendByte(out, startAbs)
    }

    func hexString(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// Reads four hex digits of a `\u` escape.
    func hex4() throws(JSONError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = try stringByte()
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c &- 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c &- 0x61 &+ 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c &- 0x41 &+ 10)
            default:
                throw JSONError(kind: .invalidEscape, position: positionAt(base &+ pos &- 1),
                                message: "invalid \\u escape: expected 4 hex digits, found \(describeByte(c))")
            }
            v = v &<< 4 | d
        }
        return v
    }

    func appendScalar(_ cp: UInt32, _ startAbs: Int) throws(JSONError) {
        if cp < 0x80 {
            try scratchAppendByte(UInt8(cp), startAbs)
        } else if cp < 0x800 {
            try scratchAppendByte(UInt8(0xC0 | (cp >> 6)), startAbs)
            try scratchAppendByte(UInt8(0x80 | (cp & 0x3F)), startAbs)
        } else if cp < 0x10000 {
            try scratchAppendByte(UInt8(0xE0 | (cp >> 12)), startAbs)
            try scratchAppendByte(UInt8(0x80 | ((cp >> 6) & 0x3F)), startAbs)
            try scratchAppendByte(UInt8(0x80 | (cp & 0x3F)), startAbs)
        } else {
            try scratchAppendByte(UInt8(0xF0 | (cp >> 18)), startAbs)
            try scratchAppendByte(UInt8(0x80 | ((cp >> 12) & 0x3F)), startAbs)
            try scratchAppendByte(UInt8(0x80 | ((cp >> 6) & 0x3F)), startAbs)
            try scratchAppendByte(UInt8(0x80 | (cp & 0x3F)), startAbs)
        }
    }

    // MARK: Scratch buffer

    func scratchAppend(_ src: UnsafePointer<UInt8>, _ n: Int, _ startAbs: Int) throws(JSONError) {
        if n <= 0 { return }
        let newLen = scratchLen &+ n
        if newLen > maxStringBytes { throw stringLimitError(startAbs) }
        if newLen > scratchCap { growScratch(newLen) }
        (scratch + scratchLen).update(from: src, count: n)
        scratchLen = newLen
    }

    @inline(__always)
    func scratchAppendByte(_ b: UInt8, _ startAbs: Int) throws(JSONError) {
        if scratchLen >= maxStringBytes { throw stringLimitError(startAbs) }
        if scratchLen == scratchCap { growScratch(scratchLen &+ 1) }
        scratch[scratchLen] = b
        scratchLen &+= 1
    }

    func growScratch(_ needed: Int) {
        let newCap = max(needed, scratchCap &* 2)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
        fresh.update(from: scratch, count: scratchLen)
        scratch.deallocate()
        scratch = fresh
        scratchCap = newCap
    }

    /// Lenient mode: trims ASCII whitespace around the current key, with a repair warning.
    func trimKeyWhitespace() {
        guard strLen > 0, let p = strPtr else { return }
        func isWS(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        if !isWS(p[0]) && !isWS(p[strLen &- 1]) { return }
        let original = stringValue
        var lo = 0
        var hi = strLen
        while lo < hi && isWS(p[lo]) { lo &+= 1 }
        while hi > lo && isWS(p[hi &- 1]) { hi &-= 1 }
        strPtr = p + lo
        strLen = hi &- lo
        addRepair(.keyWhitespace, position,
                  "object key \(quoted(original)) has leading/trailing whitespace (trimmed to \(quoted(stringValue)))")
    }

    func quoted(_ s: String) -> String { jsonQuoted(s) }
}
