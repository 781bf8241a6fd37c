import Foundation

/// Parquet files read back by pyarrow and DuckDB through `tools/parquet-rows` in the venv of
/// `tools/pyenv` (created on first use from PyPI). A missing venv that cannot be made is a
/// test failure with the reason, never a skip.
public enum ParquetReadBack {
    public enum Engine: String, CaseIterable, Sendable { case pyarrow, duckdb }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// One file as read: its path and its rows in `tools/parquet-rows`' canonical form.
    public struct File: Sendable, Equatable {
        public var path: String
        public var rows: [String]
    }

    public struct Result: Sendable {
        public var files: [File]
        /// `S ok N` or the `S bad …` lines.
        public var statistics: [String]
        public var statisticsOK: Bool { statistics.count == 1 && statistics[0].hasPrefix("S ok ") }
    }

    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // ParquetReadBack.swift, TachoTestSupport, Tests
        return parts.joined(separator: "/")
    }()

    /// The venv's python (made by tools/pyenv on first use, once per process).
    public static func python() throws -> String { try venvPython.get() }

    /// The python of `tools/pyenv --spark` (pyspark, pyarrow, duckdb), once per process.
    public static func sparkPython() throws -> String { try sparkVenvPython.get() }

    private static let venvPython = makeVenv([])
    private static let sparkVenvPython = makeVenv(["--spark"])

    /// Runs `tools/script args` with `python`: (status, stdout, stderr).
    public static func runTool(_ python: String, _ script: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try run(python, [root + "/tools/" + script] + args)
    }

    private static func makeVenv(_ args: [String]) -> Swift.Result<String, Failure> {
        do {
            let r = try run("/bin/bash", [root + "/tools/pyenv"] + args)
            let path = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
            guard r.status == 0, FileManager.default.isExecutableFile(atPath: path) else {
                return .failure(Failure(description: "tools/pyenv \(args.joined()) could not make its venv (status \(r.status)): \(r.err)\n"
                    + "the Parquet tests need it: run `make test-deps` (or tools/pyenv) with network access to PyPI"))
            }
            return .success(path)
        } catch {
            return .failure(Failure(description: "running tools/pyenv: \(error)"))
        }
    }

    /// Reads `paths` with `engine`.
    public static func read(_ paths: [String], engine: Engine) throws -> Result {
        let r = try run(try python(), [root + "/tools/parquet-rows", "--engine", engine.rawValue] + paths)
        guard r.status == 0 || r.out.contains("\nS bad ") || r.out.hasPrefix("S bad ") else {
            throw Failure(description: "tools/parquet-rows --engine \(engine) failed (status \(r.status)): \(r.err.suffix(4000))")
        }
        var files: [File] = []
        var stats: [String] = []
        for line in r.out.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("F ") {
                let parts = line.split(separator: " ")
                files.append(File(path: parts.dropFirst().dropLast().joined(separator: " "), rows: []))
            } else if line.hasPrefix("S ") {
                stats.append(String(line))
            } else if !files.isEmpty {
                files[files.count - 1].rows.append(String(line))
            }
        }
        return Result(files: files, statistics: stats)
    }

    // MARK: the canonical form, from Swift values

    public static func hex(_ s: String) -> String {
        s.utf8.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    public static func string(_ s: String?) -> String { s.map { "s" + hex($0) } ?? "N" }
    public static func int(_ v: Int64?) -> String { v.map { "i\($0)" } ?? "N" }
    public static func double(_ v: Double?) -> String {
        guard let v else { return "N" }
        let h = String(v.bitPattern, radix: 16)
        return "d" + String(repeating: "0", count: 16 - h.count) + h
    }
    public static func bool(_ v: Bool?) -> String { v.map { $0 ? "b1" : "b0" } ?? "N" }
    public static func list(_ v: [String]?) -> String { v.map { "l[" + $0.map { "s" + hex($0) }.joined(separator: ",") + "]" } ?? "N" }
    public static func time(_ micros: Int64) -> String { "i\(micros)" }

    private static func run(_ exe: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        nonisolated(unsafe) var errData = Data()
        let g = DispatchGroup()
        g.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            g.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        g.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
