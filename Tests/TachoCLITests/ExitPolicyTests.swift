import Foundation
import Testing
import TachoTestSupport

/// One exit-status and error policy (issue 19 item 2, docs/SEMANTICS.md §6): every error is
/// `tacho <subcommand>: …` on stderr; usage errors exit 64 with the subcommand's usage; a locked
/// store exits 75 in every writing command.
@Suite struct ExitPolicyTests {
    /// `tacho run` holds the store; run, ingest, compact and verify --repair all exit 75 with
    /// their own prefix.
    @Test func aLockedStoreExits75InEveryWriter() throws {
        let dir = TempDir()
        let store = dir.path + "/store", inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let first = try startProcess(["run", "--store", store, "--inbox", inbox, "--settle", "0"])
        defer {
            first.terminate()
            first.waitUntilExit()
        }
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: store + "/MANIFEST") })
        let cases: [(String, [String])] = [
            ("run", ["run", "--store", store, "--inbox", inbox, "--settle", "0"]),
            ("ingest", ["ingest", "--store", store, fixtures + "/mobileye-nested"]),
            ("compact", ["compact", "--store", store]),
            ("verify", ["verify", "--store", store, "--repair"]),
        ]
        for (name, args) in cases {
            let r = try tacho(args)
            if name == "verify" && r.status == 0 { continue }  // a clean store needs no lock
            #expect(r.status == 75, "\(name): \(r.status) \(r.stderr)")
            // The error line (after the store's log line about waiting) carries the prefix.
            let errorLine = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(errorLine.hasPrefix("tacho \(name): ") && errorLine.contains("another writer holds it"), "\(name): \(r.stderr)")
        }
    }

    /// A usage error found while the command runs (a bad --wait-lock) prints the subcommand's
    /// usage, not the root's, with the one prefix.
    @Test func usageErrorsShowTheSubcommandsUsage() throws {
        let dir = TempDir()
        let r = try tacho(["ingest", "--store", dir.path + "/s", "--wait-lock", "forever", dir.path])
        #expect(r.status == 64)
        #expect(r.stderr.hasPrefix("tacho ingest: --wait-lock forever: expected a duration"), "\(r.stderr)")
        #expect(r.stderr.contains("Usage: tacho ingest "), "\(r.stderr)")
        #expect(!r.stderr.contains("tacho <subcommand>"), "\(r.stderr)")

        let bad = dir.path + "/bad.toml"
        try "[store]\npath = \n".write(toFile: bad, atomically: true, encoding: .utf8)
        for sub in ["query", "ingest", "compact"] {
            var args = [sub, "--config", bad]
            if sub == "query" { args.append("detections") }
            if sub == "ingest" { args.append(dir.path) }
            let c = try tacho(args)
            #expect(c.status == 64, "\(sub): \(c.stderr)")
            #expect(c.stderr.hasPrefix("tacho \(sub): ") && c.stderr.contains(bad), "\(sub): \(c.stderr)")
            #expect(c.stderr.contains("Usage: tacho \(sub) "), "\(sub): \(c.stderr)")
        }
        let unknown = try tacho(["query", "--bogus"])
        #expect(unknown.status == 64 && unknown.stderr.hasPrefix("tacho query: Unknown option '--bogus'"), "\(unknown.stderr)")
    }

    @Test func aNegativeLimitSaysWhatIsExpected() throws {
        let dir = TempDir()
        let r = try tacho(["query", "detections", "--store", dir.path, "--limit", "-1"])
        #expect(r.status == 64)
        #expect(r.stderr.hasPrefix("tacho query: --limit -1: expected a row count of 0 or more"), "\(r.stderr)")
        #expect(!r.stderr.contains("Missing value"))
    }

    /// Errors from the store (not usage) exit 1 with the prefix, not ArgumentParser's "Error:".
    @Test func runtimeErrorsCarryTheSubcommandPrefix() throws {
        let dir = TempDir()
        let r = try tacho(["latest", "--store", dir.path + "/none"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("tacho latest: open store "), "\(r.stderr)")
        #expect(!r.stderr.contains("Error:"))
    }

    /// Every exit status is documented in `tacho --help` (and so in the man page made from it).
    @Test func helpDocumentsEveryExitStatus() throws {
        let r = try tacho(["--help"], env: ["COLUMNS": "80"])
        #expect(r.status == 0)
        let section = r.stdout.components(separatedBy: "Exit status").dropFirst().joined()
        for code in ["0 ", "1 ", "64 ", "75 "] {
            #expect(section.contains("\n    \(code)") || section.contains("\n  \(code)"), "exit \(code) undocumented:\n\(section)")
        }
    }
}
