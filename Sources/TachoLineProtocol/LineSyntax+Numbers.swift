// Field numbers (`-1.5e10`, `12i`, `7u`), timestamps and UTF-8 checking.

extension LineScanner {
    /// An integer (`[-]digits i`), unsigned (`digits u`) or float token.
    /// `key` (the quoted field key) is only evaluated for an error message.
    func number(_ t: UnsafeBufferPointer<UInt8>, at start: Int, key: @autoclosure () -> String) throws(LineProtocolError) -> LineFieldValue {
        var text: String { quoted(ArraySlice(t)) }
        switch t[t.count - 1] {
        case UInt8(ascii: "i"):
            guard let (negative, magnitude) = decimalDigits(UnsafeBufferPointer(rebasing: t.dropLast()), allowMinus: true) else {
                throw fail(.invalidNumber, start, "invalid integer \(text) for field \(key()): expected [-]digits followed by 'i'")
            }
            guard let magnitude, let v = signedInt64(magnitude, negative) else {
                throw fail(.valueOutOfRange, start, "integer \(text) for field \(key()) is out of the Int64 range")
            }
            return .int(v)
        case UInt8(ascii: "u"):
            guard let (_, magnitude) = decimalDigits(UnsafeBufferPointer(rebasing: t.dropLast()), allowMinus: false) else {
                throw fail(.invalidNumber, start, "invalid unsigned integer \(text) for field \(key()): expected digits followed by 'u'")
            }
            guard let magnitude else {
                throw fail(.valueOutOfRange, start, "unsigned integer \(text) for field \(key()) is out of the UInt64 range")
            }
            return .uint(magnitude)
        default:
            guard let v = parseFloat(t) else {
                throw fail(.invalidNumber, start, "invalid number \(text) for field \(key()): expected a float like 1, -1.5 or "
                           + "2.5e-3, an integer like 12i or an unsigned integer like 12u")
            }
            guard v.isFinite else {
                throw fail(.valueOutOfRange, start, "float \(text) for field \(key()) is out of the Double range")
            }
            return .float(v)
        }
    }
}

/// `[-]digits`: nil if the syntax is wrong; otherwise (negative, magnitude) where magnitude is
/// nil when it exceeds UInt64.
func decimalDigits(_ t: UnsafeBufferPointer<UInt8>, allowMinus: Bool) -> (Bool, UInt64?)? {
    var k = 0
    let negative = allowMinus && k < t.count && t[k] == UInt8(ascii: "-")
    if negative { k += 1 }
    guard k < t.count else { return nil }
    if t.count - k <= 19 {  // cannot overflow UInt64: no checks per digit
        var w: UInt64 = 0
        while k < t.count {
            let d = t[k] &- 0x30
            guard d < 10 else { return nil }
            w = w &* 10 &+ UInt64(d)
            k += 1
        }
        return (negative, w)
    }
    var v: UInt64? = 0
    while k < t.count {
        let d = t[k] &- 0x30
        guard d < 10 else { return nil }
        if let w = v {
            let (m, o1) = w.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            v = o1 || o2 ? nil : s
        }
        k += 1
    }
    return (negative, v)
}

/// The Int64 with this sign and magnitude, or nil when out of range.
func signedInt64(_ magnitude: UInt64, _ negative: Bool) -> Int64? {
    if negative {
        if magnitude == UInt64(Int64.max) + 1 { return .min }
        return magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : nil
    }
    return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
}

private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// A float token per the grammar `[-] (digits [. [digits]] | . digits) [(e|E) [+|-] digits]`,
/// or nil. Out-of-range values come back infinite. Short literals take the exact
/// (Clinger) fast path; the rest go through the standard library's correctly rounded parser.
func parseFloat(_ t: UnsafeBufferPointer<UInt8>) -> Double? {
    var k = 0
    let n = t.count
    let negative = t[0] == UInt8(ascii: "-")
    if negative { k += 1 }
    var mantissa: UInt64 = 0
    var digits = 0        // significant digits accumulated (leading zeros skipped)
    var seen = 0          // digits of the integer and fraction parts
    var fractionDigits = 0
    while k < n, t[k] &- 0x30 < 10 {
        let d = UInt64(t[k] &- 0x30)
        if mantissa != 0 || d != 0 { digits += 1 }
        if digits <= 19 { mantissa = mantissa &* 10 &+ d }
        seen += 1
        k += 1
    }
    if k < n, t[k] == UInt8(ascii: ".") {
        k += 1
        while k < n, t[k] &- 0x30 < 10 {
            let d = UInt64(t[k] &- 0x30)
            if mantissa != 0 || d != 0 { digits += 1 }
            if digits <= 19 { mantissa = mantissa &* 10 &+ d }
            seen += 1
            fractionDigits += 1
            k += 1
        }
    }
    guard seen > 0 else { return nil }
    var exponent = 0
    if k < n, t[k] == UInt8(ascii: "e") || t[k] == UInt8(ascii: "E") {
        k += 1
        var negativeExponent = false
        if k < n, t[k] == UInt8(ascii: "+") || t[k] == UInt8(ascii: "-") {
            negativeExponent = t[k] == UInt8(ascii: "-")
            k += 1
        }
        let first = k
        while k < n, t[k] &- 0x30 < 10 {
            if exponent < 100_000 { exponent = exponent * 10 + Int(t[k] &- 0x30) }
            k += 1
        }
        guard k > first else { return nil }
        if negativeExponent { exponent = -exponent }
    }
    guard k == n else { return nil }
    if mantissa == 0 { return negative ? -0.0 : 0.0 }
    let scale = exponent - fractionDigits
    if digits <= 15 && scale >= -22 && scale <= 22 {
        var v = Double(mantissa)
        v = scale >= 0 ? v * exactPowersOfTen[scale] : v / exactPowersOfTen[-scale]
        return negative ? -v : v
    }
    return Double(String(decoding: t, as: UTF8.self))
}

/// The index of the first byte that is not part of well-formed UTF-8 (no overlongs, no
/// surrogates, nothing above U+10FFFF), or nil.
func firstInvalidUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
    var i = 0
    while i < n {
        // ASCII fast path, eight bytes at a time.
        while i + 8 <= n, UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        if i == n { return nil }
        let c = p[i]
        if c < 0x80 { i += 1; continue }
        var need: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; high = 0x9F
        case 0xF0: need = 3; low = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; high = 0x8F
        default: return i
        }
        guard i + need < n else { return i }
        var k = i + 1
        while need > 0 {
            let b = p[k]
            guard b >= low && b <= high else { return k }
            low = 0x80; high = 0xBF
            k += 1
            need -= 1
        }
        i = k
    }
    return nil
}
