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
