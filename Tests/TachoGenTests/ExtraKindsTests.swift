import Foundation
import TachoJSON
import TachoLineProtocol
import TachoTestSupport
import Testing
@testable import tacho_gen

/// Generates the extra kinds into a fresh directory.
func generate(_ arguments: [String], vehicles: Int = 6, seed: UInt64 = 1, hours: Double = 3,
              into dir: TempDir) throws -> [ExtraKind: ExtraStats] {
    let options = try ExtraOptions.parse(arguments)
    let start = try parseRFC3339("2025-09-14T06:00:00Z")
    let generator = ExtraGenerator(options: options, directory: dir.path, ids: Fleet(vehicles: vehicles, seed: seed).ids, seed: seed)
    return Dictionary(uniqueKeysWithValues: try generator.run(start: start, end: start + Int64(hours * 3_600_000)))
}

func files(_ dir: TempDir, prefix: String, ext: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path)
        .filter { $0.hasPrefix(prefix + "_") && $0.hasSuffix("." + ext) }.sorted().map { dir.path + "/" + $0 }
}

func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

func validTime(_ t: JSONTree?) -> Bool { t?.string.flatMap { Timestamp.parseMicros($0) } != nil }

/// Epoch ms of the file's modification time.
func mtime(_ path: String) throws -> Int64 {
    let date = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
    return Int64(((date?.timeIntervalSince1970 ?? 0) * 1000).rounded())
}

@Suite("tacho-gen extra kinds: files parse and hold the counts of the summary")
struct ExtraKindsTests {
    static let busy = ["--extra", "all", "--extra-bad-share", "0.1", "--extra-late-share", "0.2",
                       "--extra-gap-share", "0.03", "--extra-per-file", "50"]

    @Test(arguments: [1 as UInt64, 2])
    func locationsAndAlarms(seed: UInt64) throws {
        let dir = TempDir("gen")
        let stats = try generate(Self.busy + ["--extra-bad-share", "0.3"], vehicles: 12, seed: seed, hours: 6, into: dir)
        for (kind, key) in [(ExtraKind.locations, "locations"), (.alarms, "alarms")] {
            var records = 0, bad = 0, late = 0
            let paths = try files(dir, prefix: key, ext: "json")
            for path in paths {
                let doc = try JSONTree.parse(try bytes(path))
                #expect(doc.keys == [key])
                var lastTime: Int64 = .min
                for r in doc[key]?.array ?? [] {
                    records += 1
                    let good: Bool
                    if kind == .locations {
                        good = r["imei"]?.string?.count == 15 && validTime(r["time"])
                            && (r["lat"]?.double).map { (-90...90).contains($0) } == true
                            && (r["lon"]?.double).map { (-180...180).contains($0) } == true
                            && (r["speed_kmh"]?.double).map { $0 >= 0 } == true
                            && (r["heading"]?.integer).map { (0...359).contains($0) } == true
                    } else {
                        good = r["imei"]?.string != nil && validTime(r["time"]) && r["alarm_type"]?.string != nil
                            && (r["severity"]?.integer).map { (1...5).contains($0) } == true
                            && (r["files"]?.array?.allSatisfy {
                                $0.string.map { $0.hasPrefix(r["imei"]?.string ?? "?") && $0.hasSuffix(".mp4") } == true
                            }) == true
                    }
                    if !good { bad += 1 }
                    if let t = r["time"]?.string.flatMap({ Timestamp.parseMicros($0) }) { lastTime = max(lastTime, t / 1000) }
                }
                // On time: a minute after the last record; late: 1–6 h after. (The last record's
                // time may be a bad one, so the last good one can be a few minutes earlier.)
                if try mtime(path) > lastTime + 30 * 60_000 { late += 1 }
            }
            let s = try #require(stats[kind])
            #expect(paths.count == s.files && records == s.records && bad == s.badRecords && late == s.lateFiles, "\(kind)")
            #expect(s.records > 0 && s.badRecords > 0, "\(kind): \(s)")
        }
        #expect((stats[.locations]?.files ?? 0) > 1 && (stats[.locations]?.lateFiles ?? 0) > 0)
    }

    @Test func powerDocumentsOnePerVehicleAndHourInAnyKeyOrder() throws {
        let dir = TempDir("gen")
        let stats = try generate(Self.busy + ["--extra-bad-share", "0.2"], vehicles: 8, hours: 6, into: dir)
        let s = try #require(stats[.power])
        var samples = 0, badSamples = 0, badDocuments = 0
        var orders = Set<[String]>()
        let paths = try files(dir, prefix: "power", ext: "json")
        for path in paths {
            let doc = try JSONTree.parse(try bytes(path))
            orders.insert(doc.keys)
            let data = doc["data"]?.array ?? []
            samples += data.count
            guard let ship = doc["spaceship_id"]?.string, let units = doc["units"]?.string, ["kW", "kWh"].contains(units) else {
                badDocuments += 1
                continue
            }
            #expect(path.contains("power_\(ship)_"))
            for sample in data where !(validTime(sample["timestamp"]) && (sample["value"]?.double).map { $0 >= 0 } == true) {
                badSamples += 1
            }
        }
        #expect(paths.count == s.files && samples == s.records && badSamples == s.badRecords && badDocuments == s.badDocuments)
        #expect(s.badDocuments > 0 && s.badRecords > 0)
        #expect(orders.contains { $0.first == "data" } && orders.contains { $0.first == "spaceship_id" })
    }

    @Test(arguments: [1 as UInt64, 3])
    func lineProtocolFilesParseAndMapAsCounted(seed: UInt64) throws {
        let dir = TempDir("gen")
        let s = try #require(try generate(Self.busy, seed: seed, into: dir)[.lp])
        var points = 0, syntax = 0, mapping = 0, crlf = 0
        let declared = ["battery": LineMeasurements.battery, "cabin": LineMeasurements.cabin]
        let paths = try files(dir, prefix: "telemetry", ext: "lp")
        for path in paths {
            let data = try bytes(path)
            if data.starts(with: Array("# tacho-gen line protocol: battery (per pack), cabin\r\n".utf8)) { crlf += 1 }
            let parser = LineProtocolParser(bytes: data)
            try parser.forEach(point: { p in
                points += 1
                if LineMapping.check(p, against: declared[p.measurement] ?? []) != nil { mapping += 1 }
            }, rejected: { _ in syntax += 1 })
        }
        #expect(paths.count == s.files && points + syntax == s.records)
        #expect(syntax == s.syntaxRejects && mapping == s.badRecords - s.syntaxRejects)
        #expect(s.syntaxRejects > 0 && mapping > 0 && crlf > 0 && crlf < paths.count)
    }

    @Test func ndjsonRecordsParseLineByLine() throws {
        let dir = TempDir("gen")
        let s = try #require(try generate(Self.busy, into: dir)[.ndjson])
        var records = 0, bad = 0
        for path in try files(dir, prefix: "temperatures", ext: "ndjson") {
            for line in try bytes(path).split(separator: 0x0A) {
                let r = try JSONTree.parse(Array(line))
                records += 1
                let good = r["vehicle_id"]?.string?.count == 32 && validTime(r["time"]) && r["sensor"]?.string != nil
                    && r["celsius"]?.double != nil
                if !good { bad += 1 }
            }
        }
        #expect(records == s.records && bad == s.badRecords && bad > 0)
    }

    @Test func withoutGapsEveryDeviceReportsEveryMinuteAndGapsAreSharedByKinds() throws {
        let full = TempDir("gen")
        let all = try generate(["--extra", "locations,ndjson"], vehicles: 4, hours: 2, into: full)
        #expect(all[.locations]?.records == 4 * 120 && all[.ndjson]?.records == 4 * 120)
        #expect(all[.locations]?.badRecords == 0 && all[.locations]?.lateFiles == 0)

        let gappy = TempDir("gen")
        let some = try generate(["--extra", "locations,ndjson", "--extra-gap-share", "0.05"], vehicles: 4, hours: 2, into: gappy)
        let n = try #require(some[.locations]?.records)
        #expect(n < 4 * 120 && n > 0 && some[.ndjson]?.records == n)
        // The same device-minutes are missing from both kinds (device order is shared).
        func minutes(_ prefix: String, _ ext: String, _ key: String) throws -> [String] {
            var out: [String] = []
            for path in try files(gappy, prefix: prefix, ext: ext) {
                let data = try bytes(path)
                let records = ext == "json" ? (try JSONTree.parse(data)[key]?.array ?? [])
                    : try data.split(separator: 0x0A).map { try JSONTree.parse(Array($0)) }
                out += records.compactMap { $0["time"]?.string }
            }
            return out
        }
        #expect(try minutes("locations", "json", "locations") == minutes("temperatures", "ndjson", ""))
    }

    @Test func theSameSeedWritesTheSameBytes() throws {
        func snapshot(_ seed: UInt64) throws -> [String: [UInt8]] {
            let dir = TempDir("gen")
            _ = try generate(Self.busy, vehicles: 3, seed: seed, hours: 1, into: dir)
            var out: [String: [UInt8]] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) { out[name] = try bytes(dir.path + "/" + name) }
            return out
        }
        let a = try snapshot(5), b = try snapshot(5), c = try snapshot(6)
        #expect(a == b && !a.isEmpty)
        #expect(a != c)
    }

    @Test func imeisCarryALuhnCheckDigit() {
        let fleet = ExtraFleet(ids: Fleet(vehicles: 50, seed: 9).ids, seed: 9)
        #expect(Set(fleet.imeis).count == 50 && fleet.ships[6] == "ship-07")
        for imei in fleet.imeis {
            let digits = imei.compactMap(\.wholeNumberValue)
            #expect(digits.count == 15 && luhnDigit(Array(digits.prefix(14))) == digits[14])
        }
        #expect(luhnDigit([4, 9, 0, 1, 5, 4, 2, 0, 3, 2, 3, 7, 5, 1]) == 8)  // 490154203237518, a well-known example IMEI
    }

    @Test func unknownKindsAreRefusedByName() {
        #expect(throws: (any Error).self) { try ExtraOptions.parse(["--extra", "locations,gps"]) }
        #expect(throws: (any Error).self) { try ExtraOptions.parse(["--extra-bad-share", "1.5"]) }
    }
}
