import Testing
@testable import TachoLineProtocol

@Suite("Line protocol syntax: rejected lines name line:column and what was expected")
struct LineSyntaxRejectTests {
    typealias Kind = LineProtocolError.Kind

    @Test(arguments: [
        // (line, kind, 1-based column)
        (",t=1 v=1", Kind.expectedMeasurement, 1),
        ("cpu", .expectedFieldSet, 4),
        ("cpu ", .expectedFieldKey, 5),
        ("cpu,", .expectedTagKey, 5),
        ("cpu, v=1", .expectedTagKey, 5),
        ("cpu,host v=1", .expectedTagEquals, 9),
        ("cpu,host=serverA,region value=1i", .expectedTagEquals, 24),
        ("cpu,host= v=1", .expectedTagValue, 10),
        ("cpu,host=a=b v=1", .unescapedEquals, 11),
        ("cpu,a=1,a=2 v=1", .duplicateTagKey, 9),
        ("cpu value", .expectedFieldEquals, 10),
        ("cpu value=", .expectedFieldValue, 11),
        ("cpu value= 1", .expectedFieldValue, 11),
        ("cpu v=1,", .expectedFieldKey, 9),
        ("cpu v=1,=2", .expectedFieldKey, 9),
        ("cpu v=1,v=2", .duplicateFieldKey, 9),
        ("TestBucket FieldOne=Happy,FieldTwo=sad", .unrecognizedFieldValue, 21),
        ("cpu v=tru", .unrecognizedFieldValue, 7),
        ("cpu v=nan", .unrecognizedFieldValue, 7),
        ("cpu v=tRUE", .unrecognizedFieldValue, 7),
        ("cpu v=TRue", .unrecognizedFieldValue, 7),
        ("cpu v=FaLSE", .unrecognizedFieldValue, 7),
        ("cpu v=fALSE", .unrecognizedFieldValue, 7),
        ("cpu v=truee", .unrecognizedFieldValue, 7),
        ("cpu v=+1", .unrecognizedFieldValue, 7),
        ("cpu v=1.0.0", .invalidNumber, 7),
        ("cpu v=1e", .invalidNumber, 7),
        ("cpu v=2a.0", .invalidNumber, 7),
        ("cpu v=1.5i", .invalidNumber, 7),
        ("cpu v=-1u", .invalidNumber, 7),
        ("cpu v=-", .invalidNumber, 7),
        ("cpu v=9223372036854775808i", .valueOutOfRange, 7),
        ("cpu v=-9223372036854775809i", .valueOutOfRange, 7),
        ("cpu v=18446744073709551616u", .valueOutOfRange, 7),
        ("cpu v=1e400", .valueOutOfRange, 7),
        (#"cpu v="unterminated"#, .unterminatedString, 7),
        (#"cpu v="a\""#, .unterminatedString, 7),
        (#"cpu v="a"b"#, .expectedFieldSeparator, 10),
        (#"TestBucket TagOne="Happy" FieldOne=123.45"#, .invalidTimestamp, 27),
        ("cpu v=1 12a", .invalidTimestamp, 9),
        ("cpu v=1 -", .invalidTimestamp, 9),
        ("cpu v=1 1.5", .invalidTimestamp, 9),
        ("cpu v=1 99999999999999999999", .timestampOutOfRange, 9),
        ("cpu v=1 1 2", .trailingContent, 11),
        ("cpu\\", .danglingBackslash, 4),
        ("cpu,t=a\\", .danglingBackslash, 8),
        ("cpu,t\u{01}=a v=1", .controlCharacter, 6),
        ("cpu,t=a\tb v=1", .controlCharacter, 8),
        ("cpu v\u{7F}=1", .controlCharacter, 6),
    ])
    func rejected(text: String, kind: Kind, column: Int) {
        guard let e = reject(text) else { return }
        #expect(e.kind == kind, "\(text): \(e)")
        #expect(e.line == 1 && e.column == column, "\(text): \(e)")
        #expect(e.description.hasPrefix("line 1:\(column): "))
    }

    @Test func messagesSayWhatWasExpected() {
        #expect(reject("m,vehicle_id=v1 temp_c,soc=1")?.description
                == "line 1:23: expected '=' after field key \"temp_c\", found ','")
        #expect(reject("m v")?.description == "line 1:4: expected '=' after field key \"v\", found the end of the line")
        #expect(reject("m,a=1 v=1 x")?.description == "line 1:11: expected an integer timestamp ([-]digits), found \"x\"")
    }

    @Test func secondsThatOverflowNanosecondsAreOutOfRange() {
        let all = parseAll("m v=1 9300000000", LineProtocolOptions(precision: .seconds))
        guard case .failure(let e) = all.first else { Issue.record("\(all)"); return }
        #expect(e.kind == .timestampOutOfRange && e.column == 7)
    }

    @Test func invalidUTF8IsRejectedAtItsByte() {
        var bytes = Array("m,t=ab".utf8)
        bytes += [0xC3, 0x28]  // a lead byte followed by a non-continuation byte
        bytes += Array(" v=1".utf8)
        let all = parseAll(bytes)
        guard case .failure(let e) = all.first else { Issue.record("\(all)"); return }
        #expect(e.kind == .invalidUTF8 && e.column == 8)
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            #expect(parseAll(Array("m v=\"".utf8) + bad + [0x22]).first.map { if case .failure(let e) = $0 { e.kind == .invalidUTF8 } else { false } } == true)
        }
    }

    @Test func aBadLineIsOneRejectAndTheNextLinesStillParse() {
        let text = """
            m1 value=12.0
            m2 value=2a.0
            m3
            m4 value="open
            # fine
            m5 value=42.0
            """
        let all = parseAll(text)
        #expect(all.count == 5)
        let lines = all.map { r -> String in
            switch r {
            case .success(let p): "ok \(p.measurement)"
            case .failure(let e): "\(e.line):\(e.column) \(e.kind)"
            }
        }
        #expect(lines == ["ok m1", "2:10 invalidNumber", "3:3 expectedFieldSet", "4:10 unterminatedString", "ok m5"])
    }
}
