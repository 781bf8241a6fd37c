import Testing
import TachoFormat
import TachoTestSupport

/// Every column type, nullable or not, through `SegmentBuilder` and `SegmentReader`
/// (FORMAT.md §2.3.5–§2.3.7, §2.4), the projection of a segment onto a newer schema, and
/// malformed blocks of the new encodings.
@Suite struct ColumnTypesTests {
    /// Every type twice: nullable and not (an identity column cannot be nullable).
    static let everything = Measurement(id: 9, name: "everything", columns: [
        ColumnSpec("kind", .string, identity: true),
        ColumnSpec("n", .int64, nullable: true),
        ColumnSpec("x", .float64, nullable: true),
        ColumnSpec("label", .string, nullable: true),
        ColumnSpec("flag", .bool, nullable: true),
        ColumnSpec("files", .stringList, nullable: true),
        ColumnSpec("on", .bool),
        ColumnSpec("tags", .stringList),
        ColumnSpec("count", .int64),
        ColumnSpec("reading", .float64),
    ])

    typealias Row = (time: Int64, values: [ColumnValue?])

    static func randomValue(_ t: ColumnType, _ rng: inout SplitMix64) -> ColumnValue {
        let words = ["a", "bb", "", "é", "e\u{301}", "cam1.mp4", "cam2.mp4"]
        switch t {
        case .int64: return .int([0, -1, 7, .max, .min, Int64.random(in: -1000...1000, using: &rng)].randomElement(using: &rng)!)
        case .float64: return .double([0, -0.0, .nan, .infinity, 1.5, Double.random(in: -1...1, using: &rng)].randomElement(using: &rng)!)
        case .string: return .string(words.randomElement(using: &rng)!)
        case .bool: return .bool(Bool.random(using: &rng))
        case .stringList: return .strings((0..<Int.random(in: 0...3, using: &rng)).map { _ in words.randomElement(using: &rng)! })
        }
    }

    /// Rows of one vehicle, times strictly ascending (so every identity is unique); null in a
    /// nullable column with probability `nulls`.
    static func randomRows(_ m: Measurement, count: Int, nulls: Double, _ rng: inout SplitMix64) -> [Row] {
        var t = Int64.random(in: 0..<1_000_000, using: &rng)
        return (0..<count).map { _ in
            t += Int64.random(in: 1...5_000_000, using: &rng)
            let values: [ColumnValue?] = m.columns.map { c in
                c.isNullable && Double.random(in: 0..<1, using: &rng) < nulls ? nil : randomValue(c.type, &rng)
            }
            return (t, values)
        }
    }

    /// Columns of `rows` with string ids into `dictionary`.
    static func columns(_ m: Measurement, _ rows: [Row], dictionary: inout [String]) -> [ColumnValues] {
        func intern(_ s: String) -> UInt32 {
            if let i = dictionary.firstIndex(where: { Identity.equal($0, s) }) { return UInt32(i) }
            dictionary.append(s)
            return UInt32(dictionary.count - 1)
        }
        var cols = m.columns.map { ColumnValues(type: $0.type) }
        for r in rows {
            for (c, v) in r.values.enumerated() {
                switch v {
                case nil: cols[c].appendNull(zeroStringID: intern(""))
                case .int(let x)?: cols[c].ints.append(x)
                case .double(let x)?: cols[c].doubles.append(x)
                case .string(let s)?: cols[c].ids.append(intern(s))
                case .bool(let b)?: cols[c].bools.append(b)
                case .strings(let l)?: cols[c].appendList(l.map(intern))
                }
            }
        }
        return cols
    }

    static func build(_ m: Measurement, _ vehicles: [(String, [Row])], chunkRows: Int) throws -> [UInt8] {
        var o = SegmentBuilder.Options()
        o.chunkRows = chunkRows
        var b = SegmentBuilder(measurement: m, partitionStart: 0, seq: 5, options: o)
        var dictionary: [String] = []
        for (v, rows) in vehicles {
            let cols = columns(m, rows, dictionary: &dictionary)
            try b.appendVehicle(v, times: rows.map(\.time), columns: cols, range: 0..<rows.count, dictionary: dictionary)
        }
        _ = b.finish()
        return b.takePending()
    }

    static func read(_ bytes: [UInt8], as schema: Measurement? = nil) throws -> [(String, [Row])] {
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "test.tseg")
        if let schema { try r.project(onto: schema) }
        var out: [(String, [Row])] = []
        for v in r.footer.vehicles {
            var rows: [Row] = []
            for c in v.chunks {
                var d = DecodedChunk(measurement: r.schema)
                try r.decode(c, into: &d)
                for i in 0..<d.count {
                    rows.append((d.times[i], d.columns.map { ColumnValue.at(i, of: $0.values, dictionary: $0.dictionary) }))
                }
            }
            out.append((v.vehicle, rows))
        }
        return out
    }

    static func same(_ a: [(String, [Row])], _ b: [(String, [Row])]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            x.0 == y.0 && x.1.count == y.1.count && zip(x.1, y.1).allSatisfy { $0.time == $1.time && $0.values == $1.values }
        }
    }

    /// Property: random rows of every type with random nulls (none, some, all) read back
    /// exactly (values bit for bit, nulls where they were), in chunks of random size; the
    /// footer marks nullable columns and counts their nulls.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func everyTypeWithRandomNullsRoundTrips(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        let m = Self.everything
        let nulls = [0.0, 0.3, 1.0][Int(seed % 3)]
        let vehicles = ["a", "b", "vän"].map { v in (v, Self.randomRows(m, count: Int.random(in: 1...60, using: &rng), nulls: nulls, &rng)) }
        let bytes = try Self.build(m, vehicles, chunkRows: Int.random(in: 1...20, using: &rng))
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "t")
        #expect(r.version == 3)
        #expect(r.footer.measurement == m)
        #expect(Self.same(try Self.read(bytes), vehicles))
        // Footer stats: null counts per chunk; int min/max over the rows with a value.
        for (v, rows) in vehicles {
            let e = try #require(r.footer.vehicle(v))
            var at = 0
            for c in e.chunks {
                let chunkRows = rows[at..<(at + c.rowCount)]
                at += c.rowCount
                #expect(c.stats[1].nulls == chunkRows.filter { $0.values[1] == nil }.count)
                let ints = chunkRows.compactMap { row -> Int64? in if case .int(let x)? = row.values[1] { x } else { nil } }
                #expect(c.stats[1].minInt == (ints.min() ?? 0) && c.stats[1].maxInt == (ints.max() ?? 0))
                let trues = chunkRows.filter { if case .bool(true)? = $0.values[6] { true } else { false } }.count
                #expect(c.stats[6].trues == trues)
            }
        }
    }

    /// A column added to the measurement later (a new id) reads as null from a segment
    /// written before it; a column whose type differs under the same id is refused.
    @Test func projectionOntoANewerSchema() throws {
        let old = Measurement(id: 4, name: "alarms", columns: [ColumnSpec("kind", .string, identity: true), ColumnSpec("level", .int64)])
        let newer = Measurement(id: 4, name: "alarms", columns: old.columns + [
            ColumnSpec("files", .stringList, nullable: true, id: 3), ColumnSpec("ack", .bool, nullable: true, id: 4)])
        var rng = SplitMix64(state: 11)
        let rows = Self.randomRows(old, count: 25, nulls: 0, &rng)
        let bytes = try Self.build(old, [("v", rows)], chunkRows: 10)
        let got = try Self.read(bytes, as: newer)
        #expect(Self.same(got, [("v", rows.map { ($0.time, $0.values + [nil, nil]) })]))

        let clash = Measurement(id: 4, name: "alarms", columns: [ColumnSpec("kind", .string, identity: true), ColumnSpec("level", .float64)])
        let r = try SegmentReader(source: InMemorySegmentSource(bytes), path: "t")
        #expect(throws: SegmentReader.ProjectionError.typeDiffers(path: "t", column: "level", segment: .int64, catalog: .float64)) {
            try r.project(onto: clash)
        }
    }

    /// Every single-byte change and every truncation of a segment with the new column types
    /// and null bitmaps is reported as an error, never a trap or a silent change.
    @Test func everyDamageOfAVersion3SegmentIsDetected() throws {
        var rng = SplitMix64(state: 3)
        let rows = Self.randomRows(Self.everything, count: 12, nulls: 0.4, &rng)
        let bytes = try Self.build(Self.everything, [("v", rows)], chunkRows: 6)
        func fails(_ b: [UInt8]) -> Bool {
            do {
                _ = try Self.read(b)
                return false
            } catch {
                return true
            }
        }
        for i in bytes.indices {
            var b = bytes
            b[i] ^= 0x20
            #expect(fails(b), "flip at \(i) not detected")
        }
        for n in stride(from: 0, to: bytes.count, by: 7) { #expect(fails(Array(bytes[..<n])), "truncation to \(n)") }
    }

    /// Malformed bool, string-list and null-bitmap blocks are rejected (FORMAT.md §2.3.5–7).
    @Test func malformedNewBlocksAreRejected() {
        func bool(_ b: [UInt8], _ n: Int) -> Bool {
            var out = DecodedColumn(type: .bool)
            return b.withUnsafeBytes { BoolColumn.decode($0, count: n, version: 3, times: [], into: &out) }
        }
        #expect(bool([0, 1], 5))
        #expect(bool([1, 0b10110], 5))
        #expect(!bool([0, 2], 5))  // constant must be 0 or 1
        #expect(!bool([2, 0], 5))  // unknown mode
        #expect(!bool([1], 5))  // bits missing
        #expect(!bool([1, 0, 0], 5))  // trailing byte

        func list(_ b: [UInt8], _ n: Int) -> Bool {
            var out = DecodedColumn(type: .stringList)
            return b.withUnsafeBytes { StringListColumn.decode($0, count: n, version: 3, times: [], into: &out) }
        }
        // total 2 | lengths: int mode 0 (constant) 1, 2 bytes | strings: dict 1 "a", constant.
        let good: [UInt8] = [2, 2, 0, 2, 1, 1, 0x61, 0]
        #expect(list(good, 2))
        #expect(!list(good, 3))  // lengths sum to 3, total says 2
        #expect(!list([2, 2, 0, 1, 1, 1, 0x61, 0], 2))  // lengths -1
        #expect(!list([2, 9, 0, 2, 1, 1, 0x61, 0], 2))  // length block runs past the end
        #expect(!list(good + [0], 2))  // trailing byte

        func nulls(_ b: [UInt8], _ n: Int) -> [Bool]? {
            var out: [Bool] = []
            let ok = b.withUnsafeBytes { NullBitmap.decode($0, count: n, into: &out) != nil }
            return ok ? out : nil
        }
        #expect(nulls([0], 3) == [])
        #expect(nulls([1, 0b101], 3) == [true, false, true])
        #expect(nulls([2], 3) == nil)
        #expect(nulls([1], 3) == nil)
    }
}
