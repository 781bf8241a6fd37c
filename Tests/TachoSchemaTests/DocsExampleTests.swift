import Foundation
import Testing
import TachoFormat
@testable import TachoSchema

/// docs/CONFIG.md's example file is a valid config with the CAN-signal measurement it shows.
@Suite struct DocsExampleTests {
    static let configDoc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/CONFIG.md").path

    @Test func theExampleInCONFIGmdIsValid() throws {
        let text = try String(contentsOfFile: Self.configDoc, encoding: .utf8)
        let blocks = text.components(separatedBy: "```toml\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
        let example = try #require(blocks.first)
        let c = try TachoConfig.parse(example, file: "CONFIG.md")
        #expect(c.store.path == "/var/lib/tacho" && c.run.inbox == "/data/inbox")
        let can = try #require(c.measurement(named: "can_signals"))
        #expect(can == (try TachoConfig.parse(DeclarationTests.canSignals, file: nil)).measurement(named: "can_signals"))
        #expect(c.measurements.count == 6)
        #expect(c.http.listen == "0.0.0.0:8086" && c.http.adminTokenDigests.count == 1 && c.http.deviceSecretDigests.count == 1)
        #expect(c.http.maxBody == "8MiB" && c.http.idleTimeout == "15s")
    }

    /// Every key the TOML reader knows is documented in CONFIG.md (a new key needs its row).
    @Test func everyKeyIsDocumented() throws {
        let text = try String(contentsOfFile: Self.configDoc, encoding: .utf8)
        let keys = TachoConfig.storeKeys + TachoConfig.runKeys + TachoConfig.lineProtocolKeys + TachoConfig.httpKeys + DeclarationCoding.measurementKeys
            + DeclarationCoding.fieldKeys + RollupCoding.rollupKeys + DeclarationCoding.fileKeys + DeclarationCoding.vehicleKeys + DeclarationCoding.timeKeys
        for k in keys { #expect(text.contains("`\(k)`"), "\(k) is not in docs/CONFIG.md") }
    }
}
