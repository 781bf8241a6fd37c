// Number and literal scanning, and the number accessors.

extension JSONParser {
    // MARK: Accessors

    // A number's range is its reader's business, not the grammar's: any literal that follows
    // RFC 8259 is a `.number` token, however large (`1e400`, `99999999999999999999`), so a
    // reader can reject the one record whose field cannot hold it and go on with the file.
    // The accessors say what fits: `int64Value`/`asExactInt64` are nil outside Int64, and
    // `doubleValue` is ±infinity beyond Double's range. (Only the literal's length is limited,
    // by `JSONLimits.maxNumberLength`.)

    /// True if the current number is an integer literal (no fraction, no exponent: `3`, not
    /// `3.0`) within Int64, i.e. `int64Value` is non-nil.
    public var isInteger: Bool { numIsInt }

    /// The exact value of the current number if it is an integer literal within Int64
    /// (`isInteger`); nil for literals with a fraction or exponent (see `asExactInt64`) and
    /// for integers outside Int64 (never wrapped).
    public var int64Value: Int64? { numIsInt ? numInt : nil }

    /// The current number as a Double (correctly rounded; integers within Int64 converted
    /// from Int64): ±infinity when its magnitude is beyond Double's range (`1e400`), so check
    /// `isFinite` where that matters.
    public var doubleValue: Double { numDouble }

    /// The current number as an Int64 if its decimal value is an exact integer in range:
    /// `3` → 3, `3.0` → 3, `1.5e1` → 15, `3.5` → nil, `1e19` → nil. Computed from the
    /// literal's digits, not from the Double.
    @inlinable
    public var asExactInt64: Int64? {
        numIsInt ? numInt : exactInt64OfLiteral()
    }

    /// `asExactInt64` for literals with a fraction or exponent.
    @usableFromInline
    func exactInt64OfLiteral() -> Int64? {
        guard let p = numPtr, numLen > 0 else { return nil }
        let n = numLen
        var i = 0
        let neg = p[0] == UInt8(ascii: "-")
        if neg { i = 1 }
        let intStart = i
        while i < n && Self.isDigit(p[i]) { i &+= 1 }
        let intEnd = i
        var fracStart = i
        var fracEnd = i
        if i < n && p[i] == UInt8(ascii: ".") {
            i &+= 1
            fracStart = i
            while i < n && Self.isDigit(p[i]) { i &+= 1 }
            fracEnd = i
        }
        var exp = 0
        if i < n && (p[i] | 0x20) == UInt8(ascii: "e") {
            i &+= 1
            var expNeg = false
            if i < n && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
                expNeg = p[i] == UInt8(ascii: "-")
                i &+= 1
            }
            while i < n && Self.isDigit(p[i]) {
                if exp < 1_000_000 { exp = exp &* 10 &+ Int(p[i] &- 0x30) }
                i &+= 1
            }
            if expNeg { exp = -exp }
        }
        // Digit sequence = int digits ++ frac digits; the decimal point sits after
        // `pointPos` digits.
        let intCount = intEnd &- intStart
        let total = intCount &+ (fracEnd &- fracStart)
        let pointPos = intCount &+ exp
        var acc: UInt64 = 0
        for k in 0..<total {
            let c = k < intCount ? p[intStart &+ k] : p[fracStart &+ k &- intCount]
            let d = UInt64(c &- 0x30)
            if k < pointPos {
                let (m, o1) = acc.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(d)
                if o1 || o2 { return nil }
                acc = s
            } else if d != 0 {
                return nil
            }
        }
        if pointPos > total && acc != 0 {
            for _ in 0..<(pointPos &- total) {
                let (m, o) = acc.multipliedReportingOverflow(by: 10)
                if o { return nil }
                acc = m
            }
        }
        return Self.signed(acc, neg)
    }

    /// Calls `body` with the raw literal bytes of the current number (e.g. `-1.5e3`).
    public func withNumberBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: numPtr, count: numLen))
    }

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }

    @inline(__always)
    static func isNumberByte(_ c: UInt8) -> Bool {
        c &- 0x30 < 10 || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e")
            || c == UInt8(ascii: "+")
    }

    static func signed(_ magnitude: UInt64, _ neg: Bool) -> Int64? {
        if neg {
            if magnitude > UInt64(Int64.max) &+ 1 { return nil }
            return magnitude == UInt64(Int64.max) &+ 1 ? Int64.min : -Int64(magnitude)
        }
        return magnitude > UInt64(Int64.max) ? nil : Int64(magnitude)
    }

    // MARK: Scanning

    /// Scans the number starting at `pos` (a `-` or digit).
    @inline(__always)
    func scanNumber() throws(JSONError) {
        let startAbs = base &+ pos
        var p = pos
        let e = end
        while p < e && Self.isNumberByte(buf[p]) { p &+= 1 }
        if p < e {
            let n = p &- pos
            if n > maxNumberLength { throw numberLimitError(startAbs) }
            let lit = UnsafePointer(buf + pos)
            pos = p
            try parseNumber(lit, n, startAbs: startAbs, hitEOF: false)
            return
        }
        try scanNumberAcrossChunks(startAbs: startAbs)
    }

    /// Slow path: the literal reaches the end of the chunk; gather it in numScratch.
    func scanNumberAcrossChunks(startAbs: Int) throws(JSONError) {
        var n = 0
        var hitEOF = false
        while true {
            while pos < end && Self.isNumberByte(buf[pos]) {
                if n >= maxNumberLength { throw numberLimitError(startAbs) }
                numScratch[n] = buf[pos]
                n &+= 1
                pos &+= 1
            }
            if pos < end { break }
            if try !refill() {
                hitEOF = true
                break
            }
        }
        try parseNumber(UnsafePointer(numScratch), n, startAbs: startAbs, hitEOF: hitEOF)
    }

    func numberLimitError(_ startAbs: Int) -> JSONError {
        JSONError(kind: .numberLimitExceeded, position: positionAt(startAbs),
                  message: "number literal longer than JSONLimits.maxNumberLength (\(maxNumberLength) bytes)")
    }

    /// Validates `lit[0..<n]` against the RFC 8259 number grammar and computes its value.
    @inline(__always)
    func parseNumber(_ lit: UnsafePointer<UInt8>, _ n: Int, startAbs: Int, hitEOF: Bool) throws(JSONError) {
        numPtr = lit
        numLen = n
        var i = 0
        let neg = lit[0] == UInt8(ascii: "-")
        if neg { i = 1 }
        guard i < n, Self.isDigit(lit[i]) else {
            throw numberError(lit, n, i, startAbs, hitEOF, "expected a digit after '-'")
        }
        let intStart = i
        if lit[i] == UInt8(ascii: "0") {
            i &+= 1
            if i < n && Self.isDigit(lit[i]) {
                throw JSONError(kind: .invalidNumber, position: positionAt(startAbs &+ intStart),
                                message: "leading zeros are not allowed in numbers")
            }
        } else {
            while i < n && Self.isDigit(lit[i]) { i &+= 1 }
        }
        let intEnd = i
        if i == n {
            numIsInt = true
            integerValue(lit, intStart, intEnd, neg)
            return
        }
        numIsInt = false
        var fracStart = i
        var fracEnd = i
        if lit[i] == UInt8(ascii: ".") {
            i &+= 1
            fracStart = i
            guard i < n, Self.isDigit(lit[i]) else {
                throw numberError(lit, n, i, startAbs, hitEOF, "expected a digit after '.'")
            }
            while i < n && Self.isDigit(lit[i]) { i &+= 1 }
            fracEnd = i
        }
        var exp = 0
        if i < n && lit[i] | 0x20 == UInt8(ascii: "e") {
            i &+= 1
            var expNeg = false
            if i < n && (lit[i] == UInt8(ascii: "-") || lit[i] == UInt8(ascii: "+")) {
                expNeg = lit[i] == UInt8(ascii: "-")
                i &+= 1
            }
            guard i < n, Self.isDigit(lit[i]) else {
                throw numberError(lit, n, i, startAbs, hitEOF, "expected a digit in the exponent")
            }
            while i < n && Self.isDigit(lit[i]) {
                if exp < 1_000_000 { exp = exp &* 10 &+ Int(lit[i] &- 0x30) }
                i &+= 1
            }
            if expNeg { exp = -exp }
        }
        if i != n {
            throw numberError(lit, n, i, startAbs, hitEOF, "unexpected character in number")
        }
        numDouble = floatValue(lit, n, neg, intStart, intEnd, fracStart, fracEnd, exp)
    }

    func numberError(_ lit: UnsafePointer<UInt8>, _ n: Int, _ i: Int, _ startAbs: Int, _ hitEOF: Bool,
                     _ what: StaticString) -> JSONError {
        if i == n {
            if hitEOF { return truncatedError("incomplete number") }
            let after = pos < end ? ", found \(describeByte(buf[pos]))" : ""
            return JSONError(kind: .invalidNumber, position: positionAt(startAbs &+ i), message: "\(what)\(after)")
        }
        return JSONError(kind: .invalidNumber, position: positionAt(startAbs &+ i),
                         message: "\(what), found \(describeByte(lit[i]))")
    }

    @inline(__always)
    func integerValue(_ lit: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ neg: Bool) {
        if e &- s <= 18 {
            var v: Int64 = 0
            var k = s
            while k < e {
                v = v &* 10 &+ Int64(lit[k] &- 0x30)
                k &+= 1
            }
            numInt = neg ? 0 &- v : v
            numDouble = neg && v == 0 ? -0.0 : Double(numInt)
            return
        }
        var acc: UInt64 = 0
        var overflow = false
        for k in s..<e {
            let (m, o1) = acc.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(lit[k] &- 0x30))
            if o1 || o2 { overflow = true; break }
            acc = a
        }
        guard !overflow, let v = Self.signed(acc, neg) else {
            // Outside Int64: not an integer for the accessors (int64Value and asExactInt64
            // are nil), still a number with a Double value.
            numIsInt = false
            numDouble = Self.slowDouble(lit, e, neg)
            return
        }
        numInt = v
        numDouble = Double(v)
    }

    /// The correctly rounded Double of the valid literal `lit[0..<n]`; ±infinity past
    /// Double's range.
    static func slowDouble(_ lit: UnsafePointer<UInt8>, _ n: Int, _ neg: Bool) -> Double {
        let text = String(decoding: UnsafeBufferPointer(start: lit, count: n), as: UTF8.self)
        return Double(text) ?? (neg ? -.infinity : .infinity)
    }

    static let powersOf10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Exact fast path (Clinger) when the significand fits in 53 bits and |exp10| ≤ 22;
    /// otherwise the standard library's correctly rounded conversion.
    func floatValue(_ lit: UnsafePointer<UInt8>, _ n: Int, _ neg: Bool, _ intStart: Int, _ intEnd: Int,
                    _ fracStart: Int, _ fracEnd: Int, _ exp: Int) -> Double {
        var w: UInt64 = 0
        var sig = 0
        var k = intStart
        while k < intEnd {
            let d = UInt64(lit[k] &- 0x30)
            if w != 0 || d != 0 { sig &+= 1 }
            w = w &* 10 &+ d
            k &+= 1
        }
        k = fracStart
        while k < fracEnd {
            let d = UInt64(lit[k] &- 0x30)
            if w != 0 || d != 0 { sig &+= 1 }
            w = w &* 10 &+ d
            k &+= 1
        }
        let e10 = exp &- (fracEnd &- fracStart)
        if sig <= 19 && w <= (1 << 53) && e10 >= -22 && e10 <= 22 {
            var v = Double(w)
            if e10 >= 0 { v *= Self.powersOf10[e10] } else { v /= Self.powersOf10[-e10] }
            return neg ? -v : v
        }
        return Self.slowDouble(lit, n, neg)
    }

    // MARK: Literals

    /// Matches `true`/`false`/`null` at `pos`.
    @inline(__always)
    func scanLiteral(_ lit: StaticString) throws(JSONError) {
        let n = lit.utf8CodeUnitCount
        let l = lit.utf8Start
        if pos &+ n <= end {
            var k = 1
            while k < n && buf[pos &+ k] == l[k] { k &+= 1 }
            if k == n {
                pos &+= n
                return
            }
        }
        try scanLiteralSlow(lit)
    }

    func scanLiteralSlow(_ lit: StaticString) throws(JSONError) {
        let startAbs = base &+ pos
        let l = lit.utf8Start
        for k in 0..<lit.utf8CodeUnitCount {
            if pos == end {
                guard try refill() else { throw truncatedError("incomplete literal, expected '\(lit)'") }
            }
            if buf[pos] != l[k] {
                throw JSONError(kind: .invalidLiteral, position: positionAt(startAbs),
                                message: "invalid literal, expected '\(lit)', found \(describeByte(buf[pos]))")
            }
            pos &+= 1
        }
    }
}
