import TachoFormat
import TachoLineProtocol
import TachoSchema
import TachoTestSupport
import Testing
@testable import TachoIngest

/// `LineRowMapper` (by bytes, with the line before's key order as a hint) against a model
/// (`referenceRow`: a String per key): the same row or the same problem for every
/// point of random line-protocol text — keys in any order, missing, unknown, repeated, of the
/// wrong type, without the vehicle tag or the timestamp — read by one mapper line after line.
@Suite struct LineRowMapperTests {
    static let seed = "engine,vehicle_id=v1,gear=3 rpm=900i,coolant=80.5,load=0.5,ok=true,note=\"x\" 1\n"

    static func layout() throws -> (RecordLayout, LineInputOptions) {
        let o = LineInputOptions()
        let decls = LineProtocolSchemas.discover(bytes: Array(seed.utf8), declared: [], options: o)
        #expect(decls.map(\.name) == ["engine"])
        let catalog = try Catalog.builtIn.resolving(DefaultDeclarations.measurements(decls))
        let layouts = try RecordLayout.layouts(decls, catalog: catalog)
        return (try #require(layouts.first), o)
    }

    /// A random line: most lines repeat one key order (the mapper's fast path), some shuffle,
    /// drop, add or mistype keys.
    static func line(_ rng: inout SplitMix64, _ i: Int) -> String {
        var tags: [String] = []
        if rng.next() % 20 != 0 { tags.append("vehicle_id=v\(rng.next() % 7)") }
        if rng.next() % 10 != 0 { tags.append("gear=\(rng.next() % 6)") }
        if rng.next() % 25 == 0 { tags.append("site=depot") }
        if rng.next() % 30 == 0 { tags.append("vehicle_id=" + String(repeating: "x", count: 300)) }
        var fields: [String] = []
        if rng.next() % 8 != 0 { fields.append(rng.next() % 15 == 0 ? "rpm=1.5" : rng.next() % 15 == 0 ? "rpm=7u" : "rpm=\(rng.next() % 4000)i") }
        if rng.next() % 8 != 0 { fields.append(rng.next() % 20 == 0 ? "coolant=\"hot\"" : "coolant=\(Double(rng.next() % 1000) / 10)") }
        if rng.next() % 8 != 0 { fields.append("load=\(Double(rng.next() % 100) / 100)") }
        if rng.next() % 6 == 0 { fields.append(rng.next() % 2 == 0 ? "ok=false" : "ok=3i") }
        if rng.next() % 6 == 0 { fields.append("note=\"n\(i)\"") }
        if rng.next() % 25 == 0 { fields.append("extra=1i") }
        if rng.next() % 25 == 0 { fields.append("rpm=5i") }
        if fields.isEmpty { fields.append("load=0.25") }
        if rng.next() % 4 == 0 { tags.shuffle(using: &rng) }
        if rng.next() % 4 == 0 { fields.shuffle(using: &rng) }
        let ts = rng.next() % 15 == 0 ? "" : " \(1_700_000_000_000_000_000 + i)"
        return "engine" + tags.map { "," + $0 }.joined() + " " + fields.joined(separator: ",") + ts
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func theMapperGivesTheReferenceRowOrProblem(seed: UInt64) throws {
        let (layout, o) = try Self.layout()
        var rng = SplitMix64(seed: seed)
        let text = (0..<600).map { Self.line(&rng, $0) }.joined(separator: "\n") + "\n"
        let parser = LineProtocolParser(bytes: Array(text.utf8), options: LineProtocolOptions())
        var mapper = LineRowMapper(layout, o)
        var points = 0, rows = 0, unparsed = 0
        try parser.forEach(point: { p in
            points += 1
            let want = Self.referenceRow(p, layout, o)
            let got = mapper.row(p)
            switch (want, got) {
            case (.success(let a), .success(let b)):
                rows += 1
                #expect(a.vehicle == b.vehicle && a.time == b.time && "\(a.values)" == "\(b.values)", "line \(p.line)")
            case (.failure(let a), .failure(let b)):
                #expect(a.field == b.field && a.reason == b.reason, "line \(p.line): \(a.reason) / \(b.reason)")
            default:
                Issue.record("line \(p.line): reference \(want), mapper \(got)")
            }
        }, rejected: { _ in unparsed += 1 })
        // A repeated key is the parser's reject, not the mapper's: every line is one or the other.
        #expect(points + unparsed == 600 && points > 500, "\(points) points, \(unparsed) unparsed")
        // Both outcomes are exercised.
        #expect(rows > 100 && rows < 600, "\(rows) rows")
    }

    /// The model: the point as one row of `layout`'s measurement, or why not, written plainly
    /// (a String per key, the first field whose keys hold it) — the mapping `LineRowMapper`
    /// made before it worked by bytes.
    static func referenceRow(_ p: LinePoint, _ layout: RecordLayout, _ o: LineInputOptions) -> Result<LineProtocolFileReader.Row, LineProtocolFileReader.Problem> {
        guard let v = p.tagValue(o.vehicleTag.utf8) else {
            return .failure(LineProtocolFileReader.Problem(field: o.vehicleTag, reason: LineMappingError.missingVehicleTag(tag: o.vehicleTag).description))
        }
        let vehicle = p.string(v)
        if let why = LineProtocolFileReader.check(vehicle, maxBytes: RecordLayout.maxVehicleBytes) { return .failure(LineProtocolFileReader.Problem(field: o.vehicleTag, reason: "\(o.vehicleTag) \(why)")) }
        guard let ns = p.timestamp else { return .failure(LineProtocolFileReader.Problem(field: "time", reason: LineMappingError.missingTimestamp.description)) }
        let time = LineMapping.microseconds(fromNanoseconds: ns)
        let m = layout.measurement
        var values = [ColumnValue?](repeating: nil, count: m.columns.count)
        var seen = Set<Int>()
        for tag in p.tags where !p[tag.key].elementsEqual(o.vehicleTag.utf8) {
            let key = p.string(tag.key)
            guard let f = layout.fields.first(where: { $0.keys.contains(key) }) else {
                return .failure(LineProtocolFileReader.Problem(field: key, reason: LineMappingError.unknownColumn(key).description))
            }
            let col = m.columns[f.column]
            guard col.type == .string || col.type == .stringList else {
                return .failure(LineProtocolFileReader.Problem(field: key, reason: "tag '\(key)' is a string, but the column is declared \(col.type)"))
            }
            let s = p.string(tag.value)
            if let why = LineProtocolFileReader.validate(string: s, f) { return .failure(LineProtocolFileReader.Problem(field: key, reason: "\(key) \(why)")) }
            values[f.column] = col.type == .string ? .string(s) : .strings(LineProtocolFileReader.list(s))
            seen.insert(f.column)
        }
        for field in p.fields {
            let key = p.string(field.key)
            guard let f = layout.fields.first(where: { $0.keys.contains(key) }) else {
                return .failure(LineProtocolFileReader.Problem(field: key, reason: LineMappingError.unknownColumn(key).description))
            }
            let col = m.columns[f.column]
            let mismatch = LineProtocolFileReader.Problem(field: key, reason: "field '\(key)' is \(LineMapping.type(of: field.value)), but the column is declared \(col.type)")
            let value: ColumnValue
            switch (col.type, field.value) {
            case (.int64, .int(let x)): value = .int(x)
            case (.int64, .uint(let x)):
                guard x <= UInt64(Int64.max) else {
                    return .failure(LineProtocolFileReader.Problem(field: key, reason: LineMappingError.unsignedOutOfRange(column: key, value: x).description))
                }
                value = .int(Int64(x))
            case (.float64, .float(let d)): value = .double(d)
            case (.bool, .bool(let b)): value = .bool(b)
            case (.string, .string(let r)):
                let s = p.string(r)
                if let why = LineProtocolFileReader.validate(string: s, f) { return .failure(LineProtocolFileReader.Problem(field: key, reason: "\(key) \(why)")) }
                value = .string(s)
            case (.stringList, .string(let r)): value = .strings(LineProtocolFileReader.list(p.string(r)))
            default: return .failure(mismatch)
            }
            switch value {
            case .int(let x): if !f.rule.accepts(Double(x)) { return .failure(LineProtocolFileReader.Problem(field: key, reason: "\(key) = \(x) is out of range")) }
            case .double(let d):
                if !d.isFinite || !f.rule.accepts(d) { return .failure(LineProtocolFileReader.Problem(field: key, reason: "\(key) = \(d) is out of range")) }
            default: break
            }
            values[f.column] = value
            seen.insert(f.column)
        }
        for f in layout.fields where !seen.contains(f.column) && (f.required || f.defaultValue == nil) {
            return .failure(LineProtocolFileReader.Problem(field: f.name, reason: LineMappingError.missingColumn(f.name).description))
        }
        return .success(LineProtocolFileReader.Row(vehicle: vehicle, time: time, values: values))
    }
}
