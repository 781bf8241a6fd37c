import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// `tacho export` against `tacho query --format ndjson` on the same store: every exported
/// file, read by pyarrow and by DuckDB, holds exactly the rows the query prints for its
/// measurement and day, in the same order, values equal bit for bit.
@Suite(.serialized) struct ExportCLITests {
    static let t0: Int64 = 1_535_068_800_000_000  // 2018-08-24T00:00:00Z
    static let day: Int64 = 86_400_000_000
    static let alarms = Measurement(id: 4, name: "alarms", columns: [
        ColumnSpec("alarm_type", .string, identity: true), ColumnSpec("severity", .int64, nullable: true),
        ColumnSpec("files", .stringList), ColumnSpec("acknowledged", .bool, nullable: true),
    ])
    /// Each measurement's columns after vehicle_id and time, with their types.
    static let columns: [String: [ColumnType]] = [
        "detections": [.string, .int64], "status": [.string], "locations": [.float64, .float64, .float64, .int64],
        "power": [.float64, .string], "alarms": [.string, .int64, .stringList, .bool],
    ]
    static let vehicles = ["356938035643809", "ü-Straße 🚚", String(repeating: "7", count: 128), "a\"quote\\slash"]

    static func makeStore(_ dir: String, vehicles: [String] = vehicles, offset: Int64 = 0) throws {
        var o = StoreOptions()
        o.measurements = [.locations, .power, alarms]
        o.logger.logLevel = .error
        let w = try StoreWriter(path: dir, options: o)
        var rng = SplitMix64(seed: 9)
        var det = RowBatch(.detections), st = RowBatch(.status), loc = RowBatch(.locations), pw = RowBatch(.power)
        var al = RowBatch(w.catalog.measurement(named: "alarms") ?? alarms)
        for v in vehicles {
            for i in 0..<400 {
                let t = t0 + offset + Int64(i) * 600_000_123  // 10 minutes apart: rows on 3 days
                det.append(vehicle: v, time: t, [.string(["cars", "people", "é-bikes"][i % 3]), .int(Int64(i % 17) - 3)])
                if i % 4 == 0 { st.append(vehicle: v, time: t, [.string(i % 8 == 0 ? "driving" : "parked — ✓")]) }
                let speed = Double(Int.random(in: 0...20_000, using: &rng)) / 100
                loc.append(vehicle: v, time: t, [.double(48.137154 + Double(i) * 1e-5), .double(11.576124 - Double(i) / 3),
                                                 .double(speed), .int(Int64(i % 360))])
                if i % 3 == 0 { pw.append(vehicle: v, time: t, [.double(Double(i) / 7), .string(i % 2 == 0 ? "kW" : "kWh")]) }
                if i % 5 == 0 {
                    al.append(vehicle: v, time: t, [.string(i % 2 == 0 ? "harsh_braking" : "drowsy"), i % 3 == 0 ? nil : .int(Int64(i % 4)),
                                                     .strings((0..<(i % 3)).map { "\(v)/clip;\($0).mp4" }), i % 4 == 0 ? nil : .bool(i % 2 == 0)])
                }
            }
        }
        for b in [det, st, loc, pw, al] { try w.append(b) }
        try w.commit()
        w.close()
    }

    @Test func exportedFilesHoldWhatQueryPrints() throws {
        let store = TempDir("export-cli-store"), out = TempDir("export-cli-out")
        try Self.makeStore(store.path)
        let r = try tacho(["export", "--store", store.path, "--out", out.path, "--box-id", "cli-box"])
        #expect(r.status == 0, "\(r.stderr)")
        let paths = r.stdout.split(separator: "\n").map(String.init)
        #expect(paths.count == 5 * 3, "\(paths)")  // 5 measurements × 3 days
        let perVehicle = 400 + 100 + 400 + 134 + 80  // detections, status, locations, power, alarms
        let total: Int = 4 * perVehicle
        #expect(r.stderr.contains("exported \(total) rows into 15 files"), "\(r.stderr)")
        for m in Self.columns.keys.sorted() {
            let q = try tacho(["query", m, "--format", "ndjson", "--store", store.path])
            #expect(q.status == 0)
            var byDay: [String: [String]] = [:]
            for line in q.stdout.split(separator: "\n") {
                let (day, row) = try Self.canonical(String(line), types: Self.columns[m] ?? [])
                byDay[day, default: []].append(row)
            }
            let mine = paths.filter { $0.hasPrefix(out.path + "/" + m + "/date=") }.sorted()
            #expect(mine.count == byDay.count, "\(m)")
            for p in mine {
                let day = String(p.dropFirst(out.path.count + m.count + 7).prefix(10))
                #expect(p.hasSuffix(".parquet") && p.contains("/cli-box-\(day.replacingOccurrences(of: "-", with: ""))T000000Z-"), "\(p)")
                for engine in ParquetReadBack.Engine.allCases {
                    let got = try ParquetReadBack.read([p], engine: engine)
                    let rows = got.files.first?.rows ?? []
                    let want = byDay[day] ?? []
                    #expect(rows.count == want.count, "\(engine) \(p)")
                    if let i = (0..<min(rows.count, want.count)).first(where: { rows[$0] != want[$0] }) {
                        Issue.record("\(engine) \(p): row \(i) is\n\(rows[i])\nexpected (from tacho query)\n\(want[i])")
                    }
                    let statsOK = got.statisticsOK
                    #expect(statsOK, "\(engine) \(p): \(got.statistics)")
                }
            }
        }
    }

    @Test func rangeAndVehicleOptionsAndNoRowsNoFiles() throws {
        let store = TempDir("export-cli-store"), out = TempDir("export-cli-out")
        try Self.makeStore(store.path)
        let r = try tacho(["export", "--store", store.path, "--out", out.path, "--box-id", "b", "--measurement", "power",
                           "--vehicle", Self.vehicles[2], "--from", "2018-08-25", "--to", "2018-08-26"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix(out.path + "/power/date=2018-08-25/b-20180825T000000Z-") && r.stdout.hasSuffix(".parquet\n")
                && r.stdout.split(separator: "\n").count == 1, "\(r.stdout)")
        let none = try tacho(["export", "--store", store.path, "--out", out.path + "/x", "--box-id", "b", "--vehicle", "nobody"])
        #expect(none.status == 0 && none.stdout.isEmpty)
        #expect(none.stderr.contains("exported 0 rows into 0 files") && none.stderr.contains("no data for vehicle nobody"), "\(none.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path + "/x"))
        let bad = try tacho(["export", "--store", store.path, "--out", out.path, "--box-id", "a/b"])
        #expect(bad.status != 0 && bad.stderr.contains("box id \"a/b\""), "\(bad.stderr)")
        let unknown = try tacho(["export", "--store", store.path, "--out", out.path, "--measurement", "nope"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown measurement"), "\(unknown.stderr)")
    }

    @Test func helpTeachesTheLayout() throws {
        let r = try tacho(["export", "--help"])
        #expect(r.status == 0)
        for needle in ["<measurement>/date=YYYY-MM-DD/<box-id>-<partition>-<seq>.parquet", "--out", "--box-id", "--measurement",
                       "--from", "--to", "--vehicle", "--row-group-rows", "Examples:"] {
            #expect(r.stdout.contains(needle), "\(needle)")
        }
    }

    // MARK: ndjson → the canonical form of tools/parquet-rows

    /// One ndjson row: its UTC day and its canonical line.
    static func canonical(_ line: String, types: [ColumnType]) throws -> (String, String) {
        var p = FlatJSON(Array(line.utf8))
        let values = try p.object()
        guard values.count == types.count + 2, case .string(let v) = values[0], case .string(let time) = values[1] else {
            throw FlatJSON.Bad(message: "unexpected row \(line)")
        }
        var out = [ParquetReadBack.string(v), ParquetReadBack.time(try micros(time))]
        for (value, type) in zip(values.dropFirst(2), types) {
            switch (value, type) {
            case (.null, _): out.append("N")
            case (.number(let n), .int64): out.append(ParquetReadBack.int(Int64(n)))
            case (.number(let n), .float64): out.append(ParquetReadBack.double(Double(n)))
            case (.string(let s), .string): out.append(ParquetReadBack.string(s))
            case (.bool(let b), .bool): out.append(ParquetReadBack.bool(b))
            case (.strings(let l), .stringList): out.append(ParquetReadBack.list(l))
            default: throw FlatJSON.Bad(message: "value \(value) for \(type) in \(line)")
            }
        }
        return (String(time.prefix(10)), out.joined(separator: "\t"))
    }

    /// `2018-08-24T00:03:00.000Z` (any fraction up to µs) → µs since the epoch.
    static func micros(_ s: String) throws -> Int64 {
        let b = Array(s.utf8)
        func num(_ r: Range<Int>) -> Int64 { r.reduce(0) { $0 * 10 + Int64(b[$1] - 48) } }
        guard b.count >= 20, b.last == UInt8(ascii: "Z") else { throw FlatJSON.Bad(message: "time \(s)") }
        let (y, m, d) = (num(0..<4), num(5..<7), num(8..<10))
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
        var frac: Int64 = 0, digits = 0
        if b[19] == UInt8(ascii: ".") {
            for i in 20..<(b.count - 1) { frac = frac * 10 + Int64(b[i] - 48); digits += 1 }
        }
        while digits < 6 { frac *= 10; digits += 1 }
        return ((days * 24 + num(11..<13)) * 60 + num(14..<16)) * 60_000_000 + num(17..<19) * 1_000_000 + frac
    }
}

/// A reader of one flat JSON object whose values are strings, numbers (kept as text, so a
/// double converts exactly), booleans, null or arrays of strings; values in key order.
struct FlatJSON {
    struct Bad: Error { var message: String }
    enum Value { case null, number(String), string(String), bool(Bool), strings([String]) }
    let b: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { self.b = b }

    mutating func object() throws -> [Value] {
        try expect("{")
        var out: [Value] = []
        while b[i] != UInt8(ascii: "}") {
            if !out.isEmpty { try expect(",") }
            _ = try string()
            try expect(":")
            out.append(try value())
        }
        return out
    }

    mutating func expect(_ c: Character) throws {
        guard i < b.count, b[i] == c.asciiValue else { throw Bad(message: "expected \(c) at \(i)") }
        i += 1
    }

    mutating func value() throws -> Value {
        switch b[i] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "n"): i += 4; return .null
        case UInt8(ascii: "t"): i += 4; return .bool(true)
        case UInt8(ascii: "f"): i += 5; return .bool(false)
        case UInt8(ascii: "["):
            i += 1
            var l: [String] = []
            while b[i] != UInt8(ascii: "]") {
                if !l.isEmpty { try expect(",") }
                l.append(try string())
            }
            i += 1
            return .strings(l)
        default:
            let s = i
            while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}") { i += 1 }
            return .number(String(decoding: b[s..<i], as: UTF8.self))
        }
    }

    mutating func string() throws -> String {
        try expect("\"")
        var out: [UInt8] = []
        while b[i] != UInt8(ascii: "\"") {
            if b[i] == UInt8(ascii: "\\") {
                i += 1
                switch b[i] {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "u"):
                    var u = UInt32(String(decoding: b[(i + 1)..<(i + 5)], as: UTF8.self), radix: 16) ?? 0
                    i += 4
                    if (0xD800..<0xDC00).contains(u), b[i + 1] == UInt8(ascii: "\\") {
                        let lo = UInt32(String(decoding: b[(i + 3)..<(i + 7)], as: UTF8.self), radix: 16) ?? 0
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                        i += 6
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(u) ?? "\u{FFFD}")).utf8))
                default: out.append(b[i])
                }
            } else {
                out.append(b[i])
            }
            i += 1
        }
        i += 1
        return String(decoding: out, as: UTF8.self)
    }
}
