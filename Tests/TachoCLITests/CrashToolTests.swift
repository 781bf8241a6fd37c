import Foundation
import Testing
import TachoTestSupport

/// Runs `tools/crashtest` (issue #8) for 20 kills of `tacho run` — half at random moments, half
/// at the named crash points — and for 12 of `tacho ingest` (`--mode ingest`), against the
/// `tacho` built beside this bundle, and holds it to its summary line: nothing lost, nothing
/// duplicated, every file accounted for, verify clean.
@Suite(.serialized) struct CrashToolTests {
    @Test func twentyKillsLoseNothingDuplicateNothingVerifyClean() throws {
        guard let (status, summary, fields, stderr) = try runCrashtest([
            "--iterations", "20", "--files", "4", "--epoch", "10", "--max-delay", "0.8",
        ]) else { return }
        #expect(summary.hasPrefix("crashtest:"), "no summary line; stderr: \(stderr)")
        #expect(status == 0, "\(summary)\n\(stderr)")
        #expect(fields["iterations"] == "20")
        #expect(Int(fields["kills"] ?? "") ?? 0 >= 18, "\(summary)")
        #expect(fields["lost"] == "0")
        #expect(fields["duplicated"] == "0")
        #expect(fields["lost_files"] == "0")
        #expect(fields["duplicated_files"] == "0")
        #expect(fields["wrong_values"] == "0")
        #expect(fields["verify"] == "clean")
        #expect(fields["failures"] == "0", "\(stderr)")
        #expect(Int(fields["rows_checked"] ?? "") ?? 0 > 0)
    }

    /// `--mode ingest`: 12 kills of `tacho ingest` on directories of 100 files (two group
    /// commits, and in some iterations a streamed file above 8 MiB or files the 16 MiB limit
    /// splits), each followed by a re-run to completion: every file all-or-nothing after the
    /// kill, exactly once after the re-run, the re-run reporting exactly the missing files
    /// ingested and the rest duplicates.
    @Test func ingestKillsKeepEveryFileAllOrNothing() throws {
        guard let (status, summary, fields, stderr) = try runCrashtest([
            "--mode", "ingest", "--iterations", "12", "--files", "100", "--big-every", "6", "--epoch", "6",
        ]) else { return }
        #expect(summary.hasPrefix("crashtest: mode=ingest"), "no summary line; stderr: \(stderr)")
        #expect(status == 0, "\(summary)\n\(stderr)")
        #expect(fields["iterations"] == "12")
        #expect(Int(fields["kills"] ?? "") ?? 0 >= 8, "\(summary)")
        #expect(Int(fields["crashpoint_kills"] ?? "") ?? 0 >= 4, "\(summary)")
        for key in ["lost", "duplicated", "lost_files", "duplicated_files", "partial_files", "report_mismatches", "wrong_values", "failures"] {
            #expect(fields[key] == "0", "\(key): \(summary)\n\(stderr)")
        }
        #expect(fields["verify"] == "clean")
        #expect(Int(fields["rows_checked"] ?? "") ?? 0 > 0)
    }

    /// `--producer reuse` (issue #12): versions renamed onto a pool of reused names, often onto
    /// the one the daemon is ingesting; 10 kills. Every version in processed/ is in the store
    /// in full, none partly, and versions replaced before a claim are counted, not failures.
    @Test func reusedNamesNeverMoveAnUnreadVersionToProcessed() throws {
        guard let (status, summary, fields, stderr) = try runCrashtest([
            "--producer", "reuse", "--iterations", "10", "--files", "10", "--epoch", "5", "--max-delay", "0.8",
        ]) else { return }
        #expect(summary.hasPrefix("crashtest:") && fields["producer"] == "reuse", "no summary line; stderr: \(stderr)")
        #expect(status == 0, "\(summary)\n\(stderr)")
        #expect(Int(fields["kills"] ?? "") ?? 0 >= 8, "\(summary)")
        for key in ["lost", "duplicated", "lost_files", "duplicated_files", "wrong_values", "partial_versions", "failures"] {
            #expect(fields[key] == "0", "\(key): \(summary)\n\(stderr)")
        }
        #expect(fields["replaced_before_claim"] != nil, "\(summary)")
        #expect(fields["verify"] == "clean")
        #expect(Int(fields["rows_checked"] ?? "") ?? 0 > 0)
    }

    /// `--clock jump` (issue #12): `tacho run --retention detections=30d,status=365d` under an
    /// LD_PRELOAD shim whose wall clock starts just after the data and jumps by ±2 years, days,
    /// minutes while the daemon ingests; 10 kills. Nothing expires, nothing is lost, and each
    /// epoch's drain (started 2 years ahead) says it paused retention: the shim reached it. Needs cc.
    @Test func clockJumpsNeverExpireRows() throws {
        guard ["/usr/bin/cc", "/usr/local/bin/cc", "/bin/cc"].contains(where: FileManager.default.isExecutableFile(atPath:)) else {
            Issue.record("tools/crashtest --clock jump needs cc")
            return
        }
        guard let (status, summary, fields, stderr) = try runCrashtest([
            "--clock", "jump", "--iterations", "10", "--files", "6", "--epoch", "5", "--max-delay", "0.8",
        ]) else { return }
        #expect(summary.hasPrefix("crashtest:") && fields["clock"] == "jump", "no summary line; stderr: \(stderr)")
        #expect(status == 0, "\(summary)\n\(stderr)")
        #expect(Int(fields["kills"] ?? "") ?? 0 >= 8, "\(summary)")
        for key in ["lost", "duplicated", "lost_files", "duplicated_files", "wrong_values", "retention_acted", "failures"] {
            #expect(fields[key] == "0", "\(key): \(summary)\n\(stderr)")
        }
        #expect(Int(fields["clock_jumps"] ?? "") ?? 0 >= 10, "\(summary)")
        #expect(Int(fields["retention_paused"] ?? "") ?? 0 >= 2, "\(summary)")
        #expect(fields["verify"] == "clean")
        #expect(Int(fields["rows_checked"] ?? "") ?? 0 > 0)
    }

    /// Runs tools/crashtest with `arguments` (plus a random seed, this `tacho`, a temporary
    /// work directory, --quiet): its exit status, summary line, the summary's fields and its
    /// stderr; nil (recorded as an issue) without python3.
    private func runCrashtest(_ arguments: [String]) throws -> (Int32, String, [String: String], String)? {
        let script = repoRoot.appendingPathComponent("tools/crashtest").path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
            || (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains(where: {
                FileManager.default.isExecutableFile(atPath: "\($0)/python3")
            })
        else {
            Issue.record("tools/crashtest needs python3")
            return nil
        }
        let dir = TempDir("tacho-crashtool")
        let r = try runToCompletion("/bin/bash", [script] + arguments + [
            "--seed", "\(UInt16.random(in: 1...30000))", "--tacho", tachoPath, "--work", dir.path, "--quiet",
        ])
        let summary = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        var fields: [String: String] = [:]
        for kv in summary.split(separator: " ") {
            let parts = kv.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return (r.status, summary, fields, r.stderr)
    }
}
