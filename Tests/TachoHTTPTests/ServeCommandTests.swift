import Foundation
import TachoTestSupport
import Testing

/// `tacho serve` (exec'd as tacho-net) serves the store read-only and stops on SIGTERM.
@Suite struct ServeCommandTests {
    @Test func tachoServeAnswersAsTachoAndStopsOnSIGTERM() async throws {
        let store = try FixtureStore()
        let server = try ServeProcess(store: store.path)
        let port = server.port
        let expected = try tacho(["latest", "--store", store.path, "--format", "csv"])
        #expect(try await get(port, "/api/v1/latest/status?format=csv").body == expected)
        let write = try await request(port, "/write", method: .POST, body: Array("battery,vehicle_id=v1 soc=1 1\n".utf8))
        #expect(write.status == 404 && write.body.contains("read-only"), "\(write.body)")
        server.stop()
        #expect(server.stoppedCleanly, "tacho serve did not exit 0 within 15 s of SIGTERM: \(server.process.terminationReason) \(server.process.terminationStatus)")
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
