import AsyncHTTPClient
import Foundation
import Logging
import TachoS3
import TachoTestSupport

/// moto's S3 server on loopback for one test (tools/s3-test-server), stopped when the value
/// goes. Its bucket `tacho-test` is created on start.
final class MotoServer: @unchecked Sendable {
    let port: Int
    let process: Process
    static let credentials = S3Credentials(accessKeyID: "testing", secretAccessKey: "testing")

    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...60_000)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/bash")
            p.arguments = [root + "/tools/s3-test-server", String(port)]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let client = Self.client(port: port, bucket: "tacho-test")
            for _ in 0..<150 {
                if !p.isRunning { break }
                do {
                    try await client.createBucket()
                    self.port = port
                    process = p
                    return
                } catch {
                    lastError = error
                    try await Task.sleep(nanoseconds: 100_000_000)
                }
            }
            kill(p.processIdentifier, SIGKILL)
        }
        throw lastError ?? S3Error.transport(operation: "start moto", key: "", underlying: "tools/s3-test-server did not start (is .venv-s3 installed? run make test-deps)")
    }

    // SIGKILL without waiting: Foundation's waitUntilExit can stall a test's executor thread,
    // and Foundation reaps the child.
    deinit { kill(process.processIdentifier, SIGKILL) }

    static func client(port: Int, bucket: String, prefix: String = "") -> S3Client {
        var logger = Logger(label: "s3-test")
        logger.logLevel = .critical
        // A bucket URL and endpoint that parse; a failure here is a bug in the test.
        let target = (try? S3Target(url: "s3://\(bucket)/\(prefix)", endpoint: "http://127.0.0.1:\(port)", region: "us-east-1"))
            ?? { fatalError("bad test target") }()
        var c = S3Client(target: target, credentials: credentials, logger: logger)
        c.attempts = 1
        return c
    }

    func client(prefix: String = "") -> S3Client {
        var c = Self.client(port: port, bucket: "tacho-test", prefix: prefix)
        c.attempts = 3
        c.backoffMillis = 20
        return c
    }
}
