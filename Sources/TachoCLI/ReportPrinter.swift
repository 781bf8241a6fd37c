import ArgumentParser
import TachoIngest
import TachoJSON

/// `verify` and `inspect` print lines for people, or (`--format json`) one JSON object.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct ReportFormatOptionGroup: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("format")], help: ArgumentHelp(
        "text (lines for people) or json (one object).", valueName: "FORMAT"))
    var format: ReportFormat = .text
}

/// A JSON value of a report.
indirect enum ReportValue {
    case int(Int64)
    case bool(Bool)
    case string(String)
    /// µs since the epoch, printed as RFC 3339.
    case time(Int64)
    case array([ReportValue])
    case object([(String, ReportValue)])
    case null

    static func strings(_ a: [String]) -> ReportValue { .array(a.map { .string($0) }) }

    var json: String {
        switch self {
        case .int(let v): String(v)
        case .bool(let b): b ? "true" : "false"
        case .string(let s): jsonQuoted(s)
        case .time(let t): jsonQuoted(Timestamp.format(t))
        case .array(let a): "[" + a.map(\.json).joined(separator: ",") + "]"
        case .object(let o): "{" + o.map { jsonQuoted($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        case .null: "null"
        }
    }
}

/// Text lines as they come, or the report's fields gathered into one JSON object printed by
/// `finish()` (the lines that are not fields go to its "log" array).
struct ReportPrinter {
    let format: ReportFormat
    private var fields: [(String, ReportValue)] = []
    private var log: [String] = []
    private var finished = false

    init(_ format: ReportFormat) { self.format = format }

    /// A field of the JSON object (nothing in text).
    mutating func set(_ key: String, _ value: ReportValue) {
        if let i = fields.firstIndex(where: { $0.0 == key }) { fields[i].1 = value } else { fields.append((key, value)) }
    }

    /// A line in text; in JSON, an entry of "log".
    mutating func line(_ s: String) {
        if format == .text { print(s) } else { log.append(s) }
    }

    /// A line in text only (its facts are fields in JSON).
    func text(_ s: String) {
        if format == .text { print(s) }
    }

    /// Prints the JSON object (once; nothing in text).
    mutating func finish() {
        guard !finished else { return }
        finished = true
        guard format == .json else { return }
        var all = fields
        if !log.isEmpty { all.append(("log", .strings(log))) }
        print(ReportValue.object(all).json)
    }
}
