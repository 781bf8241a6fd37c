import Foundation
import Testing
import TachoTestSupport

/// `tacho` links no network stack; for shipping it execs `tacho-net`, found beside it (a build
/// directory) or in ../lib/tacho/ (the package's /usr/bin/tacho and /usr/lib/tacho/tacho-net).
@Suite struct NetworkExecutableTests {
    let net = builtProduct("tacho-net")

    /// Copies `tacho` (and `tacho-net`, when given a place for it) into a fresh directory tree.
    func install(_ dir: URL, tachoAt: String, netAt: String?) throws -> String {
        let fm = FileManager.default
        let t = dir.appendingPathComponent(tachoAt)
        try fm.createDirectory(at: t.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fm.copyItem(atPath: tachoPath, toPath: t.path)
        if let netAt {
            let n = dir.appendingPathComponent(netAt)
            try fm.createDirectory(at: n.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(atPath: net, toPath: n.path)
        }
        return t.path
    }

    @Test func shippingWithoutTachoNetIsAUsageErrorNamingWhereItLooked() throws {
        let dir = TempDir("tacho-net")
        let lone = try install(URL(fileURLWithPath: dir.path), tachoAt: "bin/tacho", netAt: nil)
        let store = URL(fileURLWithPath: dir.path).appendingPathComponent("store").path
        let r = try runToCompletion(lone, ["ship", "--to", "s3://bucket/prefix", "--store", store])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("tacho-net") && r.stderr.contains(URL(fileURLWithPath: dir.path).appendingPathComponent("bin/tacho-net").path), "\(r.stderr)")
        let run = try runToCompletion(lone, ["run", "--ship-to", "s3://bucket/prefix", "--store", store, "--inbox", URL(fileURLWithPath: dir.path).appendingPathComponent("in").path])
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.contains("--ship-to needs the tacho-net executable"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store), "a refused command created the store")
        // Everything else runs without it.
        let ingest = try runToCompletion(lone, ["ingest", "--store", store, fixtures + "/mobileye-nested"])
        #expect(ingest.status == 0, "\(ingest.stderr)")
    }

    /// Beside it and in the package layout, `tacho ship` is tacho-net's: its S3 URL check answers.
    @Test func shippingExecsTachoNetBesideItOrInLibTacho() throws {
        for (tachoAt, netAt) in [("bin/tacho", "bin/tacho-net"), ("usr/bin/tacho", "usr/lib/tacho/tacho-net")] {
            let dir = TempDir("tacho-net")
            let t = try install(URL(fileURLWithPath: dir.path), tachoAt: tachoAt, netAt: netAt)
            let r = try runToCompletion(t, ["ship", "--to", "http://not-s3", "--store", URL(fileURLWithPath: dir.path).appendingPathComponent("s").path])
            #expect(r.status == 64, "\(tachoAt), \(netAt): \(r.stderr)")
            #expect(r.stderr.contains("is not an s3:// URL"), "\(tachoAt), \(netAt): \(r.stderr)")
            #expect(r.stderr.hasPrefix("tacho ship: "), "tacho-net speaks as tacho: \(r.stderr)")
        }
    }
}
