import Foundation
import Logging
import Synchronization
import TachoHTTP
import TachoTestSupport
import Testing

/// Device logins, device-scoped reads and writes, hashed admin tokens, the loopback rule and
/// the result-row limit.
@Suite struct AuthTests {
    static let device = "ebab5f787798416fb2b8afc1340d7a4e"
    static let other = "ebae3f787798416fb2b8afc1340d7a6d"
    static let secret = "device-secret-1"
    static let adminToken = "admin-token-for-tests"

    static func auth() -> HTTPAuthOptions {
        var a = HTTPAuthOptions()
        a.deviceSecretDigests = [device: HTTPAuthOptions.digest(secret)]
        a.adminTokenDigests = [HTTPAuthOptions.digest(hex: "aaaa" + String(repeating: "0", count: 60)) ?? [], HTTPAuthOptions.digest(adminToken)]
        return a
    }

    static func detection(_ vehicle: String) -> [UInt8] {
        Array("{\"objects_detection_events\":[{\"vehicle_id\":\"\(vehicle)\",\"detection_time\":\"2024-07-01T10:00:00Z\",\"object_type\":\"cars\",\"object_value\":1}]}".utf8)
    }

    func login(_ port: Int, _ device: String, _ secret: String) async throws -> HTTPAnswer {
        try await request(port, "/api/v1/login", method: .POST, body: Array("{\"device_id\":\"\(device)\",\"secret\":\"\(secret)\"}".utf8))
    }

    func token(_ a: HTTPAnswer) -> String {
        let o = try? JSONSerialization.jsonObject(with: Data(a.body.utf8)) as? [String: Any]
        return o?["token"] as? String ?? ""
    }

    @Test func aDeviceTokenReadsAndWritesOnlyItsOwnVehicle() async throws {
        let store = try FixtureStore()
        let path = store.path, inbox = store.dir.path + "/inbox"
        let ownRows = try tacho(["query", "detections", "--store", path, "--vehicle", Self.device, "--format", "csv"])
        let ownLatest = try tacho(["latest", "--store", path, "--vehicle", Self.device, "--format", "csv"])
        let allRows = try tacho(["query", "detections", "--store", path, "--format", "csv"])
        try await withServer(path, configure: { $0.auth = Self.auth(); $0.inboxPath = inbox }) { port in
            let none = try await get(port, "/api/v1/latest/status")
            #expect(none.status == 401 && none.headers["WWW-Authenticate"].first == "Bearer", "\(none.body)")
            #expect(try await login(port, Self.device, "wrong").status == 401)
            #expect(try await login(port, "356938035643809", Self.secret).status == 401)
            let ok = try await login(port, Self.device, Self.secret)
            #expect(ok.status == 200, "\(ok.body)")
            let t = token(ok)
            #expect(t.split(separator: ".").count == 3)
            let bearer = [("Authorization", "Bearer \(t)")]

            #expect(try await request(port, "/api/v1/query/detections?format=csv", headers: bearer).body == ownRows)
            #expect(try await request(port, "/api/v1/latest/status?format=csv", headers: bearer).body == ownLatest)
            #expect(try await request(port, "/api/v1/query/detections?vehicle=\(Self.other)", headers: bearer).status == 403)
            #expect(try await request(port, "/api/v1/agg/detections?every=1h&fn=count&vehicle=\(Self.device),\(Self.other)", headers: bearer).status == 403)
            #expect(try await request(port, "/api/v1/vehicles", headers: bearer).status == 403)
            #expect(try await request(port, "/api/v1/stats", headers: bearer).status == 403)

            let mine = try await request(port, "/api/v1/write/detections", method: .POST, headers: bearer, body: Self.detection(Self.device))
            #expect(mine.status == 202, "\(mine.body)")
            let theirs = try await request(port, "/api/v1/write/detections", method: .POST, headers: bearer, body: Self.detection(Self.other))
            #expect(theirs.status == 403 && theirs.body.contains("nothing was written"), "\(theirs.body)")
            let lines = Array("battery,vehicle_id=\(Self.other) soc=1 1\n".utf8)
            #expect(try await request(port, "/write?p=\(t)", method: .POST, body: lines).status == 403)
            let basic = "Basic " + Data("telegraf:\(t)".utf8).base64EncodedString()
            #expect(try await request(port, "/write", method: .POST, headers: [("Authorization", basic)], body: lines).status == 403)
            #expect(WriteAPITests.inboxFiles(inbox).count == 1)

            // A forged signature grants nothing.
            let forged = String(t.dropLast(2)) + (t.hasSuffix("AA") ? "BB" : "AA")
            #expect(try await request(port, "/api/v1/latest/status", headers: [("Authorization", "Bearer \(forged)")]).status == 401)

            let admin = [("Authorization", "Token \(Self.adminToken)")]
            #expect(try await request(port, "/api/v1/query/detections?format=csv", headers: admin).body == allRows)
            #expect(try await request(port, "/api/v1/write/detections", method: .POST, headers: admin, body: Self.detection(Self.other)).status == 202)
            #expect(try await request(port, "/api/v1/stats", headers: admin).status == 200)
        }
    }

    @Test func anExpiredDeviceTokenGrantsNothing() async throws {
        let store = try FixtureStore()
        var a = Self.auth()
        a.tokenLifetimeSeconds = -1
        try await withServer(store.path, configure: { $0.auth = a }) { port in
            let t = token(try await login(port, Self.device, Self.secret))
            #expect(!t.isEmpty)
            #expect(try await request(port, "/api/v1/latest/status", headers: [("Authorization", "Bearer \(t)")]).status == 401)
        }
    }

    @Test func withoutTokensOnlyLoopbackIsServed() async throws {
        var o = HTTPServerOptions(storePath: "/nonexistent")
        o.host = "0.0.0.0"
        #expect(throws: HTTPServerError.self) { try TachoHTTPServer(options: o).checkAddress() }
        o.host = "127.0.0.1"
        try TachoHTTPServer(options: o).checkAddress()
        o.host = "0.0.0.0"
        o.auth = Self.auth()
        try TachoHTTPServer(options: o).checkAddress()
    }

    @Test func tokensAndSecretsAreNeverLogged() async throws {
        let store = try FixtureStore()
        let lines = LogLines()
        try await withServer(store.path, configure: {
            $0.auth = Self.auth()
            var l = Logger(label: "capture") { _ in lines }
            l.logLevel = .trace
            $0.logger = l
        }) { port in
            let t = token(try await login(port, Self.device, Self.secret))
            _ = try await login(port, Self.device, "wrong-secret-x")
            _ = try await request(port, "/api/v1/latest/nosuch", headers: [("Authorization", "Bearer \(t)")])
            _ = try await request(port, "/api/v1/latest/status", headers: [("Authorization", "Bearer \(Self.adminToken)")])
            let logged = lines.all.joined(separator: "\n")
            #expect(!lines.all.isEmpty)
            for secret in [t, Self.secret, "wrong-secret-x", Self.adminToken] where !secret.isEmpty {
                #expect(!logged.contains(secret))
            }
        }
    }

    @Test func aResultOverTheRowLimitIsNeverSilentlyShort() async throws {
        let store = try FixtureStore()
        try await withServer(store.path, configure: { $0.maxResultRows = 5 }) { port in
            let over = try await get(port, "/api/v1/query/detections?limit=6")
            #expect(over.status == 400 && over.body.contains("maxResultRows"), "\(over.body)")
            #expect(try await get(port, "/api/v1/query/detections?limit=5&format=ndjson").body.split(separator: "\n").count == 5)
            await #expect(throws: (any Error).self) { _ = try await get(port, "/api/v1/query/detections?format=csv") }
        }
    }
}

/// A log handler that keeps every line with its metadata.
final class LogLines: LogHandler, @unchecked Sendable {
    private let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var all: [String] { lines.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let text = "\(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 }) \(event.error.map { "\($0)" } ?? "")"
        lines.withLock { $0.append(text) }
    }
}
