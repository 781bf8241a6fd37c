// RFC 3339 timestamps <-> microseconds since the Unix epoch (UTC). No Foundation.

/// Parsing and formatting of RFC 3339 times as Int64 microseconds since 1970-01-01T00:00:00Z.
///
/// Accepted input (`parseMicros`), whole buffer, no surrounding whitespace:
///
///     YYYY-MM-DD(T|t| )HH:MM:SS[.F{1,9}][Z|z|(+|-)HH:MM]
///
/// - Years 0001–9999; month 1–12; day within the month (Gregorian leap years); hour 0–23;
///   minute 0–59; second 0–59, or 60 (a leap second), which is read as 59.999999 so that
///   it still sorts inside its minute.
/// - 1–9 fraction digits; digits beyond microseconds are truncated (not rounded).
/// - No zone means UTC (for both the `T` and the space form). Offsets are `±HH:MM`
///   (hour 0–23, minute 0–59) and are subtracted to get UTC.
/// Anything else returns nil.
public enum Timestamp {
    /// Microseconds per second.
    public static let microsPerSecond: Int64 = 1_000_000

    /// Parses an RFC 3339 time (see the type documentation) into UTC microseconds.
    public static func parseMicros(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = bytes.count
        guard n >= 19 else { return nil }

        @inline(__always) func digit(_ i: Int) -> Int? {
            let d = p[i] &- 0x30
            return d < 10 ? Int(d) : nil
        }
        @inline(__always) func two(_ i: Int) -> Int? {
            guard let a = digit(i), let b = digit(i + 1) else { return nil }
            return a * 10 + b
        }

        guard let y1 = two(0), let y2 = two(2), p[4] == UInt8(ascii: "-"),
              let month = two(5), p[7] == UInt8(ascii: "-"), let day = two(8) else { return nil }
        let sep = p[10]
        guard sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " ") else { return nil }
        guard let hour = two(11), p[13] == UInt8(ascii: ":"), let minute = two(14),
              p[16] == UInt8(ascii: ":"), var second = two(17) else { return nil }
        let year = y1 * 100 + y2
        guard year >= 1, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60 else { return nil }

        var i = 19
        var fraction = 0  // microseconds
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < n, let d = digit(i) {
                if i - start < 6 { fraction = fraction * 10 + d }
                i += 1
            }
            let count = i - start
            guard count >= 1 && count <= 9 else { return nil }
            if count < 6 {
                for _ in count..<6 { fraction *= 10 }
            }
        }
        if second == 60 {
            second = 59
            fraction = 999_999
        }

        var offsetSeconds = 0
        if i < n {
            let z = p[i]
            if z == UInt8(ascii: "Z") || z == UInt8(ascii: "z") {
                i += 1
            } else if z == UInt8(ascii: "+") || z == UInt8(ascii: "-") {
                guard n - i >= 6, let oh = two(i + 1), p[i + 3] == UInt8(ascii: ":"), let om = two(i + 4),
                      oh <= 23, om <= 59 else { return nil }
                offsetSeconds = (oh * 3600 + om * 60) * (z == UInt8(ascii: "-") ? -1 : 1)
                i += 6
            } else {
                return nil
            }
        }
        guard i == n else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return secs * microsPerSecond + Int64(fraction)
    }

    /// Convenience over the UTF-8 bytes of `s`.
    public static func parseMicros(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parseMicros(UnsafeRawBufferPointer($0)) }
    }

    /// Formats as RFC 3339 UTC, the one output form of a stored time (CLI, JSON, messages):
    /// three fraction digits when the sub-millisecond part is zero
    /// (`2022-06-05T21:02:34.546Z`), else six (`2022-06-05T21:02:34.546120Z`), so two distinct
    /// stored times never print alike. Times before 1970 are floored like any other
    /// (`-1` → `1969-12-31T23:59:59.999999Z`). Years outside 0000–9999 are written with a
    /// sign and more digits.
    public static func format(_ micros: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        append(micros, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the `format` text (ASCII; 24 or 27 bytes for years 0000–9999) to `out`:
    /// the allocation-free variant for CSV/JSON writers.
    public static func append(_ micros: Int64, to out: inout [UInt8]) {
        // Floored seconds and the fraction in 0 ..< 1_000_000, without multiplying back
        // (which would overflow for times near Int64.min).
        let r = micros % microsPerSecond
        let seconds = micros / microsPerSecond - (r < 0 ? 1 : 0)
        let fraction = Int(r < 0 ? r + microsPerSecond : r)
        let days = floorDiv(seconds, 86_400)
        var rem = Int(seconds - days * 86_400)
        let (year, month, day) = civilFromDays(days)
        let second = rem % 60
        rem /= 60
        let minute = rem % 60
        let hour = rem / 60

        if year >= 0 && year <= 9999 {
            appendDigits(Int(year), 4, &out)
        } else {
            out.append(year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let mag = year.magnitude
            appendDigits(Int(mag), max(4, String(mag).count), &out)
        }
        out.append(UInt8(ascii: "-"))
        appendDigits(month, 2, &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, 2, &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(hour, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(minute, 2, &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(second, 2, &out)
        out.append(UInt8(ascii: "."))
        if fraction % 1000 == 0 {
            appendDigits(fraction / 1000, 3, &out)
        } else {
            appendDigits(fraction, 6, &out)
        }
        out.append(UInt8(ascii: "Z"))
    }

    @inline(__always)
    static func appendDigits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(truncatingIfNeeded: 0x30 + v / divisor))
            v %= divisor
            divisor /= 10
        }
    }

    @inline(__always)
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { CivilDate.floorDiv(a, b) }

    /// True for Gregorian leap years.
    public static func isLeapYear(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    /// Days in `month` (1–12) of `year`.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    @inline(__always)
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day))
    }

    /// The proleptic Gregorian date of `days` since 1970-01-01.
    public static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int, day: Int) {
        let (y, m, d) = CivilDate.date(days: days)
        return (y, Int(m), Int(d))
    }
}
