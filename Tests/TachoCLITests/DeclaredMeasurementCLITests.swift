import Foundation
import Testing
import TachoTestSupport

/// Declared measurements end to end through the built binary (docs/SEMANTICS.md §1
/// "Declared measurements", "Line protocol input"): a measurement declared only in a TOML
/// file is ingested from every input shape and queried; random records against a model;
/// alarm filters; energy from the fleet-power fixtures; hostile declarations refused before
/// anything is written.
@Suite struct DeclaredMeasurementCLITests {
    /// Declared only here: nested/flat JSON (`trips[].samples[]`), NDJSON and line protocol.
    static let gaugeTOML = """
        [line_protocol]
        vehicle_tag = "vin"

        [[measurement]]
        name = "gauge"
        records = "trips[].samples[]"
        files = { prefixes = ["gauge"], key = "trips" }
        vehicle = { keys = ["vin"] }
        time = { key = "t", format = "unix_us" }
        identity = ["probe"]
        fields = [
          { name = "probe", type = "string", max_bytes = 16 },
          { name = "reading", type = "float64", min = -1000, max = 1000 },
          { name = "count", type = "int64", required = false },
          { name = "ok", type = "bool", required = false },
          { name = "tags", type = "string_list", required = false },
        ]

        # Envelope fields beside the records: unit and site before or after readings[].
        [[measurement]]
        name = "meter"
        records = "readings[]"
        files = { prefixes = ["meter"], key = "readings" }
        vehicle = { keys = ["unit"] }
        time = { key = "at", format = "unix_s" }
        fields = [
          { name = "site", type = "string" },
          { name = "kwh", type = "float64", min = 0 },
        ]

        """

    struct Row: Hashable, Comparable {
        var vehicle: String
        var micros: Int64
        var probe: String
        var reading: Double
        var count: Int64?
        var ok: Bool?
        var tags: [String]?

        static func < (a: Row, b: Row) -> Bool { (a.vehicle, a.micros, a.probe) < (b.vehicle, b.micros, b.probe) }

        /// The record's JSON members (time and fields; the vehicle is the caller's).
        var members: [String] {
            var m = ["\"t\":\(micros)", "\"probe\":\"\(probe)\"", "\"reading\":\(reading)"]
            if let count { m.append("\"count\":\(count)") }
            if let ok { m.append("\"ok\":\(ok)") }
            if let tags { m.append("\"tags\":[" + tags.map { "\"\($0)\"" }.joined(separator: ",") + "]") }
            return m
        }

        var lineProtocol: String {
            var f = ["reading=\(reading)"]
            if let count { f.append("count=\(count)i") }
            if let ok { f.append("ok=\(ok)") }
            if let tags { f.append("tags=\"\(tags.joined(separator: ";"))\"") }
            return "gauge,vin=\(vehicle),probe=\(probe) \(f.joined(separator: ",")) \(micros * 1000)"
        }
    }

    static func timeText(_ micros: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        return f.string(from: Date(timeIntervalSince1970: Double(micros / 1000) / 1000))
    }

    /// A query's ndjson output as rows.
    static func parse(_ ndjson: String) throws -> [Row] {
        try ndjson.split(separator: "\n").map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let t = try #require(o["time"] as? String)
            var row = Row(
                vehicle: try #require(o["vehicle_id"] as? String), micros: 0, probe: try #require(o["probe"] as? String),
                reading: try #require((o["reading"] as? NSNumber)?.doubleValue))
            row.micros = try #require(Self.micros(t))
            row.count = (o["count"] as? NSNumber)?.int64Value
            if let b = o["ok"] as? NSNumber { row.ok = b.boolValue }
            row.tags = o["tags"] as? [String]
            return row
        }
    }

    static func micros(_ text: String) -> Int64? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        return f.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) * 1000 }
    }

    static let t0: Int64 = 1_719_792_000_000_000  // 2024-07-01T00:00:00Z

    /// Random records of every column type (optional ones absent at random, lists empty or
    /// not) through every shape; the query gives exactly the model's rows.
    @Test(arguments: [UInt64(1), 2, 3])
    func randomRecordsThroughEveryShapeMatchTheModel(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let dir = TempDir("tacho-declared")
        let cfg = dir.path + "/tacho.toml"
        try Self.gaugeTOML.write(toFile: cfg, atomically: true, encoding: .utf8)
        let inbox = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        var model: [Row] = []
        var tick: Int64 = 0
        func row(_ vehicle: String, lineProtocol: Bool) -> Row {
            tick += Int64.random(in: 1...5, using: &rng) * 1000
            var r = Row(
                vehicle: vehicle, micros: Self.t0 + tick, probe: ["p1", "p2", "oil"].randomElement(using: &rng)!,
                reading: Double(Int.random(in: -4000...4000, using: &rng)) / 4)
            if Bool.random(using: &rng) { r.count = Int64.random(in: -1_000_000...1_000_000, using: &rng) }
            if Bool.random(using: &rng) { r.ok = Bool.random(using: &rng) }
            if Bool.random(using: &rng) {
                // Line protocol writes a list as a;b: an empty one is the empty string.
                let n = Int.random(in: (lineProtocol ? 1 : 0)...3, using: &rng)
                r.tags = (0..<n).map { _ in ["a", "b", "front.mp4", "x y"].randomElement(using: &rng)! }
            }
            model.append(r)
            return r
        }
        for file in 0..<6 {
            let v = "V\(file % 3)"
            switch file % 6 {
            case 0:  // nested: vehicle on the trip, samples inside
                let trips = (0..<3).map { _ in
                    "{\"vin\":\"\(v)\",\"samples\":[" + (0..<4).map { _ in "{" + row(v, lineProtocol: false).members.joined(separator: ",") + "}" }.joined(separator: ",") + "]}"
                }
                try "{\"trips\":[\(trips.joined(separator: ","))]}".write(toFile: "\(inbox)/gauge_\(file).json", atomically: true, encoding: .utf8)
            case 1:  // flat: each trip is a record
                let trips = (0..<6).map { _ in "{\"vin\":\"\(v)\"," + row(v, lineProtocol: false).members.joined(separator: ",") + "}" }
                try "{\"trips\":[\(trips.joined(separator: ","))]}".write(toFile: "\(inbox)/gauge_\(file).json", atomically: true, encoding: .utf8)
            case 2, 4:  // NDJSON: one trip per line, named like the JSON files
                let lines = (0..<5).map { _ in
                    "{\"vin\":\"\(v)\",\"samples\":[{" + row(v, lineProtocol: false).members.joined(separator: ",") + "}]}"
                }
                try (lines.joined(separator: "\n") + "\n").write(toFile: "\(inbox)/gauge_\(file).ndjson", atomically: true, encoding: .utf8)
            default:  // line protocol
                let lines = (0..<6).map { _ in row(v, lineProtocol: true).lineProtocol }
                try ("# gauge\n" + lines.joined(separator: "\n") + "\n").write(toFile: "\(inbox)/g_\(file).lp", atomically: true, encoding: .utf8)
            }
        }
        let store = dir.path + "/store"
        let ing = try tacho(["ingest", "--store", store, "--config", cfg, inbox])
        #expect(ing.status == 0, "\(ing.stderr)")
        let q = try tacho(["query", "gauge", "--store", store, "--config", cfg, "--format", "ndjson"])
        #expect(q.status == 0, "\(q.stderr)")
        let got = try Self.parse(q.stdout)
        #expect(got == model.sorted(), "seed \(seed)")
        // Absent lists are null, empty ones []: both shapes are kept apart.
        #expect(got.contains { $0.tags == nil } && got.contains { $0.count == nil })
    }

    /// Envelope fields before and after the records' array give the same rows.
    @Test func envelopeBeforeAndAfterTheRecords() throws {
        let dir = TempDir("tacho-declared")
        let cfg = dir.path + "/tacho.toml"
        try Self.gaugeTOML.write(toFile: cfg, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        try #"{"unit":"U1","site":"north","readings":[{"at":1719792000,"kwh":1.5},{"at":1719792060,"kwh":2}]}"#
            .write(toFile: dir.path + "/in/meter_a.json", atomically: true, encoding: .utf8)
        try #"{"readings":[{"at":1719792000,"kwh":3},{"at":1719792060,"kwh":4.25,"site":"own"}],"site":"south","unit":7}"#
            .write(toFile: dir.path + "/in/meter_b.json", atomically: true, encoding: .utf8)
        let store = dir.path + "/store"
        let ing = try tacho(["ingest", "--store", store, "--config", cfg, dir.path + "/in"])
        #expect(ing.status == 0, "\(ing.stderr)")
        let q = try tacho(["query", "meter", "--store", store])
        #expect(q.stdout == """
            vehicle_id,time,site,kwh
            7,2024-07-01T00:00:00.000Z,south,3
            7,2024-07-01T00:01:00.000Z,own,4.25
            U1,2024-07-01T00:00:00.000Z,north,1.5
            U1,2024-07-01T00:01:00.000Z,north,2

            """, "\(q.stderr)")
    }

    /// Line protocol: an undeclared measurement is created from its first line; a type
    /// contradiction or a missing vehicle tag rejects the line with its reason; with
    /// `auto_create = false` undeclared lines are rejected and nothing is created.
    @Test func lineProtocolAutoCreateAndRejects() throws {
        let dir = TempDir("tacho-declared")
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        try """
            engine,vehicle_id=V3,bank=A temp_c=90.5,rpm=2100i 1719792000000000000
            engine,vehicle_id=V3,bank=A temp_c=91.5 1719792060000000000
            engine,vehicle_id=V3,bank=A temp_c=91i 1719792090000000000
            engine,bank=B temp_c=1.5 1719792090000000000

            """.write(toFile: dir.path + "/in/e.lp", atomically: true, encoding: .utf8)
        let store = dir.path + "/store"
        let ing = try tacho(["ingest", "--store", store, "--rejected", dir.path + "/rej", dir.path + "/in"])
        #expect(ing.status == 1)
        #expect(ing.stderr.contains("e.lp:3:1: rejected record 2: field 'temp_c' is int64, but the column is declared float64"), "\(ing.stderr)")
        #expect(ing.stderr.contains("e.lp:4:1: rejected record 3: no 'vehicle_id' tag"), "\(ing.stderr)")
        let rejects = try String(contentsOfFile: dir.path + "/rej/e.lp.rejects.ndjson", encoding: .utf8)
        #expect(rejects.contains(#""measurement":"engine","field":"temp_c""#), "\(rejects)")
        let q = try tacho(["query", "engine", "--store", store])
        #expect(q.stdout == """
            vehicle_id,time,bank,temp_c,rpm
            V3,2024-07-01T00:00:00.000Z,A,90.5,2100
            V3,2024-07-01T00:01:00.000Z,A,91.5,

            """, "\(q.stderr)")

        let off = dir.path + "/off.toml"
        try "[line_protocol]\nauto_create = false\n".write(toFile: off, atomically: true, encoding: .utf8)
        let store2 = dir.path + "/store2"
        let ing2 = try tacho(["ingest", "--store", store2, "--config", off, dir.path + "/in"])
        #expect(ing2.status == 1)
        #expect(ing2.stderr.contains("measurement 'engine' is not declared (auto_create = false)"), "\(ing2.stderr)")
        let m = try tacho(["measurements", "--store", store2])
        #expect(!m.stdout.contains("engine"), "\(m.stdout)")
    }

    /// Alarms (a string list of files) filtered by device, type and severity in a time
    /// range: exactly the model's rows with their file lists.
    @Test func alarmFiltersReturnTheModelsRows() throws {
        var rng = SplitMix64(seed: 13)
        let dir = TempDir("tacho-declared")
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        struct Alarm { var imei: String; var minute: Int; var type: String; var severity: Int; var files: [String]? }
        var alarms: [Alarm] = []
        for f in 0..<4 {
            var recs: [String] = []
            for i in 0..<25 {
                let a = Alarm(
                    imei: ["3569", "3570"].randomElement(using: &rng)!, minute: f * 25 + i,
                    type: ["collision", "speeding", "drowsy"].randomElement(using: &rng)!,
                    severity: Int.random(in: 0...4, using: &rng),
                    files: Bool.random(using: &rng) ? nil : (0..<Int.random(in: 0...2, using: &rng)).map { "v\(f)_\(i)_\($0).mp4" })
                alarms.append(a)
                var m = [#""imei":"\#(a.imei)""#, #""time":"\#(Self.timeText(Self.t0 + Int64(a.minute) * 60_000_000))""#,
                         #""alarm_type":"\#(a.type)""#, #""severity":\#(a.severity)"#]
                if let files = a.files { m.append(#""files":["# + files.map { "\"\($0)\"" }.joined(separator: ",") + "]") }
                recs.append("{" + m.joined(separator: ",") + "}")
            }
            try "{\"alarms\":[\(recs.joined(separator: ","))]}".write(toFile: dir.path + "/in/alarms_\(f).json", atomically: true, encoding: .utf8)
        }
        let store = dir.path + "/store"
        let ing = try tacho(["ingest", "--store", store, dir.path + "/in"])
        #expect(ing.status == 0, "\(ing.stderr)")
        let from = Self.t0 + 10 * 60_000_000, to = Self.t0 + 80 * 60_000_000
        let q = try tacho([
            "query", "alarms", "--store", store, "--vehicle", "3569", "--where", "alarm_type=speeding", "--where", "severity>=2",
            "--from", Self.timeText(from), "--to", Self.timeText(to),
        ])
        let want = alarms.filter { a in
            let t = Self.t0 + Int64(a.minute) * 60_000_000
            return a.imei == "3569" && a.type == "speeding" && a.severity >= 2 && t >= from && t < to
        }.map { a in
            "3569,\(Self.timeText(Self.t0 + Int64(a.minute) * 60_000_000)),speeding,\(a.severity),\((a.files ?? []).joined(separator: ";"))"
        }
        #expect(!want.isEmpty)
        #expect(q.stdout == (["vehicle_id,time,alarm_type,severity,files"] + want).joined(separator: "\n") + "\n", "\(q.stderr)")
    }

    /// 15-minute energy from the fleet-power fixtures (kWh hourly, kW every 5 minutes, kWh
    /// every 15 minutes) and a file mixing kW and kWh in one window: the formula of
    /// docs/SEMANTICS.md, empty windows 0.
    @Test func energyFromPowerFiles() throws {
        let dir = TempDir("tacho-declared")
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        // Vehicle 9: kW samples 10 and 30 in 00:00–00:15 and a kWh reading of 4 in it.
        try #"{"data":[{"timestamp":"2018-08-24T00:01:00Z","value":10},{"timestamp":"2018-08-24T00:07:00Z","value":30}],"spaceship_id":9,"units":"kW"}"#
            .write(toFile: dir.path + "/in/power_9a.json", atomically: true, encoding: .utf8)
        try #"{"spaceship_id":"9","units":"kWh","data":[{"timestamp":"2018-08-24T00:14:00Z","value":4}]}"#
            .write(toFile: dir.path + "/in/power_9b.json", atomically: true, encoding: .utf8)
        let store = dir.path + "/store"
        let ing = try tacho(["ingest", "--store", store, fixturesDirectory + "/fleet-power", dir.path + "/in"])
        #expect(ing.status == 0, "\(ing.stderr)")
        let q = try tacho([
            "agg", "power", "--store", store, "--field", "value", "--fn", "energy", "--every", "15m", "--label", "right",
            "--fill", "0", "--from", "2018-08-24T00:00:00Z", "--to", "2018-08-24T01:00:00Z",
        ])
        // Ship 1: 12 kWh at 00:00 (01:00 is outside). Ship 2: (22+24+23)/3·¼, (18+22+23)/3·¼,
        // 8·¼, then empty. Ship 3: its kWh readings. Ship 9: (10+30)/2·¼ + 4.
        #expect(q.stdout == """
            bucket,vehicle_id,value
            2018-08-24T00:15:00.000Z,1,12
            2018-08-24T00:15:00.000Z,2,5.75
            2018-08-24T00:15:00.000Z,3,2
            2018-08-24T00:15:00.000Z,9,9
            2018-08-24T00:30:00.000Z,1,0
            2018-08-24T00:30:00.000Z,2,5.25
            2018-08-24T00:30:00.000Z,3,5
            2018-08-24T00:30:00.000Z,9,0
            2018-08-24T00:45:00.000Z,1,0
            2018-08-24T00:45:00.000Z,2,2
            2018-08-24T00:45:00.000Z,3,2
            2018-08-24T00:45:00.000Z,9,0
            2018-08-24T01:00:00.000Z,1,0
            2018-08-24T01:00:00.000Z,2,0
            2018-08-24T01:00:00.000Z,3,6
            2018-08-24T01:00:00.000Z,9,0

            """, "\(q.stderr)")
    }

    /// A hostile declaration is refused before anything is written: no store is created.
    /// Too many fields: 1,025 (one over the limit) and 10,000 on one line (the key locator
    /// once took minutes over such a line).
    @Test(arguments: [
        ("unknown type", #"{ name = "x", type = "decimal" }"#, "decimal"),
        ("duplicate column", #"{ name = "x", type = "int64" }, { name = "x", type = "float64" }"#, "x"),
        ("slash", #"{ name = "a/b", type = "int64" }"#, "/"),
        ("dots", #"{ name = "a..b", type = "int64" }"#, ".."),
        ("too many fields", "1025", "1025 fields"),
        ("ten thousand fields", "10000", "10000 fields"),
    ])
    func hostileDeclarationIsRefusedBeforeWriting(_ label: String, fields spec: String, mention: String) throws {
        let fields = Int(spec).map { n in (0..<n).map { "{ name = \"f\($0)\", type = \"int64\" }" }.joined(separator: ", ") } ?? spec
        let dir = TempDir("tacho-declared")
        let cfg = dir.path + "/tacho.toml"
        try """
            [[measurement]]
            name = "bad"
            records = "bad[]"
            files = { prefixes = ["bad"] }
            vehicle = { keys = ["vehicle_id"] }
            time = { key = "t" }
            fields = [ \(fields) ]

            """.write(toFile: cfg, atomically: true, encoding: .utf8)
        try #"{"bad":[]}"#.write(toFile: dir.path + "/bad_1.json", atomically: true, encoding: .utf8)
        for cmd in [["ingest", dir.path + "/bad_1.json"], ["run", "--inbox", dir.path + "/inbox"]] {
            let r = try tacho([cmd[0], "--store", dir.path + "/store", "--config", cfg] + cmd.dropFirst())
            #expect(r.status != 0, "\(label): \(cmd[0])")
            #expect(r.stderr.contains(mention), "\(label): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/store"), "\(label): \(cmd[0]) created the store")
            #expect(!FileManager.default.fileExists(atPath: dir.path + "/inbox"), "\(label): \(cmd[0]) created the inbox")
        }
    }
}
