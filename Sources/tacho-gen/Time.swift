// Time handling without Foundation: milliseconds since the Unix epoch (UTC). Parsing is
// TachoTime's (`Timestamp`, the one RFC 3339 reader); the fast formatter is the generator's.

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

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time as the store reads one
/// (`Timestamp.parseMicros`: `T`, `t` or a space; no zone = UTC). Returns milliseconds since
/// the epoch (sub-millisecond digits dropped).
func parseRFC3339(_ text: String) throws -> Int64 {
    if let micros = Timestamp.parseMicros(text) { return CivilDate.floorDiv(micros, 1000) }
    let b = Array(text.utf8)
    func num(_ r: Range<Int>) -> Int64? {
        var v: Int64 = 0
        for c in b[r] {
            guard c >= 48, c <= 57 else { return nil }
            v = v * 10 + Int64(c - 48)
        }
        return v
    }
    guard b.count == 10, b[4] == 45, b[7] == 45, let year = num(0..<4), let month = num(5..<7), let day = num(8..<10),
          year >= 1, (1...12).contains(month), day >= 1, Int(day) <= Timestamp.daysInMonth(year: Int(year), month: Int(month))
    else { throw TimeParseError.invalid(text) }
    return CivilDate.days(year: year, month: month, day: day) * 86_400_000
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
