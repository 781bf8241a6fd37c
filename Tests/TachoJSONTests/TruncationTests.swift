import Testing
@testable import TachoJSON

@Suite struct TruncationTests {
    /// Every prefix of a valid document that stops before the end of its top-level value
    /// must fail (truncated, or emptyInput for the empty/whitespace prefix) — never succeed,
    /// never crash. Prefixes that only drop trailing whitespace must parse.
    func checkAllPrefixes(_ bytes: [UInt8], chunk: Int, lenient: Bool) {
        let isWS: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        let valueEnd = (bytes.lastIndex { !isWS($0) } ?? -1) + 1
        for cut in 0...bytes.count {
            let prefix = Array(bytes[0..<cut])
            let e = parseError(prefix, options: JSONParserOptions(lenient: lenient, chunkSize: chunk))
            if cut >= valueEnd {
                #expect(e == nil, "cut \(cut) after the value: \(String(describing: e))")
                continue
            }
            guard let e else {
                Issue.record("prefix of \(cut) bytes parsed successfully")
                continue
            }
            let onlyWhitespace = prefix.allSatisfy(isWS)
            #expect(e.kind == (onlyWhitespace ? .emptyInput : .truncated), "cut \(cut): \(e)")
            #expect(e.offset == cut, "cut \(cut): \(e)")
        }
    }

    @Test(arguments: try Fixtures.validFiles())
    func everyPrefixOfValidFixtureFails(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        #expect(parseError(bytes) == nil)
        checkAllPrefixes(bytes, chunk: 256 * 1024, lenient: false)
        checkAllPrefixes(bytes, chunk: 7, lenient: true)
    }

    @Test func everyPrefixOfLenientFixtureFailsInLenientMode() throws {
        for file in [Fixtures.malformedObjects, Fixtures.malformedStatus] {
            let bytes = try Fixtures.bytes(file)
            #expect(parseError(bytes, options: JSONParserOptions(lenient: true)) == nil)
            checkAllPrefixes(bytes, chunk: 3, lenient: true)
        }
    }

    @Test func everyPrefixOfEscapeAndUnicodeHeavyDocumentFails() {
        let doc = Array(#"{"k\u00e9y":["\uD83D\uDE00 é€😀\n\"", -12.5e-3, true, false, null, {"":[]}, 0]}"#.utf8)
        #expect(parseError(doc) == nil)
        checkAllPrefixes(doc, chunk: 1, lenient: false)
        checkAllPrefixes(doc, chunk: 5, lenient: false)
    }
}
