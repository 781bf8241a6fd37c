import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Logging
import NIOCore
import NIOHTTP1

/// An object in the bucket, as listed or checked.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: Int64
    /// Without quotes.
    public var etag: String
}

/// The S3 calls `tacho ship` needs, path-style, signed with Signature V4: put, head, list,
/// and multipart uploads. Retries what is worth retrying (`S3Error.isRetryable`) with
/// exponential backoff and jitter.
public struct S3Client: Sendable {
    public let target: S3Target
    public let signer: SigV4Signer
    public var attempts = 5
    /// First backoff; doubles per attempt, ±50 % jitter.
    public var backoffMillis = 200
    public var timeoutSeconds: Int64 = 60
    let http: HTTPClient
    let logger: Logger
    /// Unix seconds now (a seam for tests).
    let now: @Sendable () -> Int64

    public init(
        target: S3Target, credentials: S3Credentials, http: HTTPClient = .shared, logger: Logger,
        now: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }
    ) {
        self.target = target
        signer = SigV4Signer(credentials: credentials, region: target.region)
        self.http = http
        self.logger = logger
        self.now = now
    }

    /// Uploads `body` as `key` (the full key). Sends Content-MD5, so the store rejects a
    /// body damaged on the way. Returns the ETag.
    @discardableResult
    public func putObject(key: String, body: [UInt8]) async throws -> String {
        let md5 = Self.base64(Array(Insecure.MD5.hash(data: body)))
        let r = try await send("PUT", key: key, headers: [("Content-MD5", md5), ("Content-Type", "application/octet-stream")], body: body, op: "put")
        return Self.etag(r.headers) ?? ""
    }

    /// The object's size and ETag, nil when there is none.
    public func headObject(key: String) async throws -> S3Object? {
        do {
            let r = try await send("HEAD", key: key, op: "head")
            let size = r.headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
            return S3Object(key: key, size: size, etag: Self.etag(r.headers) ?? "")
        } catch S3Error.status(_, _, 404, _, _) {
            return nil
        }
    }

    /// The object's bytes.
    public func getObject(key: String, maxBytes: Int = 1 << 30) async throws -> [UInt8] {
        try await send("GET", key: key, op: "get", maxResponse: maxBytes).body
    }

    /// Every object under `prefix` (full key prefix), in key order.
    public func listObjects(prefix: String) async throws -> [S3Object] {
        var out: [S3Object] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let r = try await send("GET", key: "", query: query, op: "list", maxResponse: 64 << 20)
            let xml = String(decoding: r.body, as: UTF8.self)
            for block in XMLFields.blocks("Contents", in: xml) {
                guard let key = XMLFields.first("Key", in: block) else { continue }
                let size = XMLFields.first("Size", in: block).flatMap { Int64($0) } ?? 0
                let etag = XMLFields.first("ETag", in: block).map(Self.unquoted) ?? ""
                out.append(S3Object(key: key, size: size, etag: etag))
            }
            token = XMLFields.first("IsTruncated", in: xml) == "true" ? XMLFields.first("NextContinuationToken", in: xml) : nil
        } while token != nil
        return out
    }

    public func createMultipartUpload(key: String) async throws -> String {
        let r = try await send("POST", key: key, query: [("uploads", "")], headers: [("Content-Type", "application/octet-stream")], op: "create multipart upload")
        guard let id = XMLFields.first("UploadId", in: String(decoding: r.body, as: UTF8.self)) else {
            throw S3Error.malformedResponse(operation: "create multipart upload", key: key, expected: "UploadId")
        }
        return id
    }

    /// Uploads part `number` (1…10,000); returns its ETag.
    public func uploadPart(key: String, uploadID: String, number: Int, body: [UInt8]) async throws -> String {
        let md5 = Self.base64(Array(Insecure.MD5.hash(data: body)))
        let r = try await send(
            "PUT", key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], headers: [("Content-MD5", md5)], body: body,
            op: "upload part \(number)")
        guard let etag = Self.etag(r.headers) else {
            throw S3Error.malformedResponse(operation: "upload part \(number)", key: key, expected: "ETag")
        }
        return etag
    }

    public func completeMultipartUpload(key: String, uploadID: String, parts: [(number: Int, etag: String)]) async throws {
        var xml = "<CompleteMultipartUpload>"
        for p in parts { xml += "<Part><PartNumber>\(p.number)</PartNumber><ETag>\"\(XMLFields.escape(p.etag))\"</ETag></Part>" }
        xml += "</CompleteMultipartUpload>"
        let r = try await send("POST", key: key, query: [("uploadId", uploadID)], headers: [("Content-Type", "application/xml")], body: Array(xml.utf8), op: "complete multipart upload")
        // S3 may answer 200 with an <Error> body when completion fails late.
        let text = String(decoding: r.body, as: UTF8.self)
        if text.contains("<Error>") {
            throw S3Error.status(operation: "complete multipart upload", key: key, status: 200, code: XMLFields.first("Code", in: text), message: XMLFields.first("Message", in: text))
        }
    }

    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        do {
            _ = try await send("DELETE", key: key, query: [("uploadId", uploadID)], op: "abort multipart upload")
        } catch S3Error.status(_, _, 404, _, _) {
            // Already gone (completed, aborted, or expired by a lifecycle rule).
        }
    }

    public func deleteObject(key: String) async throws {
        _ = try await send("DELETE", key: key, op: "delete")
    }

    /// Creates the bucket (tests and first-time setups); an existing one of ours is fine.
    public func createBucket() async throws {
        do {
            _ = try await send("PUT", key: nil, op: "create bucket")
        } catch S3Error.status(_, _, 409, let code, _) where code == "BucketAlreadyOwnedByYou" {
        }
    }

    // MARK: - requests

    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// One signed request with retries. `key` nil: the bucket itself; "" the bucket's root
    /// path for listing.
    func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [], body: [UInt8] = [],
        op: String, maxResponse: Int = 1 << 20
    ) async throws -> Response {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await sendOnce(method, key: key, query: query, headers: extra, body: body, op: op, maxResponse: maxResponse)
            } catch let e as S3Error where e.isRetryable && attempt < attempts {
                let base = backoffMillis << min(attempt - 1, 10)
                let wait = Int64(base / 2 + Int.random(in: 0...base))
                logger.warning("\(e); retrying in \(wait) ms (attempt \(attempt + 1) of \(attempts))")
                try await Task.sleep(nanoseconds: UInt64(wait) * 1_000_000)
            }
        }
    }

    private func sendOnce(
        _ method: String, key: String?, query: [(String, String)], headers extra: [(String, String)], body: [UInt8], op: String,
        maxResponse: Int
    ) async throws -> Response {
        let path = key.map { $0.isEmpty ? "/" + S3Path.encode(target.bucket, keepSlash: false) + "/" : target.path($0) }
            ?? "/" + S3Path.encode(target.bucket, keepSlash: false)
        let payloadHash = body.isEmpty ? SigV4Signer.emptyPayloadHash : SigV4Signer.payloadHash(body)
        var headers: [(String, String)] = [("Host", target.host)] + extra
        if !body.isEmpty || method == "PUT" || method == "POST" { headers.append(("Content-Length", String(body.count))) }
        let signed = signer.sign(
            SigV4Signer.Request(method: method, path: path, query: query, headers: headers, payloadHash: payloadHash), unixSeconds: now())
        let queryString = query.map { $0.1.isEmpty ? S3Path.encode($0.0, keepSlash: false) : "\(S3Path.encode($0.0, keepSlash: false))=\(S3Path.encode($0.1, keepSlash: false))" }
            .joined(separator: "&")
        var request = HTTPClientRequest(url: target.endpoint + path + (queryString.isEmpty ? "" : "?" + queryString))
        request.method = HTTPMethod(rawValue: method)
        for (n, v) in headers + signed where n != "Content-Length" { request.headers.add(name: n, value: v) }
        if !body.isEmpty || method == "PUT" || method == "POST" { request.body = .bytes(ByteBuffer(bytes: body)) }
        let keyText = key ?? target.bucket
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(timeoutSeconds), logger: logger)
        } catch {
            throw S3Error.transport(operation: op, key: keyText, underlying: "\(error)")
        }
        let bytes: [UInt8]
        do {
            var buffer = try await response.body.collect(upTo: method == "HEAD" ? 0 : maxResponse)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw S3Error.transport(operation: op, key: keyText, underlying: "reading the response: \(error)")
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let text = String(decoding: bytes, as: UTF8.self)
            throw S3Error.status(operation: op, key: keyText, status: status, code: XMLFields.first("Code", in: text), message: XMLFields.first("Message", in: text))
        }
        return Response(status: status, headers: response.headers, body: bytes)
    }

    static func etag(_ headers: HTTPHeaders) -> String? { headers.first(name: "ETag").map(unquoted) }

    static func unquoted(_ s: String) -> String {
        var t = Substring(s)
        if t.hasPrefix("\"") { t = t.dropFirst() }
        if t.hasSuffix("\"") { t = t.dropLast() }
        return String(t)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for s in [18, 12, 6, 0] { out.append(table[Int(v >> UInt32(s) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let v = UInt32(bytes[i]) << 16 | (rest > 1 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(table[Int(v >> 18 & 63)])
            out.append(table[Int(v >> 12 & 63)])
            out.append(rest > 1 ? table[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }
}
