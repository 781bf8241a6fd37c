import Crypto
import TachoTime

/// Credentials for signing: the usual AWS environment variables, or the config.
public struct S3Credentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN`, for temporary credentials: sent as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// From `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), nil
    /// when either of the first two is missing or empty.
    public static func fromEnvironment(_ env: [String: String]) -> S3Credentials? {
        guard let id = env["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = env["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let token = env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }
}

/// AWS Signature Version 4 for S3 requests (header form): the canonical request, the string
/// to sign, the derived signing key and the `Authorization` header, as AWS documents them
/// ("Authenticating Requests: Using the Authorization Header"). Written here over
/// swift-crypto's HMAC-SHA256 and SHA-256, since no Swift S3 SDK is in the package set.
public struct SigV4Signer: Sendable {
    public var credentials: S3Credentials
    public var region: String
    public var service: String

    /// `x-amz-content-sha256` of a request whose body is not hashed.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request to sign. `path` is the object path as sent (already percent-encoded, see
    /// `S3Path.encode`); `query` the decoded query parameters; `headers` every header to sign
    /// (at least `host`), names in any case.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(String, String)]
        public var headers: [(String, String)]
        public var payloadHash: String

        public init(method: String, path: String, query: [(String, String)] = [], headers: [(String, String)], payloadHash: String) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// The headers to add to `request` sent at `unixSeconds`: `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` (with a session token) and
    /// `Authorization`.
    public func sign(_ request: Request, unixSeconds: Int64) -> [(String, String)] {
        let amzDate = Self.amzDate(unixSeconds)
        var signed = request
        signed.headers.append(("x-amz-date", amzDate))
        signed.headers.append(("x-amz-content-sha256", request.payloadHash))
        if let token = credentials.sessionToken { signed.headers.append(("x-amz-security-token", token)) }
        let parts = authorization(signed, amzDate: amzDate)
        var out: [(String, String)] = [("x-amz-date", amzDate), ("x-amz-content-sha256", request.payloadHash)]
        if let token = credentials.sessionToken { out.append(("x-amz-security-token", token)) }
        out.append(("Authorization", parts.header))
        return out
    }

    /// The pieces of the signature, for tests and for `sign`: the canonical request, the
    /// string to sign, the signature and the `Authorization` header. `request.headers` must
    /// already hold `x-amz-date` (and `x-amz-content-sha256` when signed).
    public func authorization(_ request: Request, amzDate: String) -> (canonicalRequest: String, stringToSign: String, signature: String, header: String) {
        var byName: [String: [String]] = [:]
        for (name, value) in request.headers {
            byName[name.lowercased(), default: []].append(Self.trimmed(value))
        }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalQuery = request.query
            .map { (S3Path.encode($0.0, keepSlash: false), S3Path.encode($0.1, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
        let canonicalRequest = [
            request.method, request.path.isEmpty ? "/" : request.path, canonicalQuery, canonicalHeaders, signedHeaders, request.payloadHash,
        ].joined(separator: "\n")
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        let key = signingKey(day: day)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let header = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"
        return (canonicalRequest, stringToSign, signature, header)
    }

    /// HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// `YYYYMMDDTHHMMSSZ` (UTC).
    public static func amzDate(_ unixSeconds: Int64) -> String {
        let days = CivilDate.floorDiv(unixSeconds, 86_400)
        let secs = unixSeconds - days * 86_400
        let d = CivilDate.date(days: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(d.year)\(two(d.month))\(two(d.day))T\(two(secs / 3600))\(two(secs / 60 % 60))\(two(secs % 60))Z"
    }

    /// Lowercase hex of a digest.
    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 of `bytes`, hex: the `x-amz-content-sha256` of a signed body.
    public static func payloadHash(_ bytes: some Sequence<UInt8>) -> String {
        var h = SHA256()
        h.update(data: Array(bytes))
        return hex(h.finalize())
    }

    /// Header value with leading/trailing spaces removed and inner runs of spaces made one.
    static func trimmed(_ v: String) -> String {
        var out: [UInt8] = []
        var space = false
        for b in v.utf8 {
            if b == 0x20 || b == 0x09 {
                space = !out.isEmpty
            } else {
                if space { out.append(0x20) }
                space = false
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Percent-encoding of object keys and query values as Signature V4 wants it: every byte but
/// the unreserved `A–Z a–z 0–9 - _ . ~` as `%XX` (uppercase), `/` kept in paths.
public enum S3Path {
    public static func encode(_ s: String, keepSlash: Bool) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepSlash:
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
