import TachoFormat
import TachoLineProtocol
import TachoSchema
import TachoTestSupport
import Testing
@testable import TachoIngest

/// `LineRowMapper` (by bytes, with the line before's key order as a hint) against
/// `LineProtocolFileReader.row` (a String per key): the same row or the same problem for every
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
            let want = LineProtocolFileReader.row(p, layout, o)
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
}

