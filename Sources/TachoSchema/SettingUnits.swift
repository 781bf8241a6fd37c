/// Durations and sizes as an operator writes them in the config: `90s`, `15m`, `2h`, `7d`,
/// `1w`; `500MiB`, `2GiB`, `10GB`. The one grammar of the config and the command-line flags
/// (the CLI's `Units` is this type).
public enum SettingUnits {
    /// Microseconds in a duration like `15m`; nil if malformed or not positive.
    public static func durationMicros(_ s: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("ms", 1000), ("us", 1), ("µs", 1), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000),
            ("d", 86_400_000_000), ("w", 604_800_000_000),
        ]
        for (suffix, mult) in units where s.hasSuffix(suffix) {
            guard let v = Int64(s.dropLast(suffix.count)), v > 0 else { return nil }
            let (r, o) = v.multipliedReportingOverflow(by: mult)
            return o ? nil : r
        }
        return nil
    }

    /// `durationMicros`, or 0 for `0`.
    public static func durationMicrosOrZero(_ s: String) -> Int64? { s == "0" ? 0 : durationMicros(s) }

    /// Bytes in a size like `2GiB`; a bare number is bytes.
    public static func bytes(_ s: String) -> UInt64? {
        let units: [(String, UInt64)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40), ("B", 1),
        ]
        for (suffix, mult) in units where s.hasSuffix(suffix) {
            guard let v = UInt64(s.dropLast(suffix.count)) else { return nil }
            let (r, o) = v.multipliedReportingOverflow(by: mult)
            return o ? nil : r
        }
        return UInt64(s)
    }
}
