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
