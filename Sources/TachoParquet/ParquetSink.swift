#if canImport(Glibc)
import Glibc
#endif

/// Where a `ParquetWriter` puts its bytes, in order; `offset` is the bytes written so far.
public protocol ParquetSink: AnyObject {
    var offset: Int64 { get }
    func write(_ bytes: some Collection<UInt8>) throws
}

/// Bytes in memory (tests, small files).
public final class MemorySink: ParquetSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public var offset: Int64 { Int64(bytes.count) }
    public func write(_ b: some Collection<UInt8>) throws { bytes.append(contentsOf: b) }
}

/// A file written atomically: the bytes go to `<dir>/.<name>.<pid>.tmp` through a 1 MiB
/// buffer; `commit()` flushes, fsyncs, renames it to `path` and fsyncs the directory, so a
/// reader (or a crash) sees the whole file or none. `discard()` (or deinit without commit)
/// removes the temporary file.
public final class AtomicFileSink: ParquetSink {
    public let path: String
    let tempPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var offset: Int64 = 0

    public init(path: String) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        tempPath = "\(dir)/.\(name).\(getpid()).tmp"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error(tempPath, "create") }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { if fd >= 0 { discard() } }

    public func write(_ b: some Collection<UInt8>) throws {
        buffer.append(contentsOf: b)
        offset += Int64(b.count)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { b in b.baseAddress.map { Glibc.write(fd, $0 + done, b.count - done) } ?? 0 }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error(tempPath, "write")
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Makes the file durable under its name.
    public func commit() throws {
        try flush()
        guard fsync(fd) == 0 else { throw Self.error(tempPath, "fsync") }
        close(fd)
        fd = -1
        guard rename(tempPath, path) == 0 else {
            let e = Self.error(path, "rename from \(tempPath)")
            unlink(tempPath)
            throw e
        }
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            defer { close(dfd) }
            guard fsync(dfd) == 0 else { throw Self.error(dir, "fsync directory") }
        }
    }

    /// Abandons the file: closes and removes the temporary file.
    public func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }

    static func error(_ path: String, _ op: String) -> ParquetError {
        ParquetError.io(path: path, operation: op, message: String(cString: strerror(errno)))
    }
}
