import Foundation
import Testing
import TachoFormat
import TachoTestSupport

/// Conventions of the CLIs operators know (issue 19): --version, cron-friendly exit codes.
@Suite struct ConventionsTests {
    @Test func versionNamesTheReleaseAndTheFormatVersions() throws {
        let r = try tacho(["--version"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("tacho "), "\(r.stdout)")
        #expect(r.stdout.contains("segment format v\(FormatConstants.segmentVersion)"), "\(r.stdout)")
        #expect(r.stdout.contains("manifest v\(FormatConstants.manifestVersion)"), "\(r.stdout)")
    }

    /// An empty inbox is normal for a cron job: exit 0 with a note, and no store is created.
    @Test func ingestOfAnEmptyDirectorySucceeds() throws {
        let dir = TempDir()
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let r = try tacho(["ingest", "--store", dir.path + "/store", inbox])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("nothing to ingest"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/store/MANIFEST"))
    }
}

extension ConventionsTests {
    /// A time that does not parse says which forms are accepted, not only "invalid".
    @Test func aBadTimeSaysWhatIsAccepted() throws {
        let dir = TempDir()
        let r = try tacho(["query", "detections", "--store", dir.path + "/store", "--from", "yesterday"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("\"yesterday\" is not a time") && r.stderr.contains("a relative time (-2h"), "\(r.stderr)")
    }

    /// A second `tacho run` on a store another writer holds exits 75 (EX_TEMPFAIL), as ingest
    /// and compact do, so a supervisor can tell "busy" from "broken".
    @Test func aSecondRunOnALockedStoreExitsTempfail() throws {
        let dir = TempDir()
        let store = dir.path + "/store", inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let first = try startProcess(["run", "--store", store, "--inbox", inbox, "--settle", "0"])
        defer {
            first.terminate()
            first.waitUntilExit()
        }
        #expect(waitUntil(10) { FileManager.default.fileExists(atPath: store + "/MANIFEST") })
        let second = try tacho(["run", "--store", store, "--inbox", inbox, "--settle", "0"])
        #expect(second.status == 75, "\(second.status) \(second.stderr)")
        #expect(second.stderr.contains("tacho run:"), "\(second.stderr)")
    }
}
