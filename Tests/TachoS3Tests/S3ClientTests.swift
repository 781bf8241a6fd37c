import Foundation
import Logging
import TachoS3
import TachoTestSupport
import Testing

/// The client against a real S3 API (moto's server on loopback): objects, listing, multipart.
@Suite(.serialized) struct S3ClientTests {
    static func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    @Test func objectsRoundTripWithAnyKey() async throws {
        let moto = try await MotoServer()
        let c = moto.client(prefix: "fleet/box 1")
        let keys = ["detections/date=2024-07-01/box-a-20240701-1.parquet", "odd keys/é ü/a+b=c&d.parquet", "x"]
        for (i, key) in keys.enumerated() {
            let body = Self.randomBytes(1000 + i * 77, seed: UInt64(i))
            try await c.putObject(key: c.target.prefix + key, body: body)
            #expect(try await c.getObject(key: c.target.prefix + key) == body)
            let head = try await c.headObject(key: c.target.prefix + key)
            #expect(head?.size == Int64(body.count))
        }
        let listed = try await c.listObjects(prefix: c.target.prefix)
        #expect(Set(listed.map(\.key)) == Set(keys.map { c.target.prefix + $0 }))
        #expect(try await c.headObject(key: c.target.prefix + "missing") == nil)
        try await c.deleteObject(key: c.target.prefix + "x")
        #expect(try await c.headObject(key: c.target.prefix + "x") == nil)
    }

    @Test func multipartUploadsAssembleTheParts() async throws {
        let moto = try await MotoServer()
        let c = moto.client()
        let body = Self.randomBytes(11 << 20, seed: 9)
        let id = try await c.createMultipartUpload(key: "big.bin")
        var parts: [(number: Int, etag: String)] = []
        var offset = 0
        while offset < body.count {
            let n = min(5 << 20, body.count - offset)
            parts.append((parts.count + 1, try await c.uploadPart(key: "big.bin", uploadID: id, number: parts.count + 1, body: Array(body[offset..<offset + n]))))
            offset += n
        }
        try await c.completeMultipartUpload(key: "big.bin", uploadID: id, parts: parts)
        #expect(try await c.getObject(key: "big.bin") == body)
    }

    @Test func errorsCarryTheStatusAndCode() async throws {
        let moto = try await MotoServer()
        let other = MotoServer.client(port: moto.port, bucket: "no-such-bucket")
        do {
            try await other.putObject(key: "k", body: [1, 2, 3])
            Issue.record("a put into a missing bucket succeeded")
        } catch let e as S3Error {
            guard case .status(_, _, 404, let code, _) = e else {
                Issue.record("expected a 404, got \(e)")
                return
            }
            #expect(code == "NoSuchBucket")
            #expect(!e.isRetryable)
        }
        // Nothing listens on port 1: a transport error, retryable.
        var dead = MotoServer.client(port: 1, bucket: "b")
        dead.timeoutSeconds = 2  // the connection pool retries a refused connect until the deadline
        do {
            _ = try await dead.headObject(key: "k")
            Issue.record("a request to a closed port succeeded")
        } catch let e as S3Error {
            guard case .transport = e else {
                Issue.record("expected a transport error, got \(e)")
                return
            }
            #expect(e.isRetryable)
        }
    }
}
