import Crypto
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A local file to put at `key` (relative to the target's prefix).
public struct ShipItem: Sendable, Equatable {
    public var key: String
    public var path: String
    public init(key: String, path: String) {
        self.key = key
        self.path = path
    }
}

public struct ShipReport: Sendable, Equatable {
    /// Keys uploaded by this run.
    public var uploaded: [String] = []
    /// Keys the ledger already records with the same bytes.
    public var alreadyShipped: [String] = []
    public var bytes: Int64 = 0
    /// Multipart uploads left open by an earlier, interrupted run and aborted by this one.
    public var abortedStale = 0
}

public enum ShipError: Error, CustomStringConvertible {
    /// The ledger says `key` holds other bytes: a shipped object is never replaced.
    case conflict(key: String, shipped: String, local: String, path: String)

    public var description: String {
        switch self {
        case .conflict(let key, let shipped, let local, let path):
            return "\(key) was shipped with SHA-256 \(shipped), but \(path) now has \(local); shipped objects are never replaced"
        }
    }
}

/// Puts files into a target exactly once each: an object is recorded in the `ShipLedger`
/// only after the store acknowledged it, and an object the ledger records is not sent again.
/// A run killed at any point and run again uploads at most the object it was working on once
/// more (same key, same bytes: the object is there once) and aborts the multipart upload it
/// left open. Files of `multipartThreshold` bytes or more go up in `partSize` parts.
public struct Shipper: Sendable {
    public let client: S3Client
    public let ledger: ShipLedger
    public var partSize = 8 << 20
    public var multipartThreshold = 16 << 20
    let logger: Logger

    public init(client: S3Client, ledger: ShipLedger, logger: Logger) {
        self.client = client
        self.ledger = ledger
        self.logger = logger
    }

    public func ship(_ items: [ShipItem], progress: (Int, Int) -> Void = { _, _ in }) async throws -> ShipReport {
        var report = ShipReport()
        for (key, ids) in ledger.openUploads {
            for id in ids {
                try await client.abortMultipartUpload(key: key, uploadID: id)
                try ledger.recordAborted(key: key, uploadID: id)
                report.abortedStale += 1
            }
        }
        for (i, item) in items.enumerated() {
            let full = client.target.prefix + item.key
            // A small file is read once: its digest and its upload come from the same bytes.
            let small = try? Self.readAll(item.path, upTo: multipartThreshold)
            let (size, sha) = try small.map { (Int64($0.count), Self.sha256($0)) } ?? Self.digest(item.path)
            if let done = ledger.shipped[full] {
                guard done.sha256 == sha && done.size == size else {
                    throw ShipError.conflict(key: full, shipped: done.sha256, local: sha, path: item.path)
                }
                report.alreadyShipped.append(item.key)
                progress(i + 1, items.count)
                continue
            }
            if let small {
                try await client.putObject(key: full, body: small)
            } else {
                try await uploadInParts(item.path, key: full, size: size)
            }
            try ledger.recordShipped(key: full, size: size, sha256: sha, at: Int64(time(nil)) * 1_000_000)
            logger.info("shipped \(full) (\(size) bytes)")
            report.uploaded.append(item.key)
            report.bytes += size
            progress(i + 1, items.count)
        }
        return report
    }

    private func uploadInParts(_ path: String, key: String, size: Int64) async throws {
        let id = try await client.createMultipartUpload(key: key)
        try ledger.recordBegun(key: key, uploadID: id)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw S3Error.unreadableFile(path: path, errno: errno) }
        defer { close(fd) }
        var parts: [(number: Int, etag: String)] = []
        var offset: Int64 = 0
        while offset < size {
            let n = Int(min(Int64(partSize), size - offset))
            let body = try Self.readChunk(fd, path: path, count: n)
            let etag = try await client.uploadPart(key: key, uploadID: id, number: parts.count + 1, body: body)
            parts.append((parts.count + 1, etag))
            offset += Int64(n)
        }
        try await client.completeMultipartUpload(key: key, uploadID: id, parts: parts)
    }

    /// Size and SHA-256 (hex) of a file.
    static func digest(_ path: String) throws -> (Int64, String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw S3Error.unreadableFile(path: path, errno: errno) }
        defer { close(fd) }
        var h = SHA256()
        var size: Int64 = 0
        while true {
            let chunk = try readChunk(fd, path: path, count: 1 << 20, allowShort: true)
            if chunk.isEmpty { break }
            h.update(data: chunk)
            size += Int64(chunk.count)
        }
        return (size, SigV4Signer.hex(h.finalize()))
    }

    /// The whole file when it is smaller than `limit` bytes; nil when it is not.
    static func readAll(_ path: String, upTo limit: Int) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw S3Error.unreadableFile(path: path, errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        while true {
            let chunk = try readChunk(fd, path: path, count: 1 << 20, allowShort: true)
            if chunk.isEmpty { return out }
            out.append(contentsOf: chunk)
            if out.count >= limit { return nil }
        }
    }

    static func sha256(_ bytes: [UInt8]) -> String { SigV4Signer.hex(SHA256.hash(data: bytes)) }

    /// Up to `count` bytes (exactly `count` unless `allowShort`; fewer only at the end).
    static func readChunk(_ fd: Int32, path: String, count: Int, allowShort: Bool = false) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw S3Error.unreadableFile(path: path, errno: errno)
            }
            if n == 0 { break }
            got += n
            if allowShort { break }
        }
        buf.removeLast(count - got)
        return buf
    }
}
