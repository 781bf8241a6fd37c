import Foundation

/// Where benchmark inputs live. Everything is cached under `workDir` (shared with tools/bench)
/// so repeated runs, and the separate processes the benchmark runner starts, generate once.
public enum Bench {
    /// The repository root (this file is `<root>/Benchmarks/Sources/BenchSupport/Paths.swift`).
    public static let repoRoot: String = {
        var u = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { u.deleteLastPathComponent() }
        return u.path
    }()

    /// `$TACHO_BENCH_DIR`, else `${TMPDIR:-/tmp}/tacho-bench`.
    public static let workDir: String = {
        let env = ProcessInfo.processInfo.environment
        if let d = env["TACHO_BENCH_DIR"], !d.isEmpty { return d }
        let tmp = env["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return tmp + "/tacho-bench"
    }()

    static func fail(_ message: String) -> BenchError { BenchError(message: message) }
}

public struct BenchError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Monotonic nanoseconds.
@inline(__always)
public func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Seconds since `start` (from `nowNanos()`).
@inline(__always)
public func secondsSince(_ start: UInt64) -> Double { Double(nowNanos() &- start) / 1e9 }

/// Median and a high percentile of samples.
public struct Summary: Sendable {
    public var median: Double
    public var p90: Double
    public var min: Double
    public init(_ samples: [Double]) {
        let s = samples.sorted()
        precondition(!s.isEmpty)
        median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        p90 = s[Swift.min(s.count - 1, Int((Double(s.count) * 0.9).rounded(.up)) - 1)]
        min = s[0]
    }
}
