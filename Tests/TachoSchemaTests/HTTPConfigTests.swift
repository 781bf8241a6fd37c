import Testing
@testable import TachoSchema

/// `[http]`: the HTTP front's address, tokens and limits, checked like every other table:
/// a typo or a bad value is refused with the file's line:column.
@Suite struct HTTPConfigTests {
    static let digest = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"

    @Test func everyKeyIsRead() throws {
        let c = try TachoConfig.parse("""
            [http]
            listen = "[::1]:8086"
            admin_token_sha256 = ["\(Self.digest)"]
            device_secret_sha256 = { "356938035643809" = "\(Self.digest.uppercased())" }
            max_body = "1MiB"
            max_rows_per_request = 5000
            max_result_rows = 100
            idle_timeout = "10s"
            body_timeout = "1m"
            token_lifetime = "5m"
            tls_cert = "/etc/tacho/cert.pem"
            tls_key = "/etc/tacho/key.pem"
            """, file: nil)
        #expect(c.http.listen == "[::1]:8086")
        #expect(TachoConfig.listenAddress("[::1]:8086")?.host == "::1")
        #expect(c.http.adminTokenDigests == [Self.digest])
        #expect(c.http.deviceSecretDigests == ["356938035643809": Self.digest.uppercased()])
        #expect(c.http.maxBody == "1MiB" && c.http.maxRowsPerRequest == 5000 && c.http.maxResultRows == 100)
        #expect(c.http.idleTimeout == "10s" && c.http.bodyTimeout == "1m" && c.http.tokenLifetime == "5m")
        #expect(c.http.hasTokens)
        #expect(c.http.tlsCert == "/etc/tacho/cert.pem" && c.http.tlsKey == "/etc/tacho/key.pem")
        #expect(try TachoConfig.parse("", file: nil).http == HTTPSettings())
    }

    @Test func aTypoIsRefusedWithItsPlaceAndTheNearestKey() throws {
        let e = try #require(refused("[http]\nlisten = \"127.0.0.1:8086\"\nidle_timout = \"5s\"\n"))
        #expect(e.problem == .unknownKey("idle_timout", suggestion: "idle_timeout"))
        #expect(e.description.hasPrefix("config file /etc/tacho.toml:3:"), "\(e.description)")
        #expect(refused("[htp]\n")?.problem == .unknownKey("htp", suggestion: "http"))
    }

    @Test(arguments: [
        ("listen = \"8086\"", "listen"),
        ("listen = \"localhost:99999\"", "listen"),
        ("admin_token_sha256 = [\"secret\"]", "admin_token_sha256"),
        ("device_secret_sha256 = { \"v1\" = \"abc\" }", "v1"),
        ("max_body = \"lots\"", "max_body"),
        ("max_rows_per_request = 0", "max_rows_per_request"),
        ("max_result_rows = -1", "max_result_rows"),
        ("idle_timeout = \"0\"", "idle_timeout"),
        ("body_timeout = \"500ms\"", "body_timeout"),
        ("token_lifetime = 900", "token_lifetime"),
        // TLS needs both files: one alone is refused, naming the missing one.
        ("tls_cert = \"/etc/tacho/cert.pem\"", "tls_key is missing"),
        ("tls_key = \"/etc/tacho/key.pem\"", "tls_cert is missing"),
        ("tls_cert = 443", "tls_cert"),
    ])
    func aBadValueIsRefusedAtItsLine(line: String, key: String) throws {
        let e = try #require(refused("[http]\n\(line)\n"), "\(line) was accepted")
        #expect(e.description.hasPrefix("config file /etc/tacho.toml:2:"), "\(line): \(e.description)")
        #expect(e.description.contains(key), "\(line): \(e.description)")
    }
}
