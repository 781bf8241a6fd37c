import Foundation
import TachoFormat
import TachoIngest
import TachoJSON
import TachoStore
import TachoTestSupport

/// A row as the model states it: vehicle, time and the column values in schema order.
struct ModelRow: Hashable, Comparable, CustomStringConvertible {
    var vehicle: String
    var time: Int64
    var values: [String]

    static func < (a: ModelRow, b: ModelRow) -> Bool {
        (a.vehicle, a.time, a.values.joined(separator: "\u{1}")) < (b.vehicle, b.time, b.values.joined(separator: "\u{1}"))
    }

    var description: String { "\(vehicle) \(time) \(values)" }
}

/// A reject as the model states it.
struct ModelReject: Hashable, Comparable, CustomStringConvertible {
    var index: Int
    var reason: String

    static func < (a: ModelReject, b: ModelReject) -> Bool { (a.index, a.reason) < (b.index, b.reason) }
    var description: String { "#\(index): \(reason)" }
}

/// What reading one file gave: its report, rows and rejects in model terms.
struct ReadResult {
    var report: FileReport
    var rows: [ModelRow]
    var rejects: [ModelReject]
}

/// Reads `text` as a file named `name` with `layouts`, into model rows (values as text:
/// integers in decimal, doubles by `description`, strings as they are).
func readFile(
    _ text: String, name: String, layouts: [RecordLayout], lenient: Bool = false, batchRows: Int = 65_536,
    maxWaiting: Int = 1 << 20
) throws -> ReadResult {
    let dir = TempDir()
    let path = dir.path + "/" + name
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    var options = ReaderOptions(lenient: lenient)
    options.layouts = layouts
    options.batchRows = batchRows
    options.maxWaitingRecords = maxWaiting
    var rows: [ModelRow] = []
    let report = try TelemetryReader(options: options).read(path: path) { batch in
        rows += modelRows(batch)
    }
    return ReadResult(report: report, rows: rows, rejects: report.rejects.map { ModelReject(index: $0.index, reason: $0.reason) })
}

func modelRows(_ b: RowBatch) -> [ModelRow] {
    (0..<b.count).map { i in
        ModelRow(
            vehicle: b.dictionary[Int(b.vehicles[i])], time: b.times[i],
            values: b.columns.map { c in
                if c.isNull(i) { return "null" }
                switch c.type {
                case .int64: return String(c.ints[i])
                case .float64: return String(c.doubles[i])
                case .string: return b.dictionary[Int(c.ids[i])]
                case .bool: return String(c.bools[i])
                case .stringList: return c.listRange(i).map { b.dictionary[Int(c.ids[$0])] }.joined(separator: ";")
                }
            })
    }
}

/// Random choices for the model tests.
struct Dice {
    var rng: SplitMix64

    init(_ seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
    mutating func shuffled<T>(_ xs: [T]) -> [T] { xs.shuffled(using: &rng) }
}

/// One input field as generated: its key and JSON text, and either the value it stores
/// (model text) or the problem it causes.
struct GenField {
    var key: String
    var json: String
    var value: String?
    var problem: String?
}

func object(_ fields: [GenField], extra: [String] = []) -> String {
    "{" + (fields.map { "\(jsonQuoted($0.key)):\($0.json)" } + extra).joined(separator: ",") + "}"
}

/// Generators of field values, valid or broken, with the reader's reasons.
enum Gen {
    static let base: Int64 = 1_725_000_000_000_000

    /// `numbers`: an integer is taken as its decimal text (ids under a key other than
    /// `vehicle_id`, such as `imei`).
    static func vehicle(_ d: inout Dice, key: String, numbers: Bool = false) -> GenField {
        switch d.int(0...19) {
        case 0: return GenField(key: key, json: "\"\"", problem: "\(key) is empty")
        case 1: return numbers ? GenField(key: key, json: "7", value: "7") : GenField(key: key, json: "7", problem: "\(key) must be a string")
        default:
            let v = d.pick(["v1", "v2", "qbae3f", "é", "e\u{301}"])
            return GenField(key: key, json: jsonQuoted(v), value: v)
        }
    }

    static func time(_ d: inout Dice, key: String) -> (GenField, Int64?) {
        let t = base + Int64(d.int(0...86_400)) * 1_000_000 + Int64(d.int(0...999)) * 1_000
        switch d.int(0...19) {
        case 0: return (GenField(key: key, json: "\"yesterday\"", problem: "\(key) \"yesterday\" is not an RFC 3339 time or YYYY-MM-DD HH:MM:SS"), nil)
        case 1: return (GenField(key: key, json: "null", problem: "\(key) must be a string"), nil)
        default: return (GenField(key: key, json: "\"\(Timestamp.format(t))\"", value: String(t)), t)
        }
    }

    static func label(_ d: inout Dice, key: String, _ values: [String]) -> GenField {
        switch d.int(0...14) {
        case 0: return GenField(key: key, json: "\"\"", problem: "\(key) is empty")
        case 1: return GenField(key: key, json: "[1]", problem: "\(key) must be a string")
        default:
            let v = d.pick(values)
            return GenField(key: key, json: jsonQuoted(v), value: v)
        }
    }

    static func count(_ d: inout Dice, key: String) -> GenField {
        switch d.int(0...14) {
        case 0: return GenField(key: key, json: "-1", problem: "\(key) must be an integer ≥ 0, found -1")
        case 1: return GenField(key: key, json: "2.5", problem: "\(key) must be an integer ≥ 0, found 2.5")
        case 2: return GenField(key: key, json: "\"3\"", problem: "\(key) must be an integer ≥ 0")
        default:
            let v = d.int(0...50)
            return GenField(key: key, json: String(v), value: String(v))
        }
    }

    static func number(_ d: inout Dice, key: String, _ range: ClosedRange<Double>, rule: String) -> GenField {
        switch d.int(0...14) {
        case 0: return GenField(key: key, json: "-1000", problem: "\(key) must be a number \(rule), found -1000")
        case 1: return GenField(key: key, json: "true", problem: "\(key) must be a number \(rule)")
        default:
            let v = (Double(d.int(0...10_000)) / 10_000) * (range.upperBound - range.lowerBound) + range.lowerBound
            return GenField(key: key, json: String(v), value: String(v))
        }
    }
}
