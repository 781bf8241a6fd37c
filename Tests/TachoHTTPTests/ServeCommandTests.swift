import Foundation
import TachoTestSupport
import Testing

/// `tacho serve` (exec'd as tacho-net) serves the store read-only and stops on SIGTERM.
@Suite struct ServeCommandTests {
    @Test func tachoServeAnswersAsTachoAndStopsOnSIGTERM() async throws {
        let store = try FixtureStore()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtProduct("tacho"))
        p.arguments = ["serve", "--store", store.path, "--listen", "127.0.0.1:0"]
        var env = ProcessInfo.processInfo.environment
        env["TACHO_CONFIG"] = ""
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        // The first line that names the address.
        var seen = ""
        var port: Int?
        while port == nil {
            let d = err.fileHandleForReading.availableData
            guard !d.isEmpty else { break }
            seen += String(decoding: d, as: UTF8.self)
            if let r = seen.range(of: "listening on http://127.0.0.1:") {
                port = Int(seen[r.upperBound...].prefix { $0.isNumber })
            }
        }
        guard let port else { throw HarnessError("tacho serve did not start: \(seen)") }
        let expected = try tacho(["latest", "--store", store.path, "--format", "csv"])
        #expect(try await get(port, "/api/v1/latest/status?format=csv").body == expected)
        let write = try await request(port, "/write", method: .POST, body: Array("battery,vehicle_id=v1 soc=1 1\n".utf8))
        #expect(write.status == 404 && write.body.contains("read-only"), "\(write.body)")
        p.terminate()
        let stopped = waitUntil(15) { !p.isRunning }
        #expect(stopped, "tacho serve did not stop within 15 s of SIGTERM")
        if !stopped { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        #expect(p.terminationReason == .exit && p.terminationStatus == 0, "\(p.terminationReason) \(p.terminationStatus)")
    }

    @Test func tachoServeRefusesANonLoopbackAddressWithoutTokens() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtProduct("tacho"))
        p.arguments = ["serve", "--store", "/nonexistent", "--listen", "0.0.0.0:0"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 64)
    }
}
