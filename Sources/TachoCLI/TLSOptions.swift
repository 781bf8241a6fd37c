import ArgumentParser
import TachoSchema

/// `--tls-cert FILE --tls-key FILE` of `tacho serve` and `tacho run` (docs/HTTP.md "TLS"):
/// both or neither; given, they win over `[http] tls_cert`/`tls_key`. The files are read and
/// checked by tacho-net (TachoHTTP links the TLS library; `tacho` does not).
package struct TLSOptionGroup: ParsableArguments {
    package init() {}

    @Option(help: ArgumentHelp(
        "Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key. Default: [http] tls_cert of the config file, else plain HTTP.",
        valueName: "FILE"))
    package var tlsCert: String?
    @Option(help: ArgumentHelp("The certificate's PEM private key, unencrypted; needs --tls-cert. Default: [http] tls_key.", valueName: "FILE"))
    package var tlsKey: String?

    package var given: Bool { tlsCert != nil || tlsKey != nil }

    package func validate() throws {
        if let tlsCert, tlsKey == nil { throw ValidationError("--tls-cert \(tlsCert) needs --tls-key: the certificate's private key") }
        if let tlsKey, tlsCert == nil { throw ValidationError("--tls-key \(tlsKey) needs --tls-cert: the certificate chain") }
    }

    /// `[http]` of the config file with these flags in place of its `tls_cert`/`tls_key`.
    package func applied(to settings: HTTPSettings) -> HTTPSettings {
        guard let tlsCert, let tlsKey else { return settings }
        var s = settings
        s.tlsCert = tlsCert
        s.tlsKey = tlsKey
        return s
    }
}
