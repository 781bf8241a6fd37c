/// Where objects go: `s3://bucket/prefix` on an S3-compatible endpoint, path-style
/// (`<endpoint>/<bucket>/<key>`), which AWS, MinIO, Ceph and moto all accept.
public struct S3Target: Sendable, Equatable {
    public var bucket: String
    /// Key prefix without a leading slash; empty or ending in `/`.
    public var prefix: String
    /// `http://host:port` or `https://host[:port]`, no path.
    public var endpoint: String
    public var region: String

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notS3URL(String)
        case noBucket(String)
        case badEndpoint(String)

        public var description: String {
            switch self {
            case .notS3URL(let s): return "\(s) is not an s3:// URL (expected s3://BUCKET[/PREFIX])"
            case .noBucket(let s): return "\(s) names no bucket (expected s3://BUCKET[/PREFIX])"
            case .badEndpoint(let s): return "endpoint \(s) is not http://HOST[:PORT] or https://HOST[:PORT]"
            }
        }
    }

    /// Parses `s3://bucket/prefix`. Without `endpoint`, AWS's regional endpoint.
    public init(url: String, endpoint: String?, region: String) throws(ParseError) {
        guard url.hasPrefix("s3://") else { throw .notS3URL(url) }
        let rest = url.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty else { throw .noBucket(url) }
        var prefix = String(rest.dropFirst(bucket.count)).drop { $0 == "/" }
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        let ep = endpoint ?? "https://s3.\(region).amazonaws.com"
        var trimmed = Substring(ep)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://"),
              let hostStart = trimmed.firstRange(of: "://")?.upperBound, !trimmed[hostStart...].isEmpty,
              !trimmed[hostStart...].contains("/")
        else { throw .badEndpoint(ep) }
        self.bucket = String(bucket)
        self.prefix = String(prefix)
        self.endpoint = String(trimmed)
        self.region = region
    }

    /// The `Host` header: the endpoint's host and port as written.
    public var host: String {
        guard let r = endpoint.firstRange(of: "://") else { return endpoint }
        return String(endpoint[r.upperBound...])
    }

    /// The request path of `key` (the full key, prefix included), percent-encoded.
    public func path(_ key: String) -> String { "/" + S3Path.encode(bucket, keepSlash: false) + "/" + S3Path.encode(key, keepSlash: true) }

    /// `s3://bucket/prefix`, for messages.
    public var description: String { "s3://\(bucket)/\(prefix)" }
}
