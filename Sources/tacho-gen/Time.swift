// Time handling without Foundation: milliseconds since the Unix epoch (UTC), an RFC 3339
// parser and a fast formatter (civil-date arithmetic: TachoTime).

import TachoTime

enum TimeParseError: Error, CustomStringConvertible {
    case invalid(String)
    var description: String {
        switch self {
        case .invalid(let s):
            return "invalid time '\(s)': expected RFC 3339, e.g. 2024-07-01T00:00:00Z or 2024-07-01T02:00:00.250+02:00"
        }
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` or the same with a space
/// instead of `T` (no zone = UTC). Returns milliseconds since the epoch.
func parseRFC3339(_ text: String) throws -> Int64 {
    let b = Array(text.utf8)
    var i = 0
    func num(_ n: Int) throws -> Int64 {
        guard i + n <= b.count else { throw TimeParseError.invalid(text) }
        var v: Int64 = 0
        for _ in 0..<n {
            let c = b[i]
            guard c >= 48, c <= 57 else { throw TimeParseError.invalid(text) }
            v = v * 10 + Int64(c - 48); i += 1
        }
        return v
    }
    func expect(_ c: UInt8) throws {
        guard i < b.count, b[i] == c else { throw TimeParseError.invalid(text) }
        i += 1
    }
    let year = try num(4); try expect(45); let month = try num(2); try expect(45); let day = try num(2)
    guard (1...12).contains(month), (1...31).contains(day) else { throw TimeParseError.invalid(text) }
    var ms = CivilDate.days(year: year, month: month, day: day) * 86_400_000
    if i == b.count { return ms }
    guard b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == 32 else {
        throw TimeParseError.invalid(text)
    }
    i += 1
    let h = try num(2); try expect(58); let m = try num(2); try expect(58); let s = try num(2)
    guard h < 24, m < 60, s < 61 else { throw TimeParseError.invalid(text) }
    ms += (h * 3600 + m * 60 + s) * 1000
    if i < b.count, b[i] == 46 {  // fraction: keep milliseconds, truncate the rest
        i += 1
        var digits = 0, frac: Int64 = 0
        while i < b.count, b[i] >= 48, b[i] <= 57 {
            if digits < 3 { frac = frac * 10 + Int64(b[i] - 48) }
            digits += 1; i += 1
        }
        guard digits > 0 else { throw TimeParseError.invalid(text) }
        for _ in digits..<max(digits, 3) { frac *= 10 }
        ms += frac
    }
    if i == b.count { return ms }
    switch b[i] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
        i += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
        let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
        i += 1
        let oh = try num(2); try expect(58); let om = try num(2)
        ms -= sign * (oh * 3600 + om * 60) * 1000
    default:
        throw TimeParseError.invalid(text)
    }
    guard i == b.count else { throw TimeParseError.invalid(text) }
    return ms
}

/// Formats epoch milliseconds as `2024-07-01T00:00:02.345Z` (24 bytes), caching the date part.
struct TimeFormatter {
    private var cachedDay: Int64 = .min
    private var datePart: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    static let width = 24

    /// Writes exactly 24 bytes at `p`.
    @inline(__always)
    mutating func write(_ ms: Int64, to p: UnsafeMutablePointer<UInt8>) {
        let day = CivilDate.floorDiv(ms, 86_400_000)
        if day != cachedDay { cache(day) }
        var rest = Int(ms - day * 86_400_000)
        withUnsafeBytes(of: &datePart) { raw in
            p.update(from: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 11)
        }
        let milli = rest % 1000; rest /= 1000
        let sec = rest % 60; rest /= 60
        let min = rest % 60
        let hour = rest / 60
        p[11] = UInt8(48 + hour / 10); p[12] = UInt8(48 + hour % 10); p[13] = 58
        p[14] = UInt8(48 + min / 10); p[15] = UInt8(48 + min % 10); p[16] = 58
        p[17] = UInt8(48 + sec / 10); p[18] = UInt8(48 + sec % 10); p[19] = 46
        p[20] = UInt8(48 + milli / 100); p[21] = UInt8(48 + milli / 10 % 10); p[22] = UInt8(48 + milli % 10)
        p[23] = UInt8(ascii: "Z")
    }

    private mutating func cache(_ day: Int64) {
        cachedDay = day
        let (y, m, d) = CivilDate.date(days: day)
        let yy = Int(max(0, min(9999, y)))
        datePart = (
            UInt8(48 + yy / 1000), UInt8(48 + yy / 100 % 10), UInt8(48 + yy / 10 % 10), UInt8(48 + yy % 10), 45,
            UInt8(48 + m / 10), UInt8(48 + m % 10), 45, UInt8(48 + d / 10), UInt8(48 + d % 10), UInt8(ascii: "T")
        )
    }

    /// Convenience for summaries and messages (not the hot path).
    static func string(_ ms: Int64) -> String {
        var f = TimeFormatter()
        var bytes = [UInt8](repeating: 0, count: width)
        bytes.withUnsafeMutableBufferPointer { f.write(ms, to: $0.baseAddress!) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
