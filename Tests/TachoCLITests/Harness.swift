import Foundation
import TachoTestSupport
import TachoFormat
import TachoStore

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let fixtures = fixturesDirectory

/// The `tacho` binary built beside this test bundle.
let tachoPath = builtProduct("tacho")

struct RunResult {
    var status: Int32
    var killedBySignal: Int32?
    var stdout: String
    var stderr: String
}

/// Runs `tacho args…` to completion.
@discardableResult
func tacho(_ args: [String], env: [String: String] = [:], cwd: String? = nil) throws -> RunResult {
    try runToCompletion(tachoPath, args, env: env, cwd: cwd)
}

/// Runs `executable args…` to completion, collecting stdout and stderr.
func runToCompletion(_ executable: String, _ args: [String], env: [String: String] = [:], cwd: String? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.environment = childEnvironment(env)
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
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
    let signaled = p.terminationReason == .uncaughtSignal
    return RunResult(
        status: signaled ? -1 : p.terminationStatus, killedBySignal: signaled ? p.terminationStatus : nil,
        stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// Starts `tacho args…` in the background: stdout discarded, stderr to `stderrPath` (created)
/// or discarded.
func startProcess(_ args: [String], env: [String: String] = [:], cwd: String? = nil, stderrPath: String? = nil) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tachoPath)
    p.arguments = args
    p.environment = childEnvironment(env)
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    p.standardOutput = FileHandle.nullDevice
    if let stderrPath {
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: stderrPath)
    } else {
        p.standardError = FileHandle.nullDevice
    }
    try p.run()
    return p
}

func quietOptions() -> StoreOptions {
    var o = StoreOptions()
    o.logger.logLevel = .critical
    return o
}

func detectionCount(_ store: String) throws -> Int {
    let snap = try Snapshot.open(path: store, options: quietOptions())
    let c = try ScanCursor(snapshot: snap, spec: ScanSpec(.detections))
    var n = 0
    while let b = try c.next() { n += b.count }
    return n
}

func files(in dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}
