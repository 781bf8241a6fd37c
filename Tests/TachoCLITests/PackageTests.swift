import Foundation
import Testing
import TachoTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The Debian package (make deb) on a box without Swift: tools/deb-build packs the static
/// binary, lintian finds no error, tools/deb-test installs, queries, upgrades, removes and
/// purges it in a minimal Debian root. Runs only as root with chroot/unshare and the static
/// binary built (`make static`, which `make test` does first); skipped with the reason otherwise.
@Suite struct PackageTests {
    static let staticBinary = repoRoot.path + "/.build-static/release/tacho"

    static func onPath(_ tool: String) -> Bool {
        ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
    }

    /// Why the package test cannot run here; nil when it can.
    static let missing: String? = {
        if getuid() != 0 { return "not root: dpkg in a chroot needs root" }
        for t in ["chroot", "unshare", "dpkg-deb", "dpkg-shlibdeps"] where !onPath(t) { return "\(t) is absent" }
        if !FileManager.default.isExecutableFile(atPath: staticBinary) { return "no static binary at \(staticBinary): run `make static`" }
        return nil
    }()

    @Test(.enabled(if: missing == nil, "package test skipped: \(missing ?? "")"), .timeLimit(.minutes(15)))
    func debInstallsQueriesUpgradesAndPurgesWithoutSwift() throws {
        let out = TempDir("tacho-deb")
        let build = try runToCompletion("/bin/bash", [repoRoot.path + "/tools/deb-build", "--binary", Self.staticBinary, "--out", out.path])
        #expect(build.status == 0, "\(build.stderr)")
        let deb = build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix(".deb") && FileManager.default.fileExists(atPath: deb), "\(build.stdout)")
        // Depends is what the binary links, all of it from Debian.
        #expect(build.stderr.contains("Depends: adduser, libc6"), "\(build.stderr)")
        #expect(!build.stderr.lowercased().contains("swift"), "\(build.stderr)")
        if Self.onPath("lintian") {
            let lint = try runToCompletion("/usr/bin/lintian", ["--fail-on", "error", deb])
            #expect(lint.status == 0 && !lint.stdout.contains("E: "), "\(lint.stdout)\(lint.stderr)")
        }
        let test = try runToCompletion("/bin/bash", [repoRoot.path + "/tools/deb-test", deb])
        #expect(test.status == 0, "\(test.stdout)\(test.stderr)")
        #expect(test.stdout.contains(", 0 failed"), "\(test.stdout)")
        #expect(!test.stdout.contains("FAIL"), "\(test.stdout)")
    }
}
