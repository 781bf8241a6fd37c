import Foundation
import SystemPackage
import Testing
import TachoFaults
import TachoFormat
import TachoStore
import TachoTestSupport

/// `tacho args…` under a soft and hard limit of `files` open files (`ulimit -n`).
@discardableResult
func tachoLimited(_ files: Int, _ args: [String]) throws -> RunResult {
    try runToCompletion("/bin/sh", ["-c", "ulimit -n \(files) && exec \"$0\" \"$@\"", tachoPath] + args)
}

/// Years of daily partitions must not take the store down (issue 12, item 3): every command
/// opens only the segments it reads, through a bounded cache of segment handles.
@Suite(.serialized) struct ManyPartitionsTests {
    static let days = 3000
    static let firstDay: Int64 = 16_801  // 2016-01-01
    static let dayMicros: Int64 = 86_400_000_000

    /// 3,000 daily partitions of detections and of status (6,000 segments), two vehicles,
    /// one detection and one status row per vehicle and day.
    func buildStore(_ store: String) throws {
        var opts = quietOptions()
        opts.fileSystem = NoSyncFileSystem()
        let w = try StoreWriter(path: store, options: opts)
        defer { w.close() }
        // A few commits of 500 partitions: thousands of segments without thousands of commits.
        for chunk in stride(from: 0, to: Self.days, by: 500) {
            var d = RowBatch(.detections)
            var s = RowBatch(.status)
            for day in chunk..<min(chunk + 500, Self.days) {
                let t = (Self.firstDay + Int64(day)) * Self.dayMicros + 12 * 3_600_000_000
                for (k, v) in ["v0", "v1"].enumerated() {
                    d.append(vehicle: v, time: t, [.string("cars"), .int(Int64(k + 1))])
                    s.append(vehicle: v, time: t, [.string("day\(day)")])
                }
            }
            try w.append(d)
            try w.append(s)
            try w.commit()
        }
        #expect(w.manifest.segments.count == 2 * Self.days)
    }

    @Test(.timeLimit(.minutes(2))) func everyCommandWorksOnThreeThousandPartitionsUnderUlimit256() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        try buildStore(store)
        let st = ["--store", store]

        let det = try tachoLimited(256, ["query", "detections", "--format", "csv"] + st)
        #expect(det.status == 0, "query detections: \(det.stderr)")
        let detLines = det.stdout.split(separator: "\n").dropFirst()
        #expect(detLines.count == 2 * Self.days)
        #expect(detLines.filter { $0.hasPrefix("v0,") && $0.hasSuffix(",cars,1") }.count == Self.days)

        let status = try tachoLimited(256, ["query", "status", "--format", "csv", "--vehicle", "v1"] + st)
        #expect(status.status == 0, "query status: \(status.stderr)")
        let statusLines = status.stdout.split(separator: "\n").dropFirst()
        #expect(statusLines.count == Self.days)
        #expect(statusLines.last?.hasSuffix(",day\(Self.days - 1)") == true)

        let latest = try tachoLimited(256, ["latest", "--format", "csv"] + st)
        #expect(latest.status == 0, "latest: \(latest.stderr)")
        #expect(!latest.stderr.contains("warning"), "latest warned: \(latest.stderr)")
        let latestLines = latest.stdout.split(separator: "\n").dropFirst()
        #expect(latestLines.count == 2)
        #expect(latestLines.allSatisfy { $0.contains("day\(Self.days - 1)") }, "latest: \(latest.stdout)")

        let agg = try tachoLimited(256, ["agg", "detections", "--every", "1d", "--fn", "sum", "--format", "csv"] + st)
        #expect(agg.status == 0, "agg: \(agg.stderr)")
        let aggLines = agg.stdout.split(separator: "\n").dropFirst()
        #expect(aggLines.count == Self.days)
        #expect(aggLines.allSatisfy { $0.hasSuffix(",3") }, "agg: \(aggLines.prefix(3))")

        let vehicles = try tachoLimited(256, ["vehicles", "--format", "csv"] + st)
        #expect(vehicles.status == 0, "vehicles: \(vehicles.stderr)")
        let vehicleLines = vehicles.stdout.split(separator: "\n").dropFirst()
        #expect(vehicleLines.count == 2 && vehicleLines.allSatisfy { $0.contains("\(2 * Self.days)") || $0.contains("\(Self.days)") },
                "vehicles: \(vehicles.stdout)")

        let stats = try tachoLimited(256, ["stats", "--format", "csv"] + st)
        #expect(stats.status == 0, "stats: \(stats.stderr)")
        #expect(stats.stdout.contains("\(2 * Self.days)"), "stats: \(stats.stdout)")

        let verify = try tachoLimited(256, ["verify"] + st)
        #expect(verify.status == 0, "verify: \(verify.stdout) \(verify.stderr)")
        #expect(verify.stdout.contains("verified \(2 * Self.days) segments, \(4 * Self.days) chunks, \(4 * Self.days) rows"), "verify: \(verify.stdout)")

        // The daemon starts on it and ingests a new file.
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", tachoPath,
                       "run", "--store", store, "--inbox", inbox, "--settle", "0.2", "--log-level", "warning"]
        p.environment = childEnvironment()
        p.standardOutput = FileHandle.nullDevice
        let errPath = dir.path + "/run.stderr"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        try p.run()
        let rows = writeDetectionFile(inbox, index: 1)
        let drained = waitUntil(30) { files(in: inbox).isEmpty && files(in: dir.path + "/processed").count == 1 }
        p.terminate()
        p.waitUntilExit()
        let runErr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(drained, "tacho run did not ingest the file: \(runErr)")
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "tacho run: \(runErr)")
        let after = try tachoLimited(256, ["query", "detections", "--format", "csv"] + st)
        #expect(after.status == 0, "query after run: \(after.stderr)")
        #expect(after.stdout.split(separator: "\n").count - 1 == 2 * Self.days + rows.count)
    }
}
