import Testing
@testable import TachoJSON

@Suite struct ErrorTests {
    func expectError(_ s: String, _ kind: JSONError.Kind, line: Int = 1, column: Int,
                     options: JSONParserOptions = JSONParserOptions(),
                     sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(Array(s.utf8), kind, line: line, column: column, options: options, sourceLocation: sourceLocation)
    }

    func expectError(_ b: [UInt8], _ kind: JSONError.Kind, line: Int = 1, column: Int,
                     options: JSONParserOptions = JSONParserOptions(),
                     sourceLocation: SourceLocation = #_sourceLocation) {
        for chunk in [options.chunkSize, 1, 3] {
            var o = options
            o.chunkSize = chunk
            guard let e = parseError(b, options: o) else {
                Issue.record("no error for \(b.count) bytes (chunk \(chunk))", sourceLocation: sourceLocation)
                return
            }
            #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
            #expect(e.line == line && e.column == column, "\(e)", sourceLocation: sourceLocation)
        }
    }

    @Test func loneSurrogates() throws {
        expectError(#"["\uD800"]"#, .loneSurrogate, column: 3)
        expectError(#"["ab\uDC00"]"#, .loneSurrogate, column: 5)
        expectError(#"["\uD800\u0041"]"#, .loneSurrogate, column: 3)
        expectError(#"["\uD800x"]"#, .loneSurrogate, column: 3)
        expectError(#"["\uDBFF\uDBFF"]"#, .loneSurrogate, column: 3)
        #expect(try parseDocument(Array(#"["\uD83D\uDE00\u00e9\u0000"]"#.utf8)) == .array([.string("😀é\u{0}")]))
    }

    @Test func invalidUTF8() throws {
        expectError([0x22, 0xC3, 0x28, 0x22], .invalidUTF8, column: 2)  // bad continuation
        expectError([0x22, 0xC0, 0x80, 0x22], .invalidUTF8, column: 2)  // overlong
        expectError([0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8, column: 2)  // encoded surrogate
        expectError([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8, column: 2)  // > U+10FFFF
        expectError([0x22, 0x61, 0xF5, 0x22], .invalidUTF8, column: 3)
        expectError([0x22, 0x80, 0x22], .invalidUTF8, column: 2)  // lone continuation
        expectError([0x22, 0xE2, 0x82, 0x22], .invalidUTF8, column: 2)  // short sequence
        #expect(try parseDocument([0x22, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0x22]) == .string("€😀"))
    }

    @Test func controlCharactersInStrings() throws {
        expectError("[\"a\tb\"]", .controlCharacter, column: 4)
        expectError("{\"k\":\"line\nbreak\"}", .controlCharacter, column: 11)
        expectError([0x22, 0x00, 0x22], .controlCharacter, column: 2)
        #expect(try parseDocument(Array("\"\\t\\n\\r\\b\\f\\/\\\\\\\"\"".utf8)) == .string("\t\n\r\u{8}\u{c}/\\\""))
    }

    @Test func invalidEscapes() {
        expectError(#"["\x"]"#, .invalidEscape, column: 3)
        expectError(#"["\u12G4"]"#, .invalidEscape, column: 7)
        expectError(#"["\'"]"#, .invalidEscape, column: 3)
    }

    @Test func millionDeepNestingIsAnErrorNotACrash() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        let e = parseError(deep)
        #expect(e?.kind == .depthLimitExceeded)
        #expect(e?.column == 257)
        #expect(e?.message.contains("JSONLimits.maxDepth (256)") == true)
        let objects = [UInt8](String(repeating: "{\"a\":", count: 1_000_000).utf8)
        #expect(parseError(objects)?.kind == .depthLimitExceeded)
    }

    @Test func millionDeepNestingParsesIterativelyWhenAllowed() throws {
        let n = 1_000_000
        let doc = [UInt8](repeating: UInt8(ascii: "["), count: n) + [UInt8](repeating: UInt8(ascii: "]"), count: n)
        let p = JSONParser(bytes: doc, options: JSONParserOptions(limits: JSONLimits(maxDepth: n)))
        #expect(try countTokens(p) == 2 * n)
        let q = JSONParser(bytes: doc, options: JSONParserOptions(limits: JSONLimits(maxDepth: n)))
        #expect(try q.skipValue())
        #expect(try q.next() == .endOfDocument)
        // Truncated deep document: truncated, not a crash.
        let r = JSONParser(bytes: Array(doc.prefix(n + 10)), options: JSONParserOptions(limits: JSONLimits(maxDepth: n)))
        #expect(throws: JSONError.self) { _ = try countTokens(r) }
    }

    @Test func hugeNumberLiteralHitsLengthLimit() {
        let digits = "1" + String(repeating: "0", count: 99_999)
        expectError("[\(digits)]", .numberLimitExceeded, column: 2)
        expectError("\(digits)", .numberLimitExceeded, column: 1)
        let e = parseError("[\(digits)]")
        #expect(e?.message.contains("JSONLimits.maxNumberLength (512") == true)
        // 512 characters is allowed (a float with 510 fraction digits).
        #expect(parseError("0." + String(repeating: "1", count: 510)) == nil)
        #expect(parseError("0." + String(repeating: "1", count: 511))?.kind == .numberLimitExceeded)
    }

    /// Range is the reader's business (issue 12, item 8): a grammatical number too large for
    /// Int64 or Double is a `.number` token whose accessors say so, not a parse error that
    /// would reject a whole file for one field.
    @Test func outOfRangeNumbersAreTokensTheAccessorsRefuse() throws {
        #expect(try parseDocument(Array("[9223372036854775807,-9223372036854775808,-0,0]".utf8))
                == .array([.int(.max), .int(.min), .int(0), .int(0)]))
        let p = JSONParser(bytes: Array("[9223372036854775808, -9223372036854775809, 99999999999999999999, 1e400, -1e400, 1e-400, 7]".utf8))
        #expect(try p.next() == .beginArray)
        var seen: [(Bool, Int64?, Int64?, Double)] = []
        while try p.next() == .number { seen.append((p.isInteger, p.int64Value, p.asExactInt64, p.doubleValue)) }
        #expect(p.currentToken == .endArray)
        #expect(seen.map(\.0) == [false, false, false, false, false, false, true])
        #expect(seen.map(\.1) == [nil, nil, nil, nil, nil, nil, 7])
        #expect(seen.map(\.2) == [nil, nil, nil, nil, nil, nil, 7])
        #expect(seen.map(\.3) == [9223372036854775808.0, -9223372036854775809.0, 1e20, .infinity, -.infinity, 0, 7])
        // Syntax errors stay parse errors.
        expectError("[1e]", .invalidNumber, column: 4)
        expectError("[--1]", .invalidNumber, column: 3)
    }

    @Test func numberGrammar() throws {
        expectError("[01]", .invalidNumber, column: 2)
        expectError("[-01]", .invalidNumber, column: 3)
        expectError("00", .invalidNumber, column: 1)
        expectError("[1.]", .invalidNumber, column: 4)
        expectError("[1.e5]", .invalidNumber, column: 4)
        expectError("[-]", .invalidNumber, column: 3)
        expectError("[1e]", .invalidNumber, column: 4)
        expectError("[1e+]", .invalidNumber, column: 5)
        expectError("[1-2]", .invalidNumber, column: 3)
        expectError("[.5]", .unexpectedCharacter, column: 2)
        expectError("[+1]", .unexpectedCharacter, column: 2)
        expectError("[0x10]", .unexpectedCharacter, column: 3)
        expectError("[Infinity]", .unexpectedCharacter, column: 2)
        expectError("[NaN]", .unexpectedCharacter, column: 2)
        #expect(try parseDocument(Array("[0,-0.0,1E5,1e-5,2.5E+3,0.5]".utf8))
                == .array([.int(0), .double(-0.0), .double(1e5), .double(1e-5), .double(2500), .double(0.5)]))
    }

    @Test func stringLengthLimit() throws {
        let limits = JSONLimits(maxStringBytes: 10)
        let o = JSONParserOptions(limits: limits)
        #expect(parseError(#"["0123456789"]"#, options: o) == nil)
        expectError(#"["0123456789A"]"#, .stringLimitExceeded, column: 2, options: o)
        expectError(#"["0123456789\n"]"#, .stringLimitExceeded, column: 2, options: o)
        expectError(#"{"0123456789é":1}"#, .stringLimitExceeded, column: 2, options: o)
        let big = "[\"" + String(repeating: "x", count: (1 << 20) + 1) + "\"]"
        expectError(big, .stringLimitExceeded, column: 2, options: JSONParserOptions(chunkSize: 4096))
        #expect(parseError(big)?.message.contains("JSONLimits.maxStringBytes (1048576") == true)
    }

    @Test func trailingContent() {
        expectError("{} x", .trailingContent, column: 4)
        expectError("1 2", .trailingContent, column: 3)
        expectError("[]]", .trailingContent, column: 3)
        expectError("{}\n\n  {}", .trailingContent, line: 3, column: 3)
        expectError("nullnull", .trailingContent, column: 5)
        #expect(parseError("{} \n\t\r ") == nil)
    }

    @Test func emptyInput() {
        expectError("", .emptyInput, column: 1)
        expectError(" \n\t ", .emptyInput, line: 2, column: 3)
        #expect(parseError("")?.description == "line 1, column 1: empty input: expected a JSON value")
    }

    @Test func whitespaceIsRFCOnly() {
        expectError("[1,\u{0C}2]", .unexpectedCharacter, column: 4)  // form feed
        expectError("[1,\u{A0}2]", .unexpectedCharacter, column: 4)  // NBSP
        expectError("[1,\u{0B}2]", .unexpectedCharacter, column: 4)  // vertical tab
        #expect(parseError("\r\n[\t1 ,\r\n2 ]\r\n") == nil)
    }

    @Test func byteOrderMark() throws {
        let doc: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("{\"a\":1}".utf8)
        expectError(doc, .byteOrderMark, column: 1)
        let v = try parseDocument(doc, options: JSONParserOptions(lenient: true))
        #expect(v == .object([.init(key: "a", value: .int(1))]))
        let p = JSONParser(bytes: doc, options: JSONParserOptions(lenient: true, chunkSize: 1))
        _ = try countTokens(p)
        #expect(p.repairs.map(\.kind) == [.byteOrderMark])
        expectError([0xEF, 0xBB], .truncated, column: 3, options: JSONParserOptions(lenient: true))
        expectError([0x20, 0xEF, 0xBB, 0xBF, 0x31], .unexpectedCharacter, column: 2, options: JSONParserOptions(lenient: true))
    }

    @Test func literals() throws {
        expectError("[tru]", .invalidLiteral, column: 2)
        expectError("[nul", .truncated, column: 5)
        expectError("[falsy]", .invalidLiteral, column: 2)
        expectError("[True]", .unexpectedCharacter, column: 2)
        expectError("[truex]", .unexpectedCharacter, column: 6)
        #expect(try parseDocument(Array("[true,false,null]".utf8)) == .array([.bool(true), .bool(false), .null]))
    }

    @Test func syntaxMessages() {
        #expect(parseError("{\"a\" 1}")?.description == "line 1, column 6: expected ':' after object key, found '1'")
        #expect(parseError("{1:2}")?.description == "line 1, column 2: expected string key or '}' after '{', found '1'")
        #expect(parseError("[1 2]")?.description == "line 1, column 4: expected ',' or ']' after array element, found '2'")
        #expect(parseError("[1,]")?.description == "line 1, column 4: expected a value after ',' in array, found ']'")
        #expect(parseError("{'a':1}")?.kind == .unexpectedCharacter)
        #expect(parseError("[1,/*c*/2]")?.kind == .unexpectedCharacter)
    }

    @Test func truncatedMessages() {
        let e = parseError("{\n  \"a\": \"xy")
        #expect(e?.kind == .truncated)
        #expect(e?.description == "unexpected end of input at line 2, column 11 (offset 12): unterminated string")
        #expect(parseError("[1,")?.message == "unclosed array: expected a value after ','")
        #expect(parseError("{\"a\"")?.message == "unclosed object: expected ':' after key")
        #expect(parseError("[1.5e")?.kind == .truncated)
        #expect(parseError("[-")?.kind == .truncated)
        #expect(parseError("\"\\u12")?.kind == .truncated)
    }

    @Test func lenientRepairsOnlyTheListedDamage() throws {
        let lenient = JSONParserOptions(lenient: true)
        expectError("[1 2]", .unexpectedCharacter, column: 4, options: lenient)  // same line: not repaired
        expectError("[1,,2]", .unexpectedCharacter, column: 4, options: lenient)
        expectError("[,1]", .unexpectedCharacter, column: 2, options: lenient)
        expectError("{'a':1}", .unexpectedCharacter, column: 2, options: lenient)
        expectError("{\"a\":1 \"b\":2}", .unexpectedCharacter, column: 8, options: lenient)
        expectError("[1,]x", .trailingContent, column: 5, options: lenient)
        let p = JSONParser(bytes: Array("{\"a\":[1,\n2\n,3,],\n \" b\\t\":{\"c\":null,}\n}".utf8), options: lenient)
        let v = try readValue(p)
        #expect(try p.next() == .endOfDocument)
        #expect(v == .object([.init(key: "a", value: .array([.int(1), .int(2), .int(3)])),
                              .init(key: "b", value: .object([.init(key: "c", value: .null)]))]))
        #expect(p.repairs.map(\.kind) == [.trailingComma, .keyWhitespace, .trailingComma])
        #expect(p.repairs.map { "\($0.line):\($0.column)" } == ["3:3", "4:2", "4:18"])
        // Missing commas across lines.
        let q = JSONParser(bytes: Array("[1\n2\n\"x\"\n{}]".utf8), options: lenient)
        #expect(try readValue(q) == .array([.int(1), .int(2), .string("x"), .object([])]))
        #expect(q.repairs.map(\.kind) == [.missingComma, .missingComma, .missingComma])
        // Strict keeps the key untrimmed.
        #expect(try parseDocument(Array("{\" k \":1}".utf8)) == .object([.init(key: " k ", value: .int(1))]))
    }

    @Test func errorsAreSticky() throws {
        let p = JSONParser(bytes: Array("[1,x]".utf8))
        #expect(try p.next() == .beginArray)
        #expect(try p.next() == .number)
        let first = #expect(throws: JSONError.self) { try p.next() }
        let second = #expect(throws: JSONError.self) { try p.next() }
        #expect(first == second)
    }

    @Test func fileSourceErrorsNameThePath() {
        do {
            _ = try JSONParser(path: "/nonexistent/tacho/x.json")
            Issue.record("opened a nonexistent file")
        } catch let e as ByteSourceError {
            #expect(e.description == "open '/nonexistent/tacho/x.json': No such file or directory (errno 2)")
        } catch {
            Issue.record("wrong error \(error)")
        }
        // Reading a directory fails in read(2) with EISDIR, surfaced as an io JSONError.
        do {
            let p = try JSONParser(path: "/tmp")
            _ = try p.next()
            Issue.record("read a directory")
        } catch let e as JSONError {
            #expect(e.kind == .io)
            #expect(e.message.contains("'/tmp'") && e.message.contains("Is a directory"))
        } catch {
            Issue.record("wrong error \(error)")
        }
    }
}
