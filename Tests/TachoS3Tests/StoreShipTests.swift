import Foundation
import TachoS3
import TachoTestSupport
import Testing

/// `tacho ship` from a store: closed partitions become the same objects `tacho export` writes,
/// once each, across kills; open partitions stay home.
@Suite(.serialized) struct StoreShipTests {
    static func binary(_ name: String) -> String { builtProduct(name) }

    @discardableResult
    static func run(_ exe: String, _ args: [String], env: [String: String] = [:]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for k in e.keys where k.hasPrefix("TACHO_") { e.removeValue(forKey: k) }
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static let awsEnv = ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]

    func shipArgs(_ store: String, _ moto: MotoServer) -> [String] {
        ["ship", "--store", store, "--to", "s3://tacho-test/lake", "--endpoint", moto.endpoint, "--box-id", "box1", "--grace", "1h",
         "--log-level", "error"]
    }

    /// Kills per run of this test: 20, or $TACHO_SHIP_SOAK_KILLS (tools/ship-soak runs more).
    static var kills: Int { ProcessInfo.processInfo.environment["TACHO_SHIP_SOAK_KILLS"].flatMap(Int.init) ?? 20 }

    @Test func closedPartitionsShipOnceAsTheirExportAcrossKills() async throws {
        let moto = try await MotoServer()
        let tmp = TempDir()
        let gen = Self.binary("tacho-gen")
        let store = tmp.path + "/store"
        // An hour of today: an open partition, never to be shipped.
        let now = Date().timeIntervalSince1970
        let start = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: now - 1800))
        try Self.run(gen, ["--out", tmp.path + "/today", "--vehicles", "2", "--hours", "0.2", "--start", start, "--seed", "4"])
        #expect(try Self.run(ShipKillTests.tachoPath, ["ingest", "--store", store, tmp.path + "/today", "-q"]).0 == 0)
        // Each round a closed day of every kind arrives (and sometimes late rows for an older
        // day), then a `tacho ship` is killed at a random point.
        var rng = SplitMix64(seed: 77)
        var kills = 0
        var round = 0
        let day0 = 1_719_792_000.0  // 2024-07-01T00:00:00Z
        while kills < Self.kills && round < Self.kills * 3 {
            let dayStart = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: day0 + Double(round) * 86_400))
            try Self.run(gen, ["--out", tmp.path + "/in-\(round)", "--vehicles", "4", "--hours", "24", "--start", dayStart,
                               "--events-per-file", "4000", "--extra", round % 3 == 0 ? "locations,alarms,power,lp" : "locations", "--seed", String(round)])
            #expect(try Self.run(ShipKillTests.tachoPath, ["ingest", "--store", store, tmp.path + "/in-\(round)", "-q"]).0 == 0)
            round += 1
            let p = Process()
            p.executableURL = URL(fileURLWithPath: ShipKillTests.tachoPath)
            p.arguments = shipArgs(store, moto)
            var e = ProcessInfo.processInfo.environment
            for (k, v) in Self.awsEnv { e[k] = v }
            p.environment = e
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            try await Task.sleep(nanoseconds: UInt64.random(in: 10_000_000...200_000_000, using: &rng))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
        }
        #expect(kills >= Self.kills, "only \(kills) of \(round) runs were still running when killed")
        let (status, out) = try Self.run(ShipKillTests.tachoPath, shipArgs(store, moto), env: Self.awsEnv)
        #expect(status == 0, "\(out)")
        // The newest export of every closed partition is in the bucket, byte for byte; an
        // older seq of a partition may be there too (shipped before its late rows came).
        let today = String(start.prefix(10))
        let (exportStatus, exported) = try Self.run(
            ShipKillTests.tachoPath, ["export", "--store", store, "--out", tmp.path + "/export", "--box-id", "box1", "--to", today])
        #expect(exportStatus == 0)
        let files = exported.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(files.count >= round * 2, "\(files.count) files exported")
        let client = moto.client()
        let listed = try await client.listObjects(prefix: "lake/")
        let keys = Set(listed.map(\.key))
        for f in files {
            let key = "lake/" + f.dropFirst((tmp.path + "/export/").count)
            #expect(keys.contains(String(key)), "\(key) was not shipped")
            guard keys.contains(String(key)) else { continue }
            #expect(try await client.getObject(key: String(key)) == [UInt8](try Data(contentsOf: URL(fileURLWithPath: f))), "\(key)")
        }
        // Every object is some partition's export under its seq: nothing else, nothing open.
        #expect(!listed.contains { $0.key.contains("date=\(today)") })
        #expect(listed.allSatisfy { $0.key.hasSuffix(".parquet") && $0.key.contains("/box1-") })
        // Again: nothing to send.
        let (_, again) = try Self.run(ShipKillTests.tachoPath, shipArgs(store, moto), env: Self.awsEnv)
        #expect(again.hasPrefix("shipped 0 partition file(s)"), "\(again)")
    }

    @Test func tachoRunShipsClosedPartitionsOnASchedule() async throws {
        let moto = try await MotoServer()
        let tmp = TempDir()
        try Self.run(Self.binary("tacho-gen"), ["--out", tmp.path + "/inbox", "--vehicles", "4", "--hours", "30",
                                                 "--start", "2024-07-01T00:00:00Z", "--events-per-file", "2000", "--seed", "5"])
        let store = tmp.path + "/store"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ShipKillTests.tachoPath)
        p.arguments = ["run", "--store", store, "--inbox", tmp.path + "/inbox", "--delete-processed", "--settle", "0",
                       "--ship-to", "s3://tacho-test/run", "--ship-endpoint", moto.endpoint, "--ship-every", "1s",
                       "--ship-box-id", "b", "--log-level", "error"]
        var e = ProcessInfo.processInfo.environment
        for k in e.keys where k.hasPrefix("TACHO_") { e.removeValue(forKey: k) }
        for (k, v) in Self.awsEnv { e[k] = v }
        p.environment = e
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // Once the inbox is in, the bucket gets what an export of the store writes now (and may
        // hold older seqs of a partition shipped before its last file arrived).
        var inboxEmpty = false
        for _ in 0..<300 where !inboxEmpty {
            // Files are claimed into .tacho-claimed/ while they are ingested.
            let fm = FileManager.default
            inboxEmpty = ((try? fm.contentsOfDirectory(atPath: tmp.path + "/inbox").filter { !$0.hasPrefix(".") }.isEmpty) ?? false)
                && ((try? fm.contentsOfDirectory(atPath: tmp.path + "/inbox/.tacho-claimed").isEmpty) ?? true)
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(inboxEmpty)
        let (_, exported) = try Self.run(ShipKillTests.tachoPath, ["export", "--store", store, "--out", tmp.path + "/export", "--box-id", "b"])
        let expected = Set(exported.split(separator: "\n").map { "run/" + $0.dropFirst((tmp.path + "/export/").count) })
        #expect(expected.count == 4, "\(expected)")
        let client = moto.client()
        var keys: Set<String> = []
        for _ in 0..<300 where !expected.isSubset(of: keys) {
            keys = Set(try await client.listObjects(prefix: "run/").map(\.key))
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(expected.isSubset(of: keys), "\(keys)")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
