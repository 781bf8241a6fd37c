import Foundation
import TachoTestSupport
import Testing

/// TLS on the built binary (docs/HTTP.md "TLS"): a self-signed certificate made by Debian's
/// `openssl`, `tacho serve` and `tacho run --listen` started with it, asked by `curl` trusting
/// only that certificate; plain HTTP to the TLS port gets no data; bad files are refused with
/// exit 64 and a message naming them.
@Suite struct TLSTests {
    /// A temp directory with `cert.pem` and `key.pem` (EC P-256, CN and SAN 127.0.0.1, 1 day),
    /// and `other-key.pem`, a second key that does not belong to the certificate.
    struct Certificate {
        let dir = TempDir("tacho-tls")
        var cert: String { dir.path + "/cert.pem" }
        var key: String { dir.path + "/key.pem" }
        var otherKey: String { dir.path + "/other-key.pem" }

        init() throws {
            let r = try run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                "-keyout", dir.path + "/key.pem", "-out", dir.path + "/cert.pem",
            ])
            guard r.status == 0 else { throw HarnessError("openssl req: \(r.status) \(r.err)") }
            let k = try run("/usr/bin/openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", otherKey])
            guard k.status == 0 else { throw HarnessError("openssl genpkey: \(k.status) \(k.err)") }
        }
    }

    /// A `tacho` process whose standard error goes to a file; `port` once it printed
    /// `listening on https://127.0.0.1:PORT`.
    final class TachoProcess {
        let process = Process()
        let log: String

        init(_ args: [String], log: String) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            process.executableURL = URL(fileURLWithPath: builtProduct("tacho"))
            process.arguments = args
            process.environment = childEnvironment(["TACHO_CONFIG": ""])
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardError = handle
            process.standardOutput = handle
            try process.run()
        }

        var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        /// The port of the `listening on https://127.0.0.1:` line (nil if it exited or took 30 s).
        func httpsPort() -> Int? {
            var port: Int?
            _ = waitUntil(30) {
                let text = logText
                if let r = text.range(of: "listening on https://127.0.0.1:") { port = Int(text[r.upperBound...].prefix { $0.isNumber }) }
                return port != nil || !process.isRunning
            }
            return port
        }

        /// The exit status (SIGKILL after 20 s).
        @discardableResult func wait(_ seconds: Double = 20) -> Int32 {
            if !waitUntil(seconds, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// SIGTERM (tacho handles it), SIGKILL if it has not stopped within 20 s.
        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            wait()
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
    }

    /// `curl -sS` with `args`: exit status and standard output.
    static func curl(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try run("/usr/bin/curl", ["-sS", "--max-time", "20"] + args)
    }

    @Test func tachoServeAnswersOverHTTPSAndNotOverPlainHTTP() throws {
        let store = try FixtureStore()
        let c = try Certificate()
        let serve = try TachoProcess(
            ["serve", "--store", store.path, "--listen", "127.0.0.1:0", "--tls-cert", c.cert, "--tls-key", c.key],
            log: c.dir.path + "/serve.log")
        defer { serve.stop() }
        let port = try #require(serve.httpsPort(), "tacho serve did not start: \(serve.logText)")
        let base = "https://127.0.0.1:\(port)"
        // Trusting only the test's certificate (curl checks the chain and the IP SAN).
        // The same bytes as tacho's, as over plain HTTP.
        let m = try Self.curl(["--cacert", c.cert, base + "/api/v1/measurements?format=csv"])
        let measurements = try tacho(["measurements", "--store", store.path, "--format", "csv"])
        #expect(m.status == 0 && m.out == measurements, "\(m.err)")
        #expect(m.out.contains("status"), "\(m.out)")
        let latest = try Self.curl(["--cacert", c.cert, base + "/api/v1/latest/status?format=csv"])
        let latestCSV = try tacho(["latest", "--store", store.path, "--format", "csv"])
        #expect(latest.status == 0 && latest.out == latestCSV, "\(latest.err)")
        // Without the certificate trusted, curl refuses the server (it is not a public CA's).
        #expect(try Self.curl([base + "/api/v1/measurements"]).status != 0)
        // Plain HTTP to the TLS port: the handshake fails, no data.
        let plain = try Self.curl(["http://127.0.0.1:\(port)/api/v1/measurements"])
        #expect(plain.status != 0, "plain HTTP got an answer: \(plain.out)")
        #expect(!plain.out.contains("status"), "\(plain.out)")
        #expect(!plain.out.contains("detections"), "\(plain.out)")
        serve.stop()
        #expect(serve.process.terminationReason == .exit && serve.process.terminationStatus == 0)
    }

    @Test func tachoRunListenTakesWritesOverHTTPS() throws {
        let c = try Certificate()
        let root = c.dir.path
        let daemon = try TachoProcess(
            ["run", "--store", root + "/store", "--inbox", root + "/inbox", "--compact-every", "0",
             "--listen", "127.0.0.1:0", "--tls-cert", c.cert, "--tls-key", c.key],
            log: root + "/run.log")
        defer { daemon.stop() }
        let port = try #require(daemon.httpsPort(), "tacho run did not start: \(daemon.logText)")
        let w = try Self.curl([
            "--cacert", c.cert, "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "battery,vehicle_id=v1 soc=81.5 1726293601",
            "https://127.0.0.1:\(port)/write?precision=s",
        ])
        #expect(w.status == 0 && w.out == "204", "\(w.out) \(w.err)")
        var rows = ""
        _ = waitUntil(20) {
            rows = (try? tacho(["query", "battery", "--store", root + "/store", "--format", "csv"])) ?? ""
            return rows.contains("v1")
        }
        #expect(rows.contains("81.5"), "\(rows)")
    }

    /// Refused before anything is served or opened: exit 64, the message names the file.
    @Test(arguments: ["serve", "run"])
    func badFilesAreRefusedNamingThem(command: String) throws {
        let c = try Certificate()
        let root = c.dir.path
        let notPEM = root + "/not-a-key.pem"
        try Data("this is no key\n".utf8).write(to: URL(fileURLWithPath: notPEM))
        let missing = root + "/missing-cert.pem"
        let store = root + "/store"
        let base = command == "serve"
            ? ["serve", "--store", store, "--listen", "127.0.0.1:0"]
            : ["run", "--store", store, "--inbox", root + "/inbox", "--listen", "127.0.0.1:0"]
        let cases: [(args: [String], names: String)] = [
            (["--tls-cert", c.cert, "--tls-key", notPEM], notPEM),
            (["--tls-cert", c.cert, "--tls-key", c.cert], c.cert),  // a certificate is not a key
            (["--tls-cert", missing, "--tls-key", c.key], missing),
            (["--tls-cert", c.key, "--tls-key", c.key], c.key),  // a key is not a certificate
            (["--tls-cert", c.cert, "--tls-key", c.otherKey], c.otherKey),  // not the certificate's key
            (["--tls-cert", c.cert], "--tls-key"),
        ]
        for (i, t) in cases.enumerated() {
            let p = try TachoProcess(base + t.args, log: root + "/\(command)-\(i).log")
            let status = p.wait()
            #expect(status == 64, "\(t.args): exit \(status): \(p.logText)")
            #expect(p.logText.contains(t.names), "\(t.args): \(p.logText)")
            #expect(!p.logText.contains("listening"), "\(t.args): \(p.logText)")
        }
        // Nothing was made: the files are checked before the store is opened or the inbox made.
        #expect(!FileManager.default.fileExists(atPath: store))
        #expect(!FileManager.default.fileExists(atPath: root + "/inbox"))
    }

    /// `[http] tls_cert`/`tls_key` turn TLS on; the flags win over them.
    @Test func theConfigFileNamesTheFilesAndTheFlagsWin() throws {
        let store = try FixtureStore()
        let c = try Certificate()
        let config = c.dir.path + "/tacho.toml"
        try Data("[http]\ntls_cert = \"\(c.cert)\"\ntls_key = \"\(c.key)\"\n".utf8).write(to: URL(fileURLWithPath: config))
        let fromFile = try TachoProcess(["serve", "--config", config, "--store", store.path, "--listen", "127.0.0.1:0"], log: c.dir.path + "/a.log")
        defer { fromFile.stop() }
        let port = try #require(fromFile.httpsPort(), "tacho serve did not start: \(fromFile.logText)")
        #expect(try Self.curl(["--cacert", c.cert, "https://127.0.0.1:\(port)/api/v1/measurements"]).status == 0)
        fromFile.stop()
        // The flags name another key (not the certificate's): refused, so the flags were used.
        let flags = try TachoProcess(
            ["serve", "--config", config, "--store", store.path, "--listen", "127.0.0.1:0", "--tls-cert", c.cert, "--tls-key", c.otherKey],
            log: c.dir.path + "/b.log")
        #expect(flags.wait() == 64, "\(flags.logText)")
        #expect(flags.logText.contains(c.otherKey), "\(flags.logText)")
    }
}

/// Runs `exe args…` to its end: exit status, standard output and standard error (to a file,
/// so that neither can fill up and block the child).
private func run(_ exe: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
    let errDir = TempDir("tacho-tls-run")
    let errPath = errDir.path + "/stderr"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let e = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), e)
}
