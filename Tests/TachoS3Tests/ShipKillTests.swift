import Foundation
import TachoS3
import TachoTestSupport
import Testing

/// `tacho ship` killed with SIGKILL at random points, then run to the end: every file is in the
/// bucket once, byte-identical, and nothing else is. (tools/crashtest-style soak runs are
/// longer; this bounded version makes 20 kills.)
@Suite(.serialized) struct ShipKillTests {
    static let tachoPath = builtProduct("tacho")

    func ship(_ dir: String, _ moto: MotoServer) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.tachoPath)
        p.arguments = [
            "ship", "--from-dir", dir, "--to", "s3://tacho-test/kill", "--endpoint", moto.endpoint, "--region", "us-east-1",
            "--multipart-threshold", "5MiB", "--part-size", "5MiB", "--log-level", "error",
        ]
        var env = ProcessInfo.processInfo.environment
        env["AWS_ACCESS_KEY_ID"] = "testing"
        env["AWS_SECRET_ACCESS_KEY"] = "testing"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test func killedAtRandomPointsEachObjectEndsUpOnce() async throws {
        let moto = try await MotoServer()
        let tmp = TempDir()
        var rng = SplitMix64(seed: 0x5412)
        var files: [String: [UInt8]] = [:]
        var kills = 0
        var round = 0
        // Each round exports a few more files (as new closed partitions would), so every run
        // has work to be killed in; every fourth brings a multipart-sized one.
        while kills < 20 && round < 60 {
            var fresh: [String: [UInt8]] = [:]
            for i in 0..<3 {
                let n = Int.random(in: 50_000...600_000, using: &rng)
                fresh["detections/date=2024-07-\(10 + round % 20)/box-\(round)-\(i).parquet"] = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            if round % 4 == 0 {
                fresh["locations/date=2024-08-\(10 + round % 20)/box-\(round)-big.parquet"] = (0..<(6 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            _ = try ShipperTests.writeFiles(tmp.path + "/out", fresh)
            files.merge(fresh) { a, _ in a }
            round += 1
            let p = try ship(tmp.path + "/out", moto)
            try await Task.sleep(nanoseconds: UInt64.random(in: 30_000_000...300_000_000, using: &rng))
            if p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                kills += 1
            }
            p.waitUntilExit()
        }
        #expect(kills >= 20, "only \(kills) of \(round) runs were still running when killed")
        let last = try ship(tmp.path + "/out", moto)
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)
        let client = moto.client()
        let listed = try await client.listObjects(prefix: "kill/")
        #expect(listed.map(\.key).sorted() == files.keys.map { "kill/" + $0 }.sorted())
        for (key, bytes) in files { #expect(try await client.getObject(key: "kill/" + key) == bytes, "\(key)") }
        // The ledger records each key once, and no multipart upload is left open.
        let ledgers = try FileManager.default.contentsOfDirectory(atPath: tmp.path + "/out/.shipped")
        #expect(ledgers.count == 1)
        let ledger = try ShipLedger(path: tmp.path + "/out/.shipped/" + ledgers[0])
        #expect(Set(ledger.shipped.keys) == Set(files.keys.map { "kill/" + $0 }))
        #expect(ledger.openUploads.isEmpty)
    }
}
