/// Where a measurement's records sit in a JSON document: keys separated by `.`, a key
/// followed by `[]` is an array whose elements are visited in turn. `locations[]`: each
/// element of the top-level `locations` array is a record; `objects_detection_events[].detections[]`:
/// each element of each event's `detections`. The empty path: the document itself is one
/// record (NDJSON lines). A field a record lacks is looked up in the enclosing objects, inner
/// first: a detection's `vehicle_id` comes from its event, power's `spaceship_id` and `units`
/// from the document; when an enclosing object lacks the array of the next step (a flat
/// detection event), that object is itself the record (SEMANTICS §1).
public struct RecordPath: Sendable, Hashable, CustomStringConvertible {
    public struct Step: Sendable, Hashable {
        public var key: String
        public var isArray: Bool

        public init(_ key: String, isArray: Bool) {
            self.key = key
            self.isArray = isArray
        }
    }

    public static let maxSteps = 16
    public var steps: [Step]

    public init(steps: [Step]) { self.steps = steps }

    /// Parses the text form; the error says why it is not a path.
    public init(parsing text: String) throws(RecordPathError) {
        if text.isEmpty { steps = []; return }
        var out: [Step] = []
        for (n, part) in text.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            var key = Substring(part)
            var isArray = false
            if key.hasSuffix("[]") { key = key.dropLast(2); isArray = true }
            guard !key.isEmpty else { throw RecordPathError(why: "step \(n + 1) has no key (write key or key[], separated by '.')") }
            if let bad = key.unicodeScalars.first(where: { $0 == "[" || $0 == "]" || $0 == "\"" || $0.value < 0x20 || $0.value == 0x7F }) {
                throw RecordPathError(why: "step \(n + 1) '\(part)' holds '\(bad.escaped(asASCII: true))': only key or key[] is allowed")
            }
            out.append(Step(String(key), isArray: isArray))
        }
        guard out.count <= Self.maxSteps else { throw RecordPathError(why: "\(out.count) steps, at most \(Self.maxSteps)") }
        steps = out
    }

    public var description: String { steps.map { $0.key + ($0.isArray ? "[]" : "") }.joined(separator: ".") }

    /// The top-level key the path starts with, if any.
    public var topLevelKey: String? { steps.first?.key }
}

public struct RecordPathError: Error, Sendable, Equatable {
    public var why: String
}

/// Durations and sizes as an operator writes them in the config: `90s`, `15m`, `2h`, `7d`,
/// `1w`; `500MiB`, `2GiB`, `10GB`. The same grammar as the command-line flags.
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
