import Foundation
import Testing
import TachoTestSupport

/// Config that catches mistakes and is found like other services' (issue 19 item 4): --config,
/// else $TACHO_CONFIG, else /etc/tacho/tacho.toml; the query commands take the store from it.
@Suite(.serialized) struct ConfigDiscoveryTests {
    var store: String { get throws { try GoldenCLITests.ingested.get() } }

    @Test func queriesReadTheStorePathFromTACHO_CONFIG() throws {
        let dir = TempDir()
        let cfg = dir.path + "/tacho.toml"
        try "[store]\npath = \"\(try store)\"\n".write(toFile: cfg, atomically: true, encoding: .utf8)
        let viaEnv = try tacho(["latest"], env: ["TACHO_CONFIG": cfg], cwd: dir.path)
        #expect(viaEnv.status == 0 && viaEnv.stdout.split(separator: "\n").count == 4, "\(viaEnv.stdout)\(viaEnv.stderr)")
        let viaFlag = try tacho(["latest", "-c", cfg], cwd: dir.path)
        #expect(viaFlag.stdout == viaEnv.stdout)
        // --config wins over $TACHO_CONFIG; $TACHO_STORE and --store win over the file.
        let other = dir.path + "/other.toml"
        try "[store]\npath = \"\(dir.path)/nowhere\"\n".write(toFile: other, atomically: true, encoding: .utf8)
        let flagWins = try tacho(["latest", "--config", other], env: ["TACHO_CONFIG": cfg], cwd: dir.path)
        #expect(flagWins.status == 1 && flagWins.stderr.contains("nowhere"), "\(flagWins.stderr)")
        let storeWins = try tacho(["latest", "--store", try store], env: ["TACHO_CONFIG": other], cwd: dir.path)
        #expect(storeWins.status == 0, "\(storeWins.stderr)")
        // Set but empty: no config file at all (the default store ./tacho-data, absent here).
        let none = try tacho(["latest"], env: ["TACHO_CONFIG": ""], cwd: dir.path)
        #expect(none.status == 1 && none.stderr.contains("./tacho-data"), "\(none.stderr)")
    }

    /// A typo and a wrong type in a discovered file stop every command with file:line and the
    /// nearest valid key, exit 64, before anything is done.
    @Test func typosAndWrongTypesAreRefusedWithFileLineAndSuggestion() throws {
        let dir = TempDir()
        let cfg = dir.path + "/tacho.toml"
        try "[run]\nsetle_seconds = 3\n".write(toFile: cfg, atomically: true, encoding: .utf8)
        let typo = try tacho(["ingest", dir.path], env: ["TACHO_CONFIG": cfg], cwd: dir.path)
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("\(cfg):2:") && typo.stderr.contains("did you mean 'settle_seconds'?"), "\(typo.stderr)")
        try "[run]\ndelete_processed = \"yes\"\n".write(toFile: cfg, atomically: true, encoding: .utf8)
        let wrong = try tacho(["run", "--inbox", dir.path + "/in"], env: ["TACHO_CONFIG": cfg], cwd: dir.path)
        #expect(wrong.status == 64 && wrong.stderr.hasPrefix("tacho run: "), "\(wrong.stderr)")
        #expect(wrong.stderr.contains("\(cfg):2:") && wrong.stderr.contains("delete_processed must be true or false"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/tacho-data"))
    }

    /// The older JSON form refuses what it does not know, as the TOML form does: each mistake
    /// with its line:column and the nearest key, exit 64, nothing done.
    @Test func theJSONFormRefusesMistakes() throws {
        let dir = TempDir()
        let cfg = dir.path + "/tacho.json"
        try "{\n  \"setle_seconds\": 3,\n  \"delete_processed\": \"yes\",\n  \"store\": \"\(try store)\"\n}\n"
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        let r = try tacho(["latest", "-c", cfg], cwd: dir.path)
        #expect(r.status == 64 && r.stdout.isEmpty, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.hasPrefix("""
            tacho latest: config file \(cfg):2:3: unknown key 'setle_seconds'; did you mean 'settle_seconds'?
            config file \(cfg):3:3: delete_processed must be true or false
            """), "\(r.stderr)")
    }
}
