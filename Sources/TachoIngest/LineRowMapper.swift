import TachoFormat
import TachoLineProtocol
import TachoStore

/// A line-protocol point as one row of a layout's measurement, by bytes: the layout's input
/// keys are held as byte arrays and a tag or field key is found by length and `memcmp`, with
/// the key order of the line before tried first (a file's lines mostly repeat one order).
/// `LineRowMapperTests` checks it against a plain model (a String per key, the first field whose
/// keys hold it): the same row or the same problem for random points.
struct LineRowMapper {
    let layout: RecordLayout
    let name: String
    let nameBytes: [UInt8]
    let options: LineInputOptions
    private let vehicleTag: [UInt8]
    /// Every input key of every field: (key bytes, index into `layout.fields`).
    private let keys: [(bytes: [UInt8], field: Int)]
    /// Per field (as `layout.fields`): what a line's value needs checked, held without the
    /// field's strings, so that reading it per line copies nothing that is reference counted.
    private struct Target {
        var column: Int
        var type: ColumnType
        var min: Double?
        var max: Double?
        func accepts(_ d: Double) -> Bool {
            if let min, d < min { return false }
            if let max, d > max { return false }
            return true
        }
    }
    private let targets: [Target]
    /// The columns a line must have (a field required or without a default), with `layout.fields` index.
    private let needed: [(column: Int, field: Int)]
    /// The `keys` index each tag (then field) position matched on the line before.
    private var lastTagKeys: [Int] = []
    private var lastFieldKeys: [Int] = []
    /// Scratch reused line after line.
    private var seen: [Bool]

    init(_ layout: RecordLayout, _ options: LineInputOptions) {
        self.layout = layout
        name = layout.measurement.name
        nameBytes = Array(name.utf8)
        self.options = options
        vehicleTag = Array(options.vehicleTag.utf8)
        var keys: [(bytes: [UInt8], field: Int)] = []
        for (i, f) in layout.fields.enumerated() {
            for k in f.keys { keys.append((Array(k.utf8), i)) }
        }
        self.keys = keys
        targets = layout.fields.map { f in
            Target(column: f.column, type: layout.measurement.columns[f.column].type, min: f.rule.min, max: f.rule.max)
        }
        needed = layout.fields.indices.filter { layout.fields[$0].required || layout.fields[$0].defaultValue == nil }
            .map { (layout.fields[$0].column, $0) }
        seen = [Bool](repeating: false, count: layout.measurement.columns.count)
    }

    typealias Row = LineProtocolFileReader.Row
    typealias Problem = LineProtocolFileReader.Problem

    /// The `keys` index whose bytes are `p`'s bytes at `range`; `hint` first.
    private func key(_ p: LinePoint, _ range: Range<Int>, hint: Int) -> Int? {
        if hint >= 0 && hint < keys.count && p.rangeEquals(range, keys[hint].bytes) { return hint }
        for i in keys.indices where i != hint && p.rangeEquals(range, keys[i].bytes) { return i }
        return nil
    }

    mutating func row(_ p: LinePoint) -> Result<Row, Problem> {
        let o = options
        var vehicleRange: Range<Int>?
        for tag in p.tags where p.rangeEquals(tag.key, vehicleTag) {
            vehicleRange = tag.value
            break
        }
        guard let v = vehicleRange else {
            return .failure(Problem(field: o.vehicleTag, reason: LineMappingError.missingVehicleTag(tag: o.vehicleTag).description))
        }
        let problem = p.bytes.withUnsafeBytes { all in
            FieldText.problem(UnsafeRawBufferPointer(rebasing: all[v]), max: RecordLayout.maxVehicleBytes)
        }
        if let why = problem { return .failure(Problem(field: o.vehicleTag, reason: "\(o.vehicleTag) \(why)")) }
        let vehicle = p.string(v)
        guard let ns = p.timestamp else { return .failure(Problem(field: "time", reason: LineMappingError.missingTimestamp.description)) }
        let time = LineMapping.microseconds(fromNanoseconds: ns)
        var values = [ColumnValue?](repeating: nil, count: seen.count)
        for i in seen.indices { seen[i] = false }
        var position = 0
        for tag in p.tags where !p.rangeEquals(tag.key, vehicleTag) {
            defer { position += 1 }
            let hint = position < lastTagKeys.count ? lastTagKeys[position] : -1
            guard let k = key(p, tag.key, hint: hint) else {
                let key = p.string(tag.key)
                return .failure(Problem(field: key, reason: LineMappingError.unknownColumn(key).description))
            }
            if position < lastTagKeys.count { lastTagKeys[position] = k } else { lastTagKeys.append(k) }
            let t = targets[keys[k].field]
            guard t.type == .string || t.type == .stringList else {
                let key = p.string(tag.key)
                return .failure(Problem(field: key, reason: "tag '\(key)' is a string, but the column is declared \(t.type)"))
            }
            let s = p.string(tag.value)
            if let why = LineProtocolFileReader.validate(string: s, layout.fields[keys[k].field]) {
                let key = p.string(tag.key)
                return .failure(Problem(field: key, reason: "\(key) \(why)"))
            }
            values[t.column] = t.type == .string ? .string(s) : .strings(LineProtocolFileReader.list(s))
            seen[t.column] = true
        }
        for (position, field) in p.fields.enumerated() {
            let hint = position < lastFieldKeys.count ? lastFieldKeys[position] : -1
            guard let k = key(p, field.key, hint: hint) else {
                let key = p.string(field.key)
                return .failure(Problem(field: key, reason: LineMappingError.unknownColumn(key).description))
            }
            if position < lastFieldKeys.count { lastFieldKeys[position] = k } else { lastFieldKeys.append(k) }
            let t = targets[keys[k].field]
            let value: ColumnValue
            switch (t.type, field.value) {
            case (.int64, .int(let x)): value = .int(x)
            case (.int64, .uint(let x)):
                guard x <= UInt64(Int64.max) else {
                    let key = p.string(field.key)
                    return .failure(Problem(field: key, reason: LineMappingError.unsignedOutOfRange(column: key, value: x).description))
                }
                value = .int(Int64(x))
            case (.float64, .float(let d)): value = .double(d)
            case (.bool, .bool(let b)): value = .bool(b)
            case (.string, .string(let r)):
                let s = p.string(r)
                if let why = LineProtocolFileReader.validate(string: s, layout.fields[keys[k].field]) {
                    let key = p.string(field.key)
                    return .failure(Problem(field: key, reason: "\(key) \(why)"))
                }
                value = .string(s)
            case (.stringList, .string(let r)): value = .strings(LineProtocolFileReader.list(p.string(r)))
            default:
                let key = p.string(field.key)
                return .failure(Problem(field: key, reason: "field '\(key)' is \(LineMapping.type(of: field.value)), but the column is declared \(t.type)"))
            }
            switch value {
            case .int(let x):
                if !t.accepts(Double(x)) {
                    let key = p.string(field.key)
                    return .failure(Problem(field: key, reason: "\(key) = \(x) is out of range"))
                }
            case .double(let d):
                if !d.isFinite || !t.accepts(d) {
                    let key = p.string(field.key)
                    return .failure(Problem(field: key, reason: "\(key) = \(d) is out of range"))
                }
            default: break
            }
            values[t.column] = value
            seen[t.column] = true
        }
        for n in needed where !seen[n.column] {
            let name = layout.fields[n.field].name
            return .failure(Problem(field: name, reason: LineMappingError.missingColumn(name).description))
        }
        return .success(Row(vehicle: vehicle, time: time, values: values))
    }
}
