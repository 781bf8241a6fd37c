import NIOSSL
import TachoStore

/// TLS of the HTTP front (docs/HTTP.md "TLS"): a PEM certificate chain and its private key,
/// read and checked once at start so that a missing, unreadable or wrong file is an error
/// naming it before anything is served (not a handshake failure per connection later).
public enum HTTPTLS {
    /// The largest PEM file read: a certificate chain or a key is a few KiB.
    static let maxFileBytes = 1 << 20

    /// A server configuration from the PEM files at `certificate` (the chain, leaf first) and
    /// `key` (unencrypted: the server starts unattended). TLS 1.2 or later; no client
    /// certificates are asked for. Checks that the key belongs to the certificate.
    public static func serverConfiguration(
        certificate: String, key: String, files: any StoreFileSystem = StoreEnvironment.system.files
    ) throws(HTTPServerError) -> TLSConfiguration {
        let certBytes = try read(certificate, what: "TLS certificate", files: files)
        let keyBytes = try read(key, what: "TLS private key", files: files)
        guard contains(certBytes, "-----BEGIN CERTIFICATE-----"), let chain = try? NIOSSLCertificate.fromPEMBytes(certBytes), !chain.isEmpty
        else {
            throw HTTPServerError("TLS certificate \(certificate): not a PEM certificate chain (expected -----BEGIN CERTIFICATE----- blocks)")
        }
        // A passphrase is never asked for (BoringSSL's default would prompt on the terminal).
        let noPassphrase: NIOSSLPassphraseCallback<[UInt8]> = { _ in throw HTTPServerError("encrypted key") }
        guard contains(keyBytes, "PRIVATE KEY-----"),
            let privateKey = try? NIOSSLPrivateKey(bytes: keyBytes, format: .pem, passphraseCallback: noPassphrase)
        else {
            throw HTTPServerError(
                "TLS private key \(key): not an unencrypted PEM private key (expected -----BEGIN PRIVATE KEY-----, EC PRIVATE KEY or RSA PRIVATE KEY)")
        }
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        config.minimumTLSVersion = .tlsv12
        // The context is what the server would make: a key that is not the certificate's fails here.
        do {
            _ = try NIOSSLContext(configuration: config)
        } catch {
            throw HTTPServerError("TLS private key \(key) does not belong to the certificate \(certificate) (\(error))")
        }
        return config
    }

    static func contains(_ bytes: [UInt8], _ marker: String) -> Bool {
        let m = Array(marker.utf8)
        guard bytes.count >= m.count else { return false }
        for i in 0...(bytes.count - m.count) where bytes[i] == m[0] && Array(bytes[i..<(i + m.count)]) == m { return true }
        return false
    }

    /// The file's bytes, read through the store's environment; an error naming it (and why)
    /// when it cannot be read or is too large.
    static func read(_ path: String, what: String, files: any StoreFileSystem) throws(HTTPServerError) -> [UInt8] {
        do {
            // Resolved first: the environment opens without following links, and a certificate
            // is often a link (certbot's live/ directory).
            let real = files.resolvedPath(path) ?? path
            let fd = try files.openForReading(real)
            defer { try? files.close(fd, path: real) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 16 << 10)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try files.read(fd, into: $0, path: real) }
                if n == 0 { return bytes }
                bytes += chunk[0..<n]
                if bytes.count > maxFileBytes { throw HTTPServerError("\(what) \(path): larger than 1 MiB, not a PEM file") }
            }
        } catch let e as HTTPServerError {
            throw e
        } catch {
            throw HTTPServerError("\(what) \(path): cannot read it: \(error)")
        }
    }
}

extension HTTPServerOptions {
    /// TLS with the PEM files at `certificate` and `key` (`HTTPTLS.serverConfiguration`).
    public mutating func useTLS(certificate: String, key: String) throws(HTTPServerError) {
        tls = try HTTPTLS.serverConfiguration(certificate: certificate, key: key, files: files)
    }
}
