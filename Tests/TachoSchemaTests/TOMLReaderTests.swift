import Testing
import TachoTestSupport
@testable import TachoSchema

/// The TOMLKit adapter (`TOMLReader`): the TOML 1.0 a config uses as this module's value
/// model, errors with line:column, positions and key order from the key locator, and a
/// round trip of random documents through `TOMLWriter`.
@Suite struct TOMLReaderTests {
    func value(_ doc: TOMLTable, _ path: String...) -> TOMLValue? {
        var t = doc
        for k in path.dropLast() {
            guard case .table(let sub)? = t[k]?.value else { return nil }
            t = sub
        }
        return path.last.flatMap { t[$0]?.value }
    }

    @Test func readsTheTOMLAConfigUses() throws {
        let doc = try TOMLReader.parse(#"""
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

    /// Real malformed inputs: TOMLKit's (toml++'s) own line:column and message, passed on.
    @Test(arguments: [
        ("a = 1\na = 2\n", 2, 5, "cannot redefine existing integer 'a'"),
        ("[t]\n[t]\n", 2, 1, "cannot redefine existing table 't'"),
        ("a = \"open\n", 1, 10, "unescaped control characters"),
        ("a = [1, 2\n", 1, 11, "encountered end-of-file"),
        ("a = { b = 1,\n c = 2 }\n", 1, 13, "expected key or closing '}'"),
        ("a = 1 b = 2\n", 1, 7, "expected a comment or whitespace, saw 'b'"),
        ("[t\n", 1, 3, "expected ']'"),
        ("a = 01\n", 1, 7, "leading zeroes are prohibited"),
        ("a = 1__0\n", 1, 7, "underscores may only follow digits"),
        ("a = nope\n", 1, 6, "expected 'nan'"),
        ("a = \"\\q\"\n", 1, 7, "unknown escape sequence"),
        ("a = \"\u{01}\"\n", 1, 6, "unescaped control characters"),
        ("= 1\n", 1, 1, "saw '='"),
        ("a = 1\n[a]\n", 2, 1, "cannot redefine existing integer 'a' as table"),
        ("[[a]]\n[a]\n", 2, 1, "cannot redefine existing array 'a' as table"),
        ("a\n", 1, 2, "expected '='"),
        ("a = 0x-1\n", 1, 7, "expected digit"),
        ("[store]\npath = /var/lib\n", 2, 8, "could not determine value type"),
        // Refused by the adapter, not by TOMLKit: toml++ 3.4 would assume these away (an
        // assertion in a debug build, undefined behaviour in a release build).
        ("x = 1\n[[.easurement]]\n", 2, 3, "expected a table name after '['"),
        ("x = 1\n[\ny = 2\n", 2, 2, "expected a table name after '['"),
        ("a = [}]\n", 1, 6, "found '}'"),
        ("a = [1, # c\n }]\n", 2, 2, "found '}'"),
        // Refused by the adapter, not by TOMLKit.
        ("a = 1979-05-27\n", 1, 5, "date and time values are not used"),
        ("a = 07:32:00\n", 1, 5, "date and time values are not used"),
        ("[t]\nb = 1979-05-27T07:32:00Z\n", 2, 5, "date and time values are not used"),
        ("a = 1\nb = \"x\u{0}y\"\n", 2, 7, "a NUL character is not allowed"),
        ("a = 1\nb = \"\u{FF}\"\n", 2, 6, "not UTF-8"),
    ])
    func refusesWithLineAndColumn(text: String, line: Int, column: Int, message: String) {
        // Bytes, so the invalid UTF-8 case stays invalid (\u{FF} above stands for byte 0xFF).
        var bytes = Array(text.utf8)
        if let at = bytes.firstRange(of: Array("\u{FF}".utf8)) { bytes.replaceSubrange(at, with: [0xFF]) }
        do {
            _ = try TOMLReader.parse(bytes: bytes)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.position == TOMLPosition(line: line, column: column), "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error)")
        }
    }

    /// The guards in front of TOMLKit look past strings and comments.
    @Test func guardsLeaveValidTextAlone() throws {
        let doc = try TOMLReader.parse(#"""
            a = ["[}", '[,}', """x
            [}""""]  # [} in a comment
            s = '''
            [.x]
            [
            '''
            t = { u = [1, { v = 2 }] }
            """#)
        guard case .array(let a)? = doc["a"]?.value else { Issue.record("a"); return }
        #expect(a.map(\.value) == [.string("[}"), .string("[,}"), .string("x\n[}\"")])
        #expect(doc["s"]?.value == .string("[.x]\n[\n"))
        #expect(doc.keys == ["a", "s", "t"])
    }

    @Test func deepNestingIsBounded() {
        // Past toml++'s own bound (256), past the adapter's (64), and fine.
        for n in [300, 100] {
            let text = "a = " + String(repeating: "[", count: n) + String(repeating: "]", count: n) + "\n"
            #expect(throws: TOMLError.self) { try TOMLReader.parse(text) }
        }
        let ok = "a = " + String(repeating: "[", count: 10) + String(repeating: "]", count: 10) + "\n"
        #expect((try? TOMLReader.parse(ok)) != nil)
    }

    /// Positions TOMLKit does not give come from the key locator: `[[x]]` headers, values
    /// after `key =`, keys of inline tables, and array items one per line.
    @Test func nodesKnowWhereTheyAreWritten() throws {
        let doc = try TOMLReader.parse("""
            [[m]]
            name = "a"
            fields = [
              { name = "x", type = "int64" },  # one
              { name = "y", type = "string" },
            ]
            [[m]]
            "quoted key" =   'v'
            [m.sub]
            z = [1, { w = 2 }]
            """)
        guard case .array(let ms)? = doc["m"]?.value, ms.count == 2,
              case .table(let m0) = ms[0].value, case .table(let m1) = ms[1].value,
              case .array(let fields)? = m0["fields"]?.value, fields.count == 2,
              case .table(let y) = fields[1].value,
              case .table(let sub)? = m1["sub"]?.value, case .array(let z)? = sub["z"]?.value,
              case .table(let w) = z[1].value
        else { Issue.record("shape: \(doc)"); return }
        #expect(ms.map(\.position) == [TOMLPosition(line: 1, column: 1), TOMLPosition(line: 7, column: 1)])
        #expect(m0["name"]?.position == TOMLPosition(line: 2, column: 8))
        #expect(fields.map(\.position) == [TOMLPosition(line: 4, column: 3), TOMLPosition(line: 5, column: 3)])
        #expect(y["type"]?.position == TOMLPosition(line: 5, column: 24))
        #expect(y.keys == ["name", "type"], "keys in written order, not toml++'s sorted order")
        #expect(m1["quoted key"]?.position == TOMLPosition(line: 8, column: 18))
        #expect(m1["sub"]?.position == TOMLPosition(line: 9, column: 1))
        #expect(w["w"]?.position == TOMLPosition(line: 10, column: 15))
    }

    /// Keys come back in the order they are written (toml++ sorts them), also for keys
    /// the locator cannot place.
    @Test func keysKeepTheirWrittenOrder() throws {
        let doc = try TOMLReader.parse("zeta = 1\nalpha = 2\nmid.b = 3\nmid.a = 4\n")
        #expect(doc.keys == ["zeta", "alpha", "mid"])
        guard case .table(let mid)? = doc["mid"]?.value else { Issue.record("mid"); return }
        #expect(mid.keys == ["b", "a"])
    }

    /// Lines inside a multi-line string are skipped; a path the line walk cannot tell apart
    /// (an escaped `\"""` it takes for the end of the string) gets no wrong position: it
    /// falls back to its parent's.
    @Test func stringsAndAmbiguousKeys() throws {
        let skipped = try TOMLReader.parse("[t]\nnote = \"\"\"\nx = 1\n\"\"\"\nx = 2\n")
        guard case .table(let t)? = skipped["t"]?.value else { Issue.record("t"); return }
        #expect(t["x"]?.value == .integer(2))
        #expect(t["x"]?.position == TOMLPosition(line: 5, column: 5))
        let fooled = try TOMLReader.parse("[t]\nnote = \"\"\"a \\\"\"\" \nx = 1\n\"\"\"\nx = 2\n")
        guard case .table(let u)? = fooled["t"]?.value else { Issue.record("t"); return }
        #expect(u["note"]?.value == .string("a \"\"\" \nx = 1\n"))
        #expect(u["x"]?.value == .integer(2))
        #expect(u["x"]?.position == TOMLPosition(line: 1, column: 1), "ambiguous: the table's header")
    }

    /// The built-in declarations as `tacho config defaults` writes them read back equal.
    @Test func defaultsTextRoundTrips() throws {
        let rendered = TachoConfig.render(DefaultDeclarations.declarations)
        let back = try TachoConfig.parse(rendered, file: nil, includeDefaults: false)
        #expect(back.declaredMeasurements == DefaultDeclarations.declarations)
        let original = try TachoConfig.parse(DefaultDeclarations.text, file: nil, includeDefaults: false)
        #expect(original.declaredMeasurements == DefaultDeclarations.declarations)
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
            let back = try TOMLReader.parse(text)
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

    /// toml++ accepts any number of dotted-key parts; the adapter bounds the nesting.
    @Test func longDottedKeysAndHeadersAreBounded() {
        let key = (0..<10_000).map { "k\($0)" }.joined(separator: ".")
        #expect(throws: TOMLError.self) { try TOMLReader.parse("\(key) = 1\n") }
        #expect(throws: TOMLError.self) { try TOMLReader.parse("[\(key)]\n") }
        let fine = (0..<20).map { "k\($0)" }.joined(separator: ".")
        #expect((try? TOMLReader.parse("\(fine) = 1\n")) != nil)
    }
}
