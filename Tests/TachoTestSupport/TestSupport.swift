import Foundation

// What every test target needs and nothing of Tacho: one copy, not one per target.

/// SplitMix64: a small seeded generator, so a property test replays exactly from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh directory under $TMPDIR, removed with everything in it when the value goes.
public final class TempDir: Sendable {
    public let path: String
    public init(_ label: String = "tacho-test") {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Polls `cond` every 20 ms for up to `seconds`; its last answer.
public func waitUntil(_ seconds: Double, _ cond: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if cond() { return true }
        usleep(20_000)
    }
    return cond()
}

/// `Tests/Fixtures`: the public sample inputs (see its README), found from this file's path.
public let fixturesDirectory: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)  // TestSupport.swift, TachoTestSupport
    return parts.joined(separator: "/") + "/Fixtures"
}()

/// The executable `name` (tacho, tacho-gen) built beside the running test bundle, else in
/// `.build/debug` of the repository.
public func builtProduct(_ name: String) -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The bundle may be nested (…/debug/TachoPackageTests.xctest); walk up to find the binary.
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/\(name)").path
}

/// This process's environment without any TACHO_* variable (a child gets only the settings
/// its test names), plus `env`.
public func childEnvironment(_ env: [String: String] = [:]) -> [String: String] {
    var e = ProcessInfo.processInfo.environment
    for k in e.keys where k.hasPrefix("TACHO_") { e.removeValue(forKey: k) }
    for (k, v) in env { e[k] = v }
    return e
}
