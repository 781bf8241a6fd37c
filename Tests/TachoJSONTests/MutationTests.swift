import Testing
@testable import TachoJSON
import TachoTestSupport

/// Outcome of a parse that is comparable across chunk sizes.
enum Outcome: Equatable {
    case value(JValue)
    case error(JSONError.Kind, offset: Int, line: Int, column: Int)
}

func outcome(_ bytes: [UInt8], chunk: Int, lenient: Bool) -> Outcome {
    do {
        return .value(try parseDocument(bytes, options: JSONParserOptions(lenient: lenient, chunkSize: chunk)))
    } catch let e as JSONError {
        return .error(e.kind, offset: e.offset, line: e.line, column: e.column)
    } catch {
        fatalError("\(error)")
    }
}

@Suite struct MutationTests {
    /// Randomly damaged fixtures: never a crash; the same outcome (value, or error kind and
    /// position) at every chunk size; error line/column always agree with the byte offset.
    @Test(arguments: [false, true])
    func damagedFixturesBehaveIdenticallyAtEveryChunkSize(lenient: Bool) throws {
        var rng = SplitMix64(seed: lenient ? 11 : 12)
        let sources = try Fixtures.validFiles().map { try Fixtures.bytes($0) }
            + [try Fixtures.bytes(Fixtures.malformedObjects), try Fixtures.bytes(Fixtures.malformedStatus)]
        let interesting: [UInt8] = Array(",:{}[]\"\\ \n\t0-.eEtfnu".utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xE2, 0xED, 0xEF, 0xF0, 0xFF]
        var errors = 0
        for round in 0..<400 {
            var doc = sources[round % sources.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<doc.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: doc[i] = interesting.randomElement(using: &rng)!
                case 1: doc.insert(interesting.randomElement(using: &rng)!, at: i)
                default: doc.remove(at: i)
                }
            }
            let reference = outcome(doc, chunk: 1 << 18, lenient: lenient)
            for chunk in [1, 2, 7, 64] {
                #expect(outcome(doc, chunk: chunk, lenient: lenient) == reference, "round \(round) chunk \(chunk)")
            }
            if case .error(_, let offset, let line, let column) = reference {
                errors += 1
                #expect(offset >= 0 && offset <= doc.count)
                let before = doc[0..<offset]
                let expectedLine = before.filter { $0 == 0x0A }.count + 1
                let lineStart = (before.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
                #expect(line == expectedLine && column == offset - lineStart + 1, "round \(round)")
            }
        }
        #expect(errors > 100)  // the mutations really do break documents
    }
}
