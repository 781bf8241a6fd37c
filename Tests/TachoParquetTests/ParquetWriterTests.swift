import Foundation
import Testing
import TachoParquet
import TachoTestSupport

typealias RB = ParquetReadBack

/// Files from `ParquetWriter` read back by pyarrow and DuckDB (tools/parquet-rows): every
/// value equal (doubles bit for bit), and the footer statistics equal to the data.
@Suite(.serialized) struct ParquetWriterTests {
    static let schema: [ParquetColumn] = [
        ParquetColumn("vehicle_id", .string), ParquetColumn("time", .timestampMicros),
        ParquetColumn("count", .int64, nullable: true), ParquetColumn("level", .double),
        ParquetColumn("ok", .boolean, nullable: true), ParquetColumn("label", .string, nullable: true),
        ParquetColumn("files", .stringList, nullable: true), ParquetColumn("tags", .stringList),
        ParquetColumn("big", .int64), ParquetColumn("maybe", .double, nullable: true),
    ]

    static let strings = ["", "a", "é", "e\u{301}", "日本語", "🚗💨", "tab\there", "line\nbreak", "quote\"comma,", "\u{0}nul",
                          "zzzz", "\u{7F}", "\u{FFFD}", String(repeating: "x", count: 300)]
    static let doubles: [Double] = [0, -0.0, 1.5, -1e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                    -.greatestFiniteMagnitude, .infinity, -.infinity, 0.1 + 0.2, 48.137154]
    static let ints: [Int64] = [0, 1, -1, .max, .min, 1 << 40, -(1 << 33)]

    /// Random rows of `schema`, appended to the writer and returned in canonical form.
    static func writeRandom(_ w: ParquetWriter, rows: Int, seed: UInt64) throws -> [String] {
        var rng = SplitMix64(seed: seed)
        var lines: [String] = []
        var t: Int64 = 1_654_387_200_000_000
        var vehicle = 0
        for _ in 0..<rows {
            if Int.random(in: 0..<50, using: &rng) == 0 { vehicle += 1; t = 1_654_387_200_000_000 }
            t += Int64.random(in: 0...2_000_000, using: &rng)
            let v = "vehicle-\(vehicle)"
            let c = w.columns
            c[0].append(string: v)
            c[1].append(t)
            var line = [RB.string(v), RB.time(t)]
            let count: Int64? = Int.random(in: 0..<4, using: &rng) == 0 ? nil : Int64.random(in: -5...5, using: &rng)
            if let count { c[2].append(count) } else { try c[2].appendNull() }
            line.append(RB.int(count))
            let level = doubles.randomElement(using: &rng) ?? 0
            c[3].append(level)
            line.append(RB.double(level))
            let ok: Bool? = [true, false, nil].randomElement(using: &rng) ?? nil
            if let ok { c[4].append(ok) } else { try c[4].appendNull() }
            line.append(RB.bool(ok))
            let label: String? = Int.random(in: 0..<5, using: &rng) == 0 ? nil : strings.randomElement(using: &rng)
            if let label { c[5].append(string: label) } else { try c[5].appendNull() }
            line.append(RB.string(label))
            let files: [String]? = Int.random(in: 0..<4, using: &rng) == 0
                ? nil : (0..<Int.random(in: 0...3, using: &rng)).map { _ in strings.randomElement(using: &rng) ?? "" }
            if let files { c[6].append(list: files) } else { try c[6].appendNull() }
            line.append(RB.list(files))
            let tags = (0..<Int.random(in: 0...2, using: &rng)).map { _ in "tag\(Int.random(in: 0..<3, using: &rng))" }
            c[7].append(list: tags)
            line.append(RB.list(tags))
            let big = ints.randomElement(using: &rng) ?? 0
            c[8].append(big)
            line.append(RB.int(big))
            let maybe: Double? = Int.random(in: 0..<2, using: &rng) == 0 ? nil : Double(Int.random(in: -3...3, using: &rng)) / 4
            if let maybe { c[9].append(maybe) } else { try c[9].appendNull() }
            line.append(RB.double(maybe))
            lines.append(line.joined(separator: "\t"))
            try w.commitRows(1)
        }
        return lines
    }

    /// Reads `path` with both engines and expects exactly `rows` and agreeing statistics.
    static func expectReadBack(_ path: String, _ rows: [String]) throws {
        for engine in RB.Engine.allCases {
            let r = try RB.read([path], engine: engine)
            #expect(r.files.count == 1, "\(engine)")
            let got = r.files.first?.rows ?? []
            #expect(got.count == rows.count, "\(engine): \(got.count) rows, expected \(rows.count)")
            if let i = (0..<min(got.count, rows.count)).first(where: { got[$0] != rows[$0] }) {
                Issue.record("\(engine): row \(i) is\n\(got[i])\nexpected\n\(rows[i])")
            }
            let statsOK = r.statisticsOK
            #expect(statsOK, "\(engine): \(r.statistics)")
        }
    }

    @Test func randomRowsOfEveryKindReadBackExactly() throws {
        let dir = TempDir("parquet")
        var o = ParquetWriter.Options()
        o.rowGroupRows = 1500
        o.pageRows = 300
        let path = dir.path + "/random.parquet"
        let sink = try AtomicFileSink(path: path)
        let w = try ParquetWriter(columns: Self.schema, sink: sink, options: o)
        let rows = try Self.writeRandom(w, rows: 5000, seed: 16)
        try w.close()
        try sink.commit()
        #expect(w.rowGroups.count == 4)
        #expect(w.rowGroups.map(\.numRows) == [1500, 1500, 1500, 500])
        try Self.expectReadBack(path, rows)
    }

    @Test func oneRowAndZeroRowFiles() throws {
        let dir = TempDir("parquet")
        for n in [0, 1] {
            let path = dir.path + "/rows-\(n).parquet"
            let sink = try AtomicFileSink(path: path)
            let w = try ParquetWriter(columns: Self.schema, sink: sink)
            let rows = try Self.writeRandom(w, rows: n, seed: 7)
            try w.close()
            try sink.commit()
            #expect(w.rowGroups.count == n)
            try Self.expectReadBack(path, rows)
        }
    }

    /// A string column of 100,000 distinct values outgrows the 1 MiB dictionary: PLAIN pages.
    @Test func manyDistinctStringsFallBackToPlain() throws {
        let dir = TempDir("parquet")
        let path = dir.path + "/distinct.parquet"
        let sink = try AtomicFileSink(path: path)
        let w = try ParquetWriter(columns: [ParquetColumn("vehicle_id", .string), ParquetColumn("time", .timestampMicros),
                                            ParquetColumn("id", .string)], sink: sink)
        var rows: [String] = []
        for i in 0..<100_000 {
            let s = "trip-\(i * 7919 % 100_000)-ü"
            w.columns[0].append(string: "v")
            w.columns[1].append(Int64(i))
            w.columns[2].append(string: s)
            try w.commitRows(1)
            rows.append([RB.string("v"), RB.time(Int64(i)), RB.string(s)].joined(separator: "\t"))
        }
        try w.close()
        try sink.commit()
        let chunks = w.rowGroups[0].columns
        #expect(chunks[2].metaData.encodings.contains(.plain) && !chunks[2].metaData.encodings.contains(.rleDictionary))
        #expect(chunks[0].metaData.encodings.contains(.rleDictionary))
        #expect(chunks[1].metaData.encodings == [.deltaBinaryPacked])
        try Self.expectReadBack(path, rows)
    }

    /// 1 M + 1 rows: one full row group of 2^20 rows and one of a single row.
    @Test func aMillionRowsSplitIntoRowGroups() throws {
        let dir = TempDir("parquet")
        let path = dir.path + "/million.parquet"
        let sink = try AtomicFileSink(path: path)
        let w = try ParquetWriter(columns: [ParquetColumn("vehicle_id", .string), ParquetColumn("time", .timestampMicros),
                                            ParquetColumn("speed", .double)], sink: sink)
        let n = (1 << 20) + 1
        var rows: [String] = []
        rows.reserveCapacity(n)
        var rng = SplitMix64(seed: 1)
        for i in 0..<n {
            let v = "v\(i / 100_000)"
            let t = 1_600_000_000_000_000 + Int64(i % 100_000) * 1_000_000
            let x = Double(Int.random(in: 0..<100_000, using: &rng)) / 1000
            w.columns[0].append(string: v)
            w.columns[1].append(t)
            w.columns[2].append(x)
            try w.commitRows(1)
            rows.append(RB.string(v) + "\t" + RB.time(t) + "\t" + RB.double(x))
        }
        try w.close()
        try sink.commit()
        #expect(w.rowGroups.map(\.numRows) == [1 << 20, 1])
        try Self.expectReadBack(path, rows)
    }

    /// Columns whose every row is null (or an empty list): pages of levels without values,
    /// an empty dictionary, statistics with a null count and no min/max.
    @Test func columnsWithoutAnyValue() throws {
        let dir = TempDir("parquet")
        let path = dir.path + "/nulls.parquet"
        let sink = try AtomicFileSink(path: path)
        let w = try ParquetWriter(columns: Self.schema, sink: sink)
        var rows: [String] = []
        for i in 0..<10 {
            let c = w.columns
            c[0].append(string: "v")
            c[1].append(Int64(i))
            for k in [2, 4, 5, 6, 9] { try c[k].appendNull() }
            c[3].append(Double(i))
            c[7].append(list: [])
            c[8].append(Int64(i))
            try w.commitRows(1)
            rows.append([RB.string("v"), RB.time(Int64(i)), "N", RB.double(Double(i)), "N", "N", "N", RB.list([]),
                         RB.int(Int64(i)), "N"].joined(separator: "\t"))
        }
        try w.close()
        try sink.commit()
        #expect(w.rowGroups[0].columns[2].metaData.statistics == Statistics(nullCount: 10, minValue: nil, maxValue: nil))
        try Self.expectReadBack(path, rows)
    }

    @Test func aNullInARequiredColumnIsRefused() throws {
        let w = try ParquetWriter(columns: [ParquetColumn("x", .int64)], sink: MemorySink())
        #expect(throws: ParquetError.nullInRequiredColumn(column: "x")) { try w.columns[0].appendNull() }
    }

    @Test func anAbandonedFileLeavesNothing() throws {
        let dir = TempDir("parquet")
        do {
            let sink = try AtomicFileSink(path: dir.path + "/gone.parquet")
            try sink.write([1, 2, 3])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
