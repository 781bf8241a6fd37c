import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// The durable record of what `tacho ship` has put into one target (docs/SHIPPING.md): a text
/// file of LF-terminated lines, each ending in its own checksum, appended and fsynced after
/// the object store acknowledged the upload. A line that was being written when the process
/// died (no LF, or a bad checksum) is ignored, and dropped the next time the ledger is opened.
///
///     done <TAB> key <TAB> size <TAB> sha256 <TAB> µs <TAB> check
///     begin <TAB> key <TAB> upload id <TAB> check
///     aborted <TAB> key <TAB> upload id <TAB> check
///
/// `key` is percent-encoded (`S3Path.encode`, `/` kept), so no field holds a tab or LF;
/// `check` is the first 16 hex digits of the SHA-256 of the line before its last tab.
public final class ShipLedger: @unchecked Sendable {
    public struct Shipped: Sendable, Equatable {
        public var size: Int64
        public var sha256: String
        public var at: Int64
        public init(size: Int64, sha256: String, at: Int64) {
            self.size = size
            self.sha256 = sha256
            self.at = at
        }
    }

    public let path: String
    /// Keys (full, decoded) → what was shipped there.
    public private(set) var shipped: [String: Shipped] = [:]
    /// Multipart uploads begun and neither completed nor aborted: key → upload ids.
    public private(set) var openUploads: [String: [String]] = [:]
    /// Lines ignored when reading (torn or damaged).
    public private(set) var ignoredLines = 0

    public enum LedgerError: Error, CustomStringConvertible {
        case io(operation: String, path: String, errno: Int32)
        public var description: String {
            switch self {
            case .io(let op, let path, let e): return "\(op) \(path): \(String(cString: strerror(e)))"
            }
        }
    }

    /// Opens (creating the directory and file if needed) the ledger at `path`. `readOnly`:
    /// only reads it (another process or thread may be appending; a torn last line is
    /// ignored, not dropped); nothing may be recorded.
    public init(path: String, readOnly: Bool = false) throws(LedgerError) {
        self.path = path
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !readOnly && !dir.isEmpty && mkdir(dir, 0o755) != 0 && errno != EEXIST { throw .io(operation: "mkdir", path: dir, errno: errno) }
        let text = try Self.read(path)
        var good: [Substring] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let torn = lines.last.map { !$0.isEmpty } ?? false
        lines.removeLast()  // "" after the last LF, or the torn tail
        if torn { ignoredLines += 1 }
        for line in lines {
            if apply(line) { good.append(line) } else { ignoredLines += 1 }
        }
        if ignoredLines > 0 && !readOnly {
            // Rewrite without the bad lines, so appends start on a clean line.
            try Self.replace(path, with: good.map { $0 + "\n" }.joined())
        }
    }

    /// Records that `key` now holds `size` bytes with this SHA-256. Durable on return.
    public func recordShipped(key: String, size: Int64, sha256: String, at: Int64) throws(LedgerError) {
        try append("done\t\(S3Path.encode(key, keepSlash: true))\t\(size)\t\(sha256)\t\(at)")
        shipped[key] = Shipped(size: size, sha256: sha256, at: at)
        openUploads[key] = nil
    }

    public func recordBegun(key: String, uploadID: String) throws(LedgerError) {
        try append("begin\t\(S3Path.encode(key, keepSlash: true))\t\(S3Path.encode(uploadID, keepSlash: false))")
        openUploads[key, default: []].append(uploadID)
    }

    public func recordAborted(key: String, uploadID: String) throws(LedgerError) {
        try append("aborted\t\(S3Path.encode(key, keepSlash: true))\t\(S3Path.encode(uploadID, keepSlash: false))")
        openUploads[key]?.removeAll { $0 == uploadID }
        if openUploads[key]?.isEmpty == true { openUploads[key] = nil }
    }

    // MARK: - lines

    static func check(_ body: Substring) -> String { String(SigV4Signer.hex(SHA256.hash(data: Array(body.utf8))).prefix(16)) }

    /// Applies one line; false when it is damaged.
    private func apply(_ line: Substring) -> Bool {
        guard let tab = line.lastIndex(of: "\t") else { return false }
        let body = line[..<tab]
        guard line[line.index(after: tab)...] == Self.check(body) else { return false }
        let f = body.split(separator: "\t", omittingEmptySubsequences: false)
        switch (f.first, f.count) {
        case ("done", 5):
            guard let key = Self.decode(f[1]), let size = Int64(f[2]), let at = Int64(f[4]) else { return false }
            shipped[key] = Shipped(size: size, sha256: String(f[3]), at: at)
            openUploads[key] = nil
        case ("begin", 3):
            guard let key = Self.decode(f[1]), let id = Self.decode(f[2]) else { return false }
            openUploads[key, default: []].append(id)
        case ("aborted", 3):
            guard let key = Self.decode(f[1]), let id = Self.decode(f[2]) else { return false }
            openUploads[key]?.removeAll { $0 == id }
            if openUploads[key]?.isEmpty == true { openUploads[key] = nil }
        default:
            return false
        }
        return true
    }

    /// Percent-decoding of `S3Path.encode`; nil on a malformed escape or invalid UTF-8.
    static func decode(_ s: Substring) -> String? {
        var out: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                out.append(v)
                it = it.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private func append(_ body: String) throws(LedgerError) {
        let line = body + "\t" + Self.check(body[...]) + "\n"
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "write", path: path, errno: errno)
            }
            done += n
        }
        guard fsync(fd) == 0 else { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    static func read(_ path: String) throws(LedgerError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return "" }
            throw .io(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `text` to a temp file, fsyncs it, renames it over `path` and fsyncs the directory.
    static func replace(_ path: String, with text: String) throws(LedgerError) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "open", path: tmp, errno: errno) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count, fsync(fd) == 0 else {
            let e = errno
            close(fd)
            throw .io(operation: "write", path: tmp, errno: e)
        }
        close(fd)
        guard rename(tmp, path) == 0 else { throw .io(operation: "rename", path: tmp, errno: errno) }
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            guard fsync(dfd) == 0 else { throw .io(operation: "fsync", path: dir, errno: errno) }
        }
    }
}
