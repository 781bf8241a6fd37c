import Testing
@testable import TachoLineProtocol

/// Every point and reject of `text`, in order.
func parseAll(_ text: String, _ options: LineProtocolOptions = LineProtocolOptions()) -> [Result<LineRecord, LineProtocolError>] {
    parseAll(Array(text.utf8), options)
}

func parseAll(_ bytes: [UInt8], _ options: LineProtocolOptions = LineProtocolOptions()) -> [Result<LineRecord, LineProtocolError>] {
    let parser = LineProtocolParser(bytes: bytes, options: options)
    var out: [Result<LineRecord, LineProtocolError>] = []
    var point = LinePoint()
    while true {
        switch try! parser.next(into: &point) {
        case .point: out.append(.success(LineRecord(point)))
        case .rejected(let e): out.append(.failure(e))
        case .end: return out
        }
    }
}

/// The single point of a one-line input (fails the test otherwise).
func one(_ text: String, _ options: LineProtocolOptions = LineProtocolOptions()) -> LineRecord? {
    let all = parseAll(text, options)
    guard all.count == 1, case .success(let r) = all[0] else {
        Issue.record("expected one point from \(text.debugDescription), got \(all)")
        return nil
    }
    return r
}

/// The single reject of a one-line input.
func reject(_ text: String) -> LineProtocolError? {
    let all = parseAll(text)
    guard all.count == 1, case .failure(let e) = all[0] else {
        Issue.record("expected one reject from \(text.debugDescription), got \(all)")
        return nil
    }
    return e
}

@Suite("Line protocol syntax: accepted lines")
struct LineSyntaxAcceptedTests {
    @Test func theBatteryExampleOfTheContract() {
        let r = one("battery,vehicle_id=v1,pack=A soc=81.5,temp_c=31i 1726293601250000000")
        #expect(r == LineRecord(measurement: "battery", tags: [("vehicle_id", "v1"), ("pack", "A")],
                                fields: [("soc", .float(81.5)), ("temp_c", .int(31))], timestamp: 1_726_293_601_250_000_000))
    }

    @Test func everyFieldTypeAndTagsInLineOrder() {
        let r = one(#" somename,tag2=val2,tag1=val1  f=1,s="hello",i=-1i,u=1u,b=true  1602841605822791506 "#)
        #expect(r == LineRecord(measurement: "somename", tags: [("tag2", "val2"), ("tag1", "val1")],
                                fields: [("f", .float(1)), ("s", .string("hello")), ("i", .int(-1)),
                                         ("u", .uint(1)), ("b", .bool(true))],
                                timestamp: 1_602_841_605_822_791_506))
    }

    @Test func noTagsNoTimestamp() {
        #expect(one("b f=1") == LineRecord(measurement: "b", fields: [("f", .float(1))]))
        #expect(one("9 f=-7 ") == LineRecord(measurement: "9", fields: [("f", .float(-7))]))
    }

    @Test(arguments: [
        ("1", 1.0), ("1.0", 1.0), ("-1.5e10", -1.5e10), ("1.", 1.0), (".5", 0.5), ("-.5", -0.5),
        ("1e3", 1000.0), ("1E+3", 1000.0), ("2.5e-3", 0.0025), ("1.0e-4", 0.0001), ("-0", -0.0),
        ("0.1", 0.1), ("123456789012345678901234567890", 123456789012345678901234567890.0),
        ("4.9406564584124654e-324", Double.leastNonzeroMagnitude), ("1.7976931348623157e308", 1.7976931348623157e308),
        ("3.14159265358979323846", 3.14159265358979323846), ("1e-400", 0.0),
    ])
    func floats(text: String, value: Double) {
        guard let r = one("m v=\(text)"), case .float(let v) = r.fields[0].value else { return }
        #expect(v == value && v.sign == value.sign, "\(text)")
    }

    @Test func integersAtTheirLimits() {
        #expect(one("m a=9223372036854775807i,b=-9223372036854775808i,c=18446744073709551615u,d=0u,e=-0i")?.fields.map(\.value)
                == [.int(.max), .int(.min), .uint(.max), .uint(0), .int(0)])
    }

    @Test func everyBooleanSpelling() {
        let r = one("m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE")
        #expect(r?.fields.map(\.value) == [true, true, true, true, true, false, false, false, false, false].map { .bool($0) })
    }

    @Test func escapesPerElement() {
        // measurement: `\,` `\ ` `\\`; `\=` stays two bytes there. Keys and tag values also `\=`.
        let r = one(#"com\,ma\ sp\=x\\y,t\ k\=e\,y=v\ a\=l\,ue f\ k\=e\,y="q\"uo\\te\x" 1"#)
        #expect(r == LineRecord(measurement: #"com,ma sp\=x\y"#, tags: [("t k=e,y", "v a=l,ue")],
                                fields: [("f k=e,y", .string(#"q"uo\te\x"#))], timestamp: 1))
    }

    @Test func otherBackslashesAreOrdinaryBytes() {
        let r = one(#"m,s=\t\r\n\v x="\t\n""#)
        #expect(r == LineRecord(measurement: "m", tags: [("s", #"\t\r\n\v"#)], fields: [("x", .string(#"\t\n"#))]))
    }

    @Test func equalsSignsInMeasurementsAndStringsAreData() {
        #expect(one(#"a=b c="x=y, z",d=1i"#) == LineRecord(measurement: "a=b", fields: [("c", .string("x=y, z")), ("d", .int(1))]))
    }

    @Test func emptyStringAndUnicode() {
        #expect(one(#"température,lieu=Zürich v="",w="✓ ok" -5"#)
                == LineRecord(measurement: "température", tags: [("lieu", "Zürich")],
                              fields: [("v", .string("")), ("w", .string("✓ ok"))], timestamp: -5))
    }

    @Test(arguments: LinePrecision.allCases)
    func precisionScalesTheTimestamp(precision: LinePrecision) {
        let r = one("m v=1 1726293601", LineProtocolOptions(precision: precision))
        #expect(r?.timestamp == 1_726_293_601 * precision.nanosecondsPerUnit)
    }

    @Test func commentsBlankLinesAndCRLFAreSkipped() {
        let text = "# header\r\n\r\n   \n\t\n  # indented comment\nm v=1\r\n#m v=2\nm v=3"
        let all = parseAll(text)
        #expect(all.count == 2)
        guard case .success(let a) = all[0], case .success(let b) = all[1] else { Issue.record("\(all)"); return }
        #expect(a.fields[0].value == .float(1) && b.fields[0].value == .float(3))
    }

    @Test func pointsCarryTheirPhysicalLine() throws {
        let parser = LineProtocolParser(bytes: Array("# c\n\nm v=1\nm v=2\n".utf8))
        var p = LinePoint()
        #expect(try parser.next(into: &p) == .point && p.line == 3)
        #expect(try parser.next(into: &p) == .point && p.line == 4)
        #expect(try parser.next(into: &p) == .end)
    }
}
