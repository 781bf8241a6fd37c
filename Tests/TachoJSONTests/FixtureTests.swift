import Foundation
import Testing
@testable import TachoJSON

@Suite struct FixtureTests {
    @Test(arguments: try Fixtures.validFiles())
    func validFixtureParsesCompletelyInBothModes(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        let oracle = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        for lenient in [false, true] {
            let p = try JSONParser(path: Fixtures.path(file), options: JSONParserOptions(lenient: lenient))
            let v = try readValue(p)
            #expect(try p.next() == .endOfDocument)
            #expect(p.bytesConsumed == bytes.count)
            #expect(p.repairs.isEmpty)
            guard case .object(let members) = v else {
                Issue.record("top level is not an object")
                return
            }
            #expect(Set(members.map(\.key)) == Set(oracle?.keys.map { $0 } ?? []))
        }
    }

    @Test func nestedObjectsFixtureContents() throws {
        let v = try parseDocument(try Fixtures.bytes("mobileye-nested/objects_detection_1654462955.json"))
        guard case .object(let top) = v, top.count == 1, top[0].key == "objects_detection_events",
              case .array(let events) = top[0].value else {
            Issue.record("unexpected shape \(v)")
            return
        }
        #expect(events.count == 3)
        guard case .object(let first) = events[0] else { Issue.record("event not object"); return }
        #expect(first.map(\.key) == ["vehicle_id", "detection_time", "detections"])
        #expect(first[0].value == .string("ebab5f787798416fb2b8afc1340d7a4e"))
        #expect(first[1].value == .string("2022-06-05T21:02:34.546Z"))
        guard case .array(let dets) = first[2].value else { Issue.record("no detections"); return }
        #expect(dets.count == 4)
        #expect(dets[1] == .object([.init(key: "object_type", value: .string("cars")),
                                    .init(key: "object_value", value: .int(2))]))
    }

    @Test func strictMalformedObjectsReportsPythonPosition() throws {
        let e = try #require(parseError(try Fixtures.bytes(Fixtures.malformedObjects)))
        #expect(e.kind == .unexpectedCharacter)
        #expect(e.line == 20)
        #expect(e.column == 7)
        #expect(e.offset == 437)
        #expect(e.description == "line 20, column 7: expected ',' or '}' after object member, found '\"'")
    }

    @Test func strictMalformedStatusReportsPythonPosition() throws {
        let e = try #require(parseError(try Fixtures.bytes(Fixtures.malformedStatus)))
        #expect(e.kind == .unexpectedCharacter)
        #expect(e.line == 7)
        #expect(e.column == 5)
        #expect(e.offset == 166)
        #expect(e.description == "line 7, column 5: expected string key after ',' in object, found '}'")
    }

    @Test func strictErrorIsSameWithTinyChunksAndFromFile() throws {
        for chunk in [1, 2, 7, 64] {
            let opts = JSONParserOptions(chunkSize: chunk)
            let e = try #require(parseError(try Fixtures.bytes(Fixtures.malformedObjects), options: opts))
            #expect((e.line, e.column, e.offset) == (20, 7, 437))
        }
        let p = try JSONParser(path: Fixtures.path(Fixtures.malformedStatus))
        #expect(throws: JSONError.self) { _ = try countTokens(p) }
    }

    @Test func lenientMalformedObjectsParsesWithOneMissingCommaRepair() throws {
        let p = try JSONParser(path: Fixtures.path(Fixtures.malformedObjects), options: JSONParserOptions(lenient: true))
        let v = try readValue(p)
        #expect(try p.next() == .endOfDocument)
        #expect(p.repairs.map(\.kind) == [.missingComma])
        #expect(p.repairs.first.map { "\($0.line):\($0.column)" } == "20:7")
        guard case .object(let top) = v, case .array(let events) = top[0].value,
              case .object(let first) = events[0] else {
            Issue.record("unexpected shape")
            return
        }
        #expect(events.count == 3)
        #expect(first.map(\.key) == ["vehicle_id", "detection_time", "detections", "object_type", "object_value"])
        #expect(first[4].value == .int(3))
    }

    @Test func lenientMalformedStatusParsesWithRepairs() throws {
        for chunk in [1, 3, 256 * 1024] {
            let p = JSONParser(bytes: try Fixtures.bytes(Fixtures.malformedStatus),
                               options: JSONParserOptions(lenient: true, chunkSize: chunk))
            let v = try readValue(p)
            #expect(try p.next() == .endOfDocument)
            let r = p.drainRepairs()
            #expect(r.map(\.kind) == [.trailingComma, .trailingComma, .keyWhitespace])
            #expect(r.map { "\($0.line):\($0.column)" } == ["6:26", "11:27", "16:7"])
            #expect(p.repairs.isEmpty)
            #expect(p.repairCount == 3)
            guard case .object(let top) = v, case .array(let rows) = top[0].value,
                  case .object(let last) = rows[2] else {
                Issue.record("unexpected shape")
                return
            }
            #expect(rows.count == 3)
            #expect(last.map(\.key) == ["vehicle_id", "report_time", "status"])
            #expect(last[2].value == .string("parking"))
        }
    }
}
