import Foundation

/// A directory of telemetry JSON written by tools/gen, with the generator's summary.
public struct DataSet: Sendable {
    public let directory: String
    /// Counts from tools/gen's summary line.
    public let detectionRows: Int
    public let statusRows: Int
    public let bytes: Int
    public let objectsBytes: Int

    /// Every *.json file, in name order.
    public var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0.hasSuffix(".json") }.sorted().map { directory + "/" + $0 }
    }

    /// The object-detection files, in name order.
    public var objectFiles: [String] { files.filter { $0.split(separator: "/").last!.hasPrefix("objects_detection") } }

    /// The standard set: 100 vehicles × 3 h in 40 object files (≈ 1.18 M detection rows, 95 MB).
    /// Same options (and cache directory) as tools/bench.
    public static func standard() throws -> DataSet {
        try cached("data-v100-h3-s1", ["--vehicles", "100", "--hours", "3"])
    }

    /// One 256 MiB object-detection file (≈ 3.2 M rows): the parser benchmarks' input.
    public static func single256MiB() throws -> DataSet {
        try cached("data-single-256MiB-s1", ["--vehicles", "100", "--single-file", "--target-bytes", "256MiB"])
    }

    /// Runs `tools/gen --out <workDir>/<name> args…` unless its summary is already there.
    /// The summary is written last, so a set that has one is complete.
    public static func cached(_ name: String, _ args: [String]) throws -> DataSet {
        let dir = Bench.workDir + "/" + name
        let summaryPath = dir + "/.summary.json"
        let fm = FileManager.default
        if !fm.fileExists(atPath: summaryPath) {
            try? fm.removeItem(atPath: dir)
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [Bench.repoRoot + "/tools/gen", "--out", dir] + args
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else {
                throw Bench.fail("tools/gen \(args.joined(separator: " ")) exited with \(p.terminationStatus)")
            }
            try data.write(to: URL(fileURLWithPath: dir + ".summary.tmp"))
            _ = rename(dir + ".summary.tmp", summaryPath)
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: summaryPath))
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Bench.fail("\(summaryPath): not a JSON object")
        }
        func int(_ k: String) -> Int { (obj[k] as? NSNumber)?.intValue ?? 0 }
        return DataSet(directory: dir, detectionRows: int("unique_detection_rows"), statusRows: int("unique_status_rows"),
                       bytes: int("bytes"), objectsBytes: int("objects_bytes"))
    }
}
