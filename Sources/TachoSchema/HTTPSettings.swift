/// `[http]`: the HTTP front of `tacho run --listen` and `tacho serve` (docs/CONFIG.md,
/// docs/HTTP.md). Sizes and durations keep the operator's text, checked here; digests are
/// checked to be 64 hex digits. Every key is optional: an absent key is the server's default.
public struct HTTPSettings: Sendable, Equatable {
    /// `HOST:PORT` to listen on; given, `tacho run` serves HTTP (`--listen` wins).
    public var listen: String?
    /// SHA-256 digests (64 hex digits) of the admin tokens.
    public var adminTokenDigests: [String] = []
    /// Device id (IMEI) → SHA-256 digest (64 hex digits) of its secret.
    public var deviceSecretDigests: [String: String] = [:]
    /// The largest request body (a size).
    public var maxBody: String?
    public var maxRowsPerRequest: Int?
    public var maxResultRows: Int?
    /// Durations.
    public var idleTimeout: String?
    public var bodyTimeout: String?
    public var tokenLifetime: String?
    /// TLS (docs/HTTP.md "TLS"): the PEM certificate chain and private key files, both or
    /// neither (`--tls-cert`/`--tls-key` win). Given: the server answers HTTPS only.
    public var tlsCert: String?
    public var tlsKey: String?

    public init() {}

    /// Whether any token is configured (auth is on).
    public var hasTokens: Bool { !adminTokenDigests.isEmpty || !deviceSecretDigests.isEmpty }
}

extension TachoConfig {
    static let httpKeys = [
        "listen", "admin_token_sha256", "device_secret_sha256", "max_body", "max_rows_per_request", "max_result_rows",
        "idle_timeout", "body_timeout", "token_lifetime", "tls_cert", "tls_key",
    ]

    static func httpSettings(_ r: TableReader) throws(ConfigError) -> HTTPSettings {
        try r.checkKeys(httpKeys)
        var s = HTTPSettings()
        if let l = try r.string("listen") {
            guard listenAddress(l) != nil else { throw r.error("listen", .badValue(key: "listen", why: "expected HOST:PORT, like \"127.0.0.1:8086\"")) }
            s.listen = l
        }
        for d in try r.strings("admin_token_sha256") ?? [] {
            guard isDigest(d) else {
                throw r.error("admin_token_sha256", .badValue(key: "admin_token_sha256", why: "each item must be 64 hex digits, a SHA-256 digest (printf %s \"$TOKEN\" | sha256sum)"))
            }
            s.adminTokenDigests.append(d)
        }
        if let t = try r.subtable("device_secret_sha256") {
            for k in t.table.keys.sorted() {
                guard let d = try t.string(k), isDigest(d) else {
                    throw t.error(k, .badValue(key: k, why: "a device's secret must be given as 64 hex digits, a SHA-256 digest (printf %s \"$SECRET\" | sha256sum)"))
                }
                s.deviceSecretDigests[k] = d
            }
        }
        if let b = try r.text("max_body") {
            guard let v = SettingUnits.bytes(b), v > 0, v <= 1 << 40 else { throw r.error("max_body", .badSize(key: "max_body", value: b)) }
            s.maxBody = b
        }
        for key in ["max_rows_per_request", "max_result_rows"] {
            guard let v = try r.integer(key) else { continue }
            guard v > 0, let n = Int(exactly: v) else { throw r.error(key, .badValue(key: key, why: "must be a positive integer")) }
            if key == "max_rows_per_request" { s.maxRowsPerRequest = n } else { s.maxResultRows = n }
        }
        for key in ["idle_timeout", "body_timeout", "token_lifetime"] {
            guard let d = try r.string(key) else { continue }
            guard let m = SettingUnits.durationMicros(d), m >= 1_000_000 else {
                throw r.error(key, .badValue(key: key, why: "\"\(d)\" is not a duration of at least 1s, like 30s, 5m"))
            }
            switch key {
            case "idle_timeout": s.idleTimeout = d
            case "body_timeout": s.bodyTimeout = d
            default: s.tokenLifetime = d
            }
        }
        s.tlsCert = try r.string("tls_cert")
        s.tlsKey = try r.string("tls_key")
        for (key, other, value) in [("tls_cert", "tls_key", s.tlsCert), ("tls_key", "tls_cert", s.tlsKey)] {
            guard let value else { continue }
            guard !value.isEmpty else { throw r.error(key, .badValue(key: key, why: "expected the path of a PEM file")) }
            if (key == "tls_cert" ? s.tlsKey : s.tlsCert) == nil {
                throw r.error(key, .badValue(key: key, why: "TLS needs both tls_cert and tls_key; \(other) is missing"))
            }
        }
        return s
    }

    static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }
    }

    /// `HOST:PORT` (`[::1]:8086` for IPv6) split; nil when it is not that.
    public static func listenAddress(_ listen: String) -> (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }
}
