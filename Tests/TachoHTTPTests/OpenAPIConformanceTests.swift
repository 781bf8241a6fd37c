import Foundation
import TachoTestSupport
import Testing

/// docs/openapi.yaml against the running server: `tools/openapi-check` (schemathesis from PyPI,
/// in the venv `tools/pyenv --openapi` makes) sends requests generated from the spec to every
/// operation of a real `tacho serve` and fails on a 5xx or on any answer the spec does not
/// describe. A venv that cannot be made fails the test with the reason; it never skips.
@Suite(.serialized) struct OpenAPIConformanceTests {
    @Test func theServerAnswersOnlyWhatTheSpecDescribes() async throws {
        let store = try FixtureStore()
        let server = try ServeProcess(store: store.path)
        defer { server.stop() }
        let r = try await Self.checkOffPool("http://127.0.0.1:\(server.port)")
        #expect(r.status == 0, "tools/openapi-check found answers outside docs/openapi.yaml:\n\(r.output.suffix(6000))")
        // It did test something: every operation of the spec, with generated cases.
        #expect(r.output.contains("Tested: "), "\(r.output.suffix(2000))")
        #expect(!r.output.contains("Tested: 0"), "\(r.output.suffix(2000))")
    }

    /// The same against `tacho run --listen`, where the write endpoints take what they are
    /// sent (the generated bodies that are valid go into a scratch store).
    @Test func theDaemonsServerAnswersOnlyWhatTheSpecDescribes() async throws {
        let dir = TempDir("tacho-openapi-run")
        try FileManager.default.createDirectory(atPath: dir.path + "/inbox", withIntermediateDirectories: true)
        let daemon = try await ListeningDaemon(store: dir.path + "/store", inbox: dir.path + "/inbox", log: dir.path + "/log")
        let r = try await Self.checkOffPool("http://127.0.0.1:\(daemon.port)")
        await daemon.stop()
        #expect(r.status == 0, "tools/openapi-check found answers outside docs/openapi.yaml:\n\(r.output.suffix(6000))")
        #expect(r.output.contains("Tested: ") && !r.output.contains("Tested: 0"), "\(r.output.suffix(2000))")
    }

    /// The check can fail: a server that is not Tacho (Python's file server: HTML 404s,
    /// 501 for POST) is refused, so a pass above means something.
    @Test func aServerOutsideTheSpecFailsTheCheck() async throws {
        let dir = TempDir("tacho-openapi")
        let port = try freePort()
        let stub = Process()
        stub.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        stub.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir.path, String(port)]
        stub.standardOutput = FileHandle.nullDevice
        stub.standardError = FileHandle.nullDevice
        try stub.run()
        defer {
            // SIGKILL: a child of the test runner inherits its blocked SIGTERM, and Python
            // installs no handler that would unblock it.
            kill(stub.processIdentifier, SIGKILL)
            stub.waitUntilExit()
        }
        try #require(await eventually(10) { (try? connects(port)) == true }, "python3 -m http.server did not start")
        let r = try await Self.checkOffPool("http://127.0.0.1:\(port)", maxExamples: 5)
        #expect(r.status != 0, "the check passed a server the spec does not describe:\n\(r.output.suffix(3000))")
        // Its 501s and HTML answers are named as such.
        for failure in ["Server error", "Undocumented Content-Type", "Undocumented status code"] {
            #expect(r.output.contains(failure), "no \(failure) failure reported:\n\(r.output.suffix(3000))")
        }
    }

    /// `check` on a thread of its own: schemathesis runs for seconds, and a test blocking a
    /// thread of the cooperative pool starves the in-process servers of other suites.
    static func checkOffPool(_ url: String, maxExamples: Int = 20) async throws -> (status: Int32, output: String) {
        try await onThread { Result { try check(url, maxExamples: maxExamples) } }.get()
    }

    /// `tools/openapi-check URL`: exit status and everything it printed.
    static func check(_ url: String, maxExamples: Int = 20) throws -> (status: Int32, output: String) {
        let dir = TempDir("tacho-openapi-out")
        let out = dir.path + "/out.txt"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repositoryRoot + "/tools/openapi-check", url, "--max-examples", String(maxExamples)]
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        p.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        if text.contains("tools/pyenv:") && text.contains("failed") {
            throw HarnessError("tools/pyenv --openapi could not make its venv: run `make test-deps` with network access to PyPI\n\(text)")
        }
        return (p.terminationStatus, text)
    }
}

/// A port nothing listens on now (bound and released).
func freePort() throws -> Int {
    try withLoopbackSocket(port: 0) { fd, addr in
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard bind(fd, addr, len) == 0, getsockname(fd, addr, &len) == 0 else { throw HarnessError("bind: \(errno)") }
        return Int(UInt16(bigEndian: addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_port }))
    }
}

/// Whether a TCP connection to 127.0.0.1:`port` succeeds.
func connects(_ port: Int) throws -> Bool {
    try withLoopbackSocket(port: port) { fd, addr in connect(fd, addr, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
}

/// A TCP socket and the address 127.0.0.1:`port`, for `body`; the socket is closed after.
func withLoopbackSocket<R>(port: Int, _ body: (Int32, UnsafeMutablePointer<sockaddr>) throws -> R) throws -> R {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return try withUnsafeMutablePointer(to: &addr) { p in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body(fd, $0) }
    }
}
