import TachoSchema
import TachoTime

/// Times, durations and lists as an operator types them — on the command line today, in a
/// query string tomorrow: one grammar for every front (docs/SEMANTICS.md).
public enum ArgumentSyntax {
    /// A time: RFC 3339, a date (UTC midnight), `now`, or relative to `now` (`-2h`, `-7d`,
    /// `+30m`), as µs since the epoch; nil when `s` is none of these.
    public static func time(_ s: String, now: Int64) -> Int64? {
        if s == "now" { return now }
        if let first = s.first, first == "-" || first == "+", let d = durationMicros(String(s.dropFirst())) {
            return first == "-" ? now - d : now + d
        }
        if s.count == 10, let t = Timestamp.parseMicros(s + " 00:00:00") { return t }
        return Timestamp.parseMicros(s)
    }

    /// The forms `time` accepts, for a help text.
    public static var timeHelp: String { "RFC 3339 time, date (YYYY-MM-DD), now, or relative (-2h, -7d)" }

    /// What to say when `s` is not a time: which forms are accepted.
    public static func notATime(_ s: String) -> String {
        "\"\(s)\" is not a time; use an RFC 3339 time (2022-06-05T21:02:34.546Z, offsets allowed), a date (2022-06-05), now, or a relative time (-2h, -7d, -30m, +15s)"
    }

    /// Microseconds in a positive duration like `15m`, `2h`, `7d` (the config's grammar,
    /// `SettingUnits`); nil if malformed or not positive.
    public static func durationMicros(_ s: String) -> Int64? { SettingUnits.durationMicros(s) }

    /// Repeated values that also take comma-separated lists (`a,b` and `c` → a, b, c): each
    /// value once, in the order given, empty items dropped.
    public static func commaList(_ values: [String]) -> [String] {
        var out: [String] = []
        for v in values {
            for item in v.split(separator: ",", omittingEmptySubsequences: true) where !out.contains(String(item)) {
                out.append(String(item))
            }
        }
        return out
    }
}
