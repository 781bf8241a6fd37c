import Testing
import TachoTestSupport
@testable import TachoSchema

/// The config's own TOML reader: the TOML 1.0 it must read, the errors it must give, and a
/// round trip of random documents through `TOMLWriter`.
@Suite struct TOMLParserTests {
    func value(_ doc: TOMLTable, _ path: String...) -> TOMLValue? {
        var t = doc
        for k in path.dropLast() {
            guard case .table(let sub)? = t[k]?.value else { return nil }
            t = sub
        }
        return path.last.flatMap { t[$0]?.value }
    }

    @Test func readsTheTOMLAConfigUses() throws {
        let doc = try TOMLParser.parse(#"""
            # comment
            title = "a \"quoted\" \u00e9 string" # trailing comment
            literal = 'C:\path\no escapes'
            multi = """
            first \
              second"""
            lit_multi = '''
            raw \n'''
            int = 1_000
            hex = 0xff
            neg = -17
            float = 2.5e3
            flt = -0.5
            yes = true
            list = [
              "a",  # comment inside
              "b",
            ]
            mixed = [1, 2.0, "x", [true]]
            inline = { a = 1, b.c = "d" }
            dotted.key = 3
            "quoted key" = 4

            [store]
            path = "/var/lib/tacho"

            [store.retention]
            detections = "30d"

            [[measurement]]
            name = "one"
            [[measurement]]
            name = "two"
            [measurement.vehicle]
            keys = ["imei"]
            """#)
        #expect(value(doc, "title") == .string("a \"quoted\" é string"))
        #expect(value(doc, "literal") == .string(#"C:\path\no escapes"#))
        #expect(value(doc, "multi") == .string("first second"))
        #expect(value(doc, "lit_multi") == .string("raw \\n"))
        #expect(value(doc, "int") == .integer(1000))
        #expect(value(doc, "hex") == .integer(255))
        #expect(value(doc, "neg") == .integer(-17))
        #expect(value(doc, "float") == .float(2500))
        #expect(value(doc, "flt") == .float(-0.5))
        #expect(value(doc, "yes") == .bool(true))
        #expect(value(doc, "inline", "b", "c") == .string("d"))
        #expect(value(doc, "dotted", "key") == .integer(3))
        #expect(value(doc, "quoted key") == .integer(4))
        #expect(value(doc, "store", "retention", "detections") == .string("30d"))
        guard case .array(let list)? = value(doc, "list") else { Issue.record("list"); return }
        #expect(list.map(\.value) == [.string("a"), .string("b")])
        guard case .array(let ms)? = value(doc, "measurement") else { Issue.record("measurement"); return }
        #expect(ms.count == 2)
        guard case .table(let second) = ms[1].value else { Issue.record("table"); return }
        #expect(second.keys == ["name", "vehicle"], "[measurement.vehicle] belongs to the last [[measurement]]")
        // Keys keep their order; every value knows its line.
        #expect(doc.keys.prefix(3) == ["title", "literal", "multi"])
        #expect(doc["int"]?.position == TOMLPosition(line: 9, column: 7))
    }

    @Test(arguments: [
        ("a = 1\na = 2\n", 2, 1, "duplicate key 'a'"),
        ("[t]\n[t]\n", 2, 1, "table [t] is defined twice"),
        ("a = \"open\n", 1, 10, "unterminated string"),
        ("a = [1, 2\n", 2, 1, "unterminated array"),
        ("a = { b = 1,\n c = 2 }\n", 1, 13, "expected a key"),
        ("a = 1 b = 2\n", 1, 7, "expected a newline after the value"),
        ("[t\n", 1, 3, "expected ']'"),
        ("a = 01\n", 1, 5, "is not a value"),
        ("a = 1__0\n", 1, 5, "is not a value"),
        ("a = nope\n", 1, 5, "is not a value (strings need quotes)"),
        ("a = 1979-05-27\n", 1, 5, "date and time values are not used"),
        ("a = 07:32:00\n", 1, 5, "date and time values are not used"),
        ("a = \"\\q\"\n", 1, 6, "unknown escape"),
        ("a = \"\u{01}\"\n", 1, 6, "control character 0x1"),
        ("= 1\n", 1, 1, "expected a key"),
        ("a = 1\n[a]\n", 2, 1, "cannot open [a]: it is already an integer"),
        ("[[a]]\n[a]\n", 2, 1, "is an array of tables"),
        ("a\n", 1, 2, "expected '='"),
    ])
    func refusesWithLineAndColumn(text: String, line: Int, column: Int, message: String) {
        do {
            _ = try TOMLParser.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.position == TOMLPosition(line: line, column: column), "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error)")
        }
    }

    @Test func deepNestingIsBounded() {
        let text = "a = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "\n"
        #expect(throws: TOMLError.self) { try TOMLParser.parse(text) }
        let ok = "a = " + String(repeating: "[", count: 10) + String(repeating: "]", count: 10) + "\n"
        #expect((try? TOMLParser.parse(ok)) != nil)
    }

    /// Random strings, numbers and nested arrays/tables written by `TOMLWriter.inline` read
    /// back as the same values.
    @Test func randomValuesRoundTrip() throws {
        var rng = SplitMix64(seed: 0x7011)
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\t", "é", "'", "#", "=", "[", "{", "\u{1}", "\u{7F}", "😀"]
        func randomValue(_ depth: Int) -> TOMLValue {
            switch Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &rng) {
            case 0:
                var s = ""
                for _ in 0..<Int.random(in: 0...12, using: &rng) { s.unicodeScalars.append(alphabet.randomElement(using: &rng)!) }
                return .string(s)
            case 1: return .integer(Int64.random(in: .min ... .max, using: &rng))
            case 2: return .float(Double(Int64.random(in: -1_000_000...1_000_000, using: &rng)) / 64)
            case 3: return .bool(Bool.random(using: &rng))
            case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in TOMLNode(randomValue(depth + 1), at: TOMLPosition(line: 0, column: 0)) })
            default:
                var t = TOMLTable()
                for k in 0..<Int.random(in: 0...4, using: &rng) { t.set(k % 2 == 0 ? "k\(k)" : "k \(k)", TOMLNode(randomValue(depth + 1), at: TOMLPosition(line: 0, column: 0))) }
                return .table(t)
            }
        }
        func same(_ a: TOMLValue, _ b: TOMLValue) -> Bool {
            switch (a, b) {
            case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0.value, $1.value) }
            case (.table(let x), .table(let y)):
                return x.keys == y.keys && x.keys.allSatisfy { k in same(x[k]!.value, y[k]!.value) }
            default: return a == b
            }
        }
        for n in 0..<500 {
            let v = randomValue(0)
            let text = "v = \(TOMLWriter.inline(v))\n"
            let back = try TOMLParser.parse(text)
            let got = try #require(back["v"]?.value, "\(n): \(text)")
            #expect(same(v, got), "\(n): \(text)")
        }
    }
}

/// Damaged config files: whatever the bytes, the reader answers with a config or an error,
/// never a crash or a hang.
@Suite struct TOMLMutationTests {
    @Test func mutatedDefaultsNeverCrash() {
        var rng = SplitMix64(seed: 0xC0FF1E)
        let base = Array(DefaultDeclarations.text.utf8)
        let interesting = Array("[]{}=\"'.,#\n\\ 0-+_eu:x".utf8)
        var accepted = 0, refused = 0
        for _ in 0..<3000 {
            var b = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<b.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: b[at] = interesting.randomElement(using: &rng)!
                case 1: b.remove(at: at)
                default: b.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                }
            }
            do {
                _ = try TachoConfig.parse(bytes: b, file: "m.toml", includeDefaults: false)
                accepted += 1
            } catch {
                #expect(!error.description.isEmpty)
                refused += 1
            }
        }
        #expect(refused > 1000, "mutations are mostly refused: \(accepted) accepted, \(refused) refused")
    }

    @Test func longDottedKeysAndHeadersAreBounded() {
        let key = (0..<10_000).map { "k\($0)" }.joined(separator: ".")
        #expect(throws: TOMLError.self) { try TOMLParser.parse("\(key) = 1\n") }
        #expect(throws: TOMLError.self) { try TOMLParser.parse("[\(key)]\n") }
        #expect(throws: TOMLError.self) { try TOMLParser.parse("a = 0x-1\n") }
    }
}
