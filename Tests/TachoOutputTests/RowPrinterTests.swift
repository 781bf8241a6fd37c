import Foundation
import Testing
import TachoOutput
import TachoTestSupport
import TachoTime

/// The library's row printer against the CLI's golden files: the same rows, encoded here
/// without the CLI, give the same bytes in every format (so an HTTP front prints what
/// `tacho` prints).
@Suite struct RowPrinterTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TachoCLITests/golden").path

    /// Golden outputs whose csv has no quoted field: (name, kind of each column).
    static let cases: [(name: String, kinds: [Kind])] = [
        ("query-detections", [.text, .time, .text, .number]),
        ("query-status", [.text, .time, .text]),
        ("latest", [.text, .time, .text]),
        ("agg-sum-vehicle-type", [.time, .text, .text, .number]),
        ("agg-avg-type", [.time, .text, .number]),
        ("agg-count", [.time, .number]),
    ]

    enum Kind { case text, time, number }

    /// The golden csv read back into header and cells.
    static func rows(_ name: String, _ kinds: [Kind]) throws -> (columns: [String], rows: [[Cell]]) {
        let text = try String(contentsOfFile: "\(golden)/\(name).csv", encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.removeLast() == "")
        let columns = lines.removeFirst().split(separator: ",").map(String.init)
        let rows = try lines.map { line in
            try zip(line.split(separator: ",", omittingEmptySubsequences: false), kinds).map { field, kind -> Cell in
                switch kind {
                case .text: return .text(String(field))
                case .time: return .time(try #require(Timestamp.parseMicros(String(field))))
                case .number:
                    if let v = Int64(field) { return .int(v) }
                    return .double(try #require(Double(String(field))))
                }
            }
        }
        return (columns, rows)
    }

    @Test(arguments: cases.map(\.name), ["csv", "json", "ndjson", "table"])
    func encodesLikeTheCLI(name: String, format: String) throws {
        let kinds = try #require(Self.cases.first { $0.name == name }).kinds
        let (columns, rows) = try Self.rows(name, kinds)
        #expect(!rows.isEmpty)
        let bytes = RowPrinter.encode(try #require(OutputFormat(rawValue: format)), columns: columns, rows: rows)
        let expected = try Data(contentsOf: URL(fileURLWithPath: "\(Self.golden)/\(name).\(format)"))
        #expect(bytes == [UInt8](expected), "\(name).\(format): \(String(decoding: bytes, as: UTF8.self))")
    }

    /// Many rows reach the sink in several pieces, in order, and only the last is short.
    @Test func sinkReceivesEveryByteInPieces() {
        var rng = SplitMix64(seed: 0x5eed_0006)
        let columns = ["vehicle_id", "time", "n", "x"]
        let rows: [[Cell]] = (0..<20_000).map { i in
            [.text("v\(rng.next() % 97)"), .time(Int64(i) * 1_000_000), .int(Int64(bitPattern: rng.next() >> 8)),
             .double(Double(rng.next() % 1_000_000) / 7)]
        }
        for format in [OutputFormat.csv, .json, .ndjson, .table] {
            var pieces: [[UInt8]] = []
            var p = RowPrinter(format, columns: columns) { pieces.append($0) }
            for r in rows { p.row(r) }
            p.finish()
            #expect(pieces.count > 2, "\(format)")
            #expect(pieces.dropLast().allSatisfy { $0.count >= 1 << 16 }, "\(format)")
            #expect(pieces.flatMap { $0 } == RowPrinter.encode(format, columns: columns, rows: rows), "\(format)")
        }
    }

    /// Random text with quotes, commas, backslashes, control bytes and non-ASCII: json and
    /// ndjson parse back (Foundation's parser) to the same strings and numbers.
    @Test func jsonRoundTripsRandomText() throws {
        var rng = SplitMix64(seed: 42)
        let alphabet: [Character] = ["a", "Z", "0", ",", "\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{7F}", "é", "漢", "😀", " "]
        let rows: [[Cell]] = (0..<500).map { _ in
            let s = String((0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            return [.text(s), .int(Int64(bitPattern: rng.next())), .strings([s, "x"]), .bool(rng.next() & 1 == 0), .null]
        }
        let columns = ["s", "i", "list", "b", "nothing"]
        let json = RowPrinter.encode(.json, columns: columns, rows: rows)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [[String: Any]])
        #expect(parsed.count == rows.count)
        let ndjson = RowPrinter.encode(.ndjson, columns: columns, rows: rows)
        let lines = ndjson.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == rows.count)
        for (k, (object, row)) in zip(parsed, rows).enumerated() {
            guard case .text(let s) = row[0], case .int(let i) = row[1], case .bool(let b) = row[3] else { continue }
            #expect(object["s"] as? String == s, "row \(k)")
            #expect((object["i"] as? NSNumber)?.int64Value == i, "row \(k)")
            #expect(object["list"] as? [String] == [s, "x"], "row \(k)")
            #expect(object["b"] as? Bool == b, "row \(k)")
            #expect(object["nothing"] is NSNull, "row \(k)")
            let line = try #require(try JSONSerialization.jsonObject(with: Data(lines[k])) as? [String: Any])
            #expect(line["s"] as? String == s, "ndjson row \(k)")
        }
    }

    /// CSV quotes exactly the fields that need it, doubling quotes; a list joins with `;`.
    @Test func csvQuotesOnlyWhatNeedsIt() {
        let out = RowPrinter.encode(.csv, columns: ["a", "b,c"], rows: [
            [.text("plain"), .text("with,comma")], [.text("say \"hi\""), .text("two\nlines")],
            [.strings(["x", "y"]), .null], [.double(0.1), .double(3)],
        ])
        #expect(String(decoding: out, as: UTF8.self)
            == "a,\"b,c\"\nplain,\"with,comma\"\n\"say \"\"hi\"\"\",\"two\nlines\"\nx;y,\n0.1,3\n")
    }

    @Test func emptyResults() {
        #expect(RowPrinter.encode(.json, columns: ["a"], rows: []) == Array("[]\n".utf8))
        #expect(RowPrinter.encode(.ndjson, columns: ["a"], rows: []) == [])
        #expect(RowPrinter.encode(.csv, columns: ["a"], rows: []) == Array("a\n".utf8))
        #expect(RowPrinter.encode(.table, columns: ["a"], rows: []) == Array("a\n-\n(0 rows)\n".utf8))
        #expect(RowPrinter.encode(.chart, columns: ["t", "v"], rows: []) == Array("(no rows)\n".utf8))
    }
}
