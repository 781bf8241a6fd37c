import Crypto
import Foundation
import JWTKit

/// Who may do what (docs/HTTP.md "Auth"). Devices log in with their id (the IMEI) and their
/// secret and get a short-lived JWT bound to that device; admins present a long-lived token.
/// Only SHA-256 digests of secrets and admin tokens are held (and configured), compared in
/// constant time. Tokens are never logged.
public struct HTTPAuthOptions: Sendable {
    /// SHA-256 digests of the admin tokens (64 hex digits each in the config): an admin
    /// reads and writes everything.
    public var adminTokenDigests: [[UInt8]] = []
    /// Device id → SHA-256 digest of its secret.
    public var deviceSecretDigests: [String: [UInt8]] = [:]
    /// The HMAC key device tokens are signed with (HS256). Default: 32 random bytes, so
    /// tokens do not outlive the process.
    public var signingKey: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }
    /// How long a device token is valid, in seconds. Default 900 (15 minutes).
    public var tokenLifetimeSeconds = 900

    public init() {}

    /// `secret`'s digest as the options hold it (for a config writer and tests).
    public static func digest(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    /// A digest from its 64 hex digits; nil if it is not one.
    public static func digest(hex: String) -> [UInt8]? {
        let b = Array(hex.utf8)
        guard b.count == 64 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: 64, by: 2) {
            guard let hi = hexValue(b[i]), let lo = hexValue(b[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// What a request may touch.
enum Access: Sendable, Equatable {
    /// Auth is off (a loopback-only server): everything.
    case open
    case admin
    /// Only rows of this vehicle.
    case device(String)
}

/// The claims of a device token.
struct DeviceClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim

    func verify(using algorithm: some JWTAlgorithm) throws {
        try exp.verifyNotExpired()
    }
}

/// Checks credentials and tokens against `HTTPAuthOptions`.
struct Authenticator: Sendable {
    let options: HTTPAuthOptions
    let keys: JWTKeyCollection

    init(_ options: HTTPAuthOptions) async {
        self.options = options
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(key: SymmetricKey(data: options.signingKey)), digestAlgorithm: .sha256)
    }

    /// Equal lengths and bytes, in time that depends only on the length.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// A device's token for its id and secret; nil when they do not match (the same answer
    /// for an unknown device and a wrong secret).
    func login(device: String, secret: String) async throws -> (token: String, expiresIn: Int)? {
        let given = HTTPAuthOptions.digest(secret)
        let known = options.deviceSecretDigests[device] ?? [UInt8](repeating: 0, count: 32)
        guard Self.constantTimeEqual(given, known), options.deviceSecretDigests[device] != nil else { return nil }
        let now = Date()
        let claims = DeviceClaims(sub: SubjectClaim(value: device), exp: ExpirationClaim(value: now.addingTimeInterval(Double(options.tokenLifetimeSeconds))),
                                  iat: IssuedAtClaim(value: now))
        return (try await keys.sign(claims), options.tokenLifetimeSeconds)
    }

    /// The access `token` grants; nil when it grants none (unknown, forged or expired).
    func access(token: String) async -> Access? {
        let digest = HTTPAuthOptions.digest(token)
        var admin = false
        for d in options.adminTokenDigests where Self.constantTimeEqual(d, digest) { admin = true }
        if admin { return .admin }
        guard let claims = try? await keys.verify(token, as: DeviceClaims.self) else { return nil }
        guard options.deviceSecretDigests[claims.sub.value] != nil else { return nil }
        return .device(claims.sub.value)
    }
}
