// Byte sources the parser pulls chunks from.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A sequential source of bytes.
public protocol JSONByteSource {
    /// Copies up to `buffer.count` bytes into `buffer` and returns how many were copied.
    /// Returns 0 only at the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// An error from a file-backed byte source: the operation, the path and the errno text.
public struct ByteSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `open` or `read`.
    public var operation: String
    /// The file path (or `fd N` when constructed from a descriptor).
    public var path: String
    /// The `errno` value.
    public var errno: Int32

    /// Why, when it is not just `errno` (a FIFO or device refused, a symbolic link not followed).
    public var reason: String?

    public init(operation: String, path: String, errno: Int32, reason: String? = nil) {
        self.operation = operation
        self.path = path
        self.errno = errno
        self.reason = reason
    }

    public var description: String {
        if let reason { return "\(operation) '\(escapedForLog(path))': \(reason)" }
        return "\(operation) '\(escapedForLog(path))': \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Reads a file with read(2), retrying on EINTR.
///
/// A final class because it owns the descriptor: it closes it on deinit when it opened it
/// (or when told to). Not thread-safe; use from one thread at a time.
public final class FileDescriptorSource: JSONByteSource {
    /// The descriptor read from.
    public let fd: Int32
    /// The path (or `fd N`), used in error messages.
    public let path: String
    private let closeOnDeinit: Bool

    /// Opens `path` read-only. Throws `ByteSourceError` on failure.
    ///
    /// Inputs are untrusted and a name can change between a caller's check and this open, so:
    /// a symbolic link is not followed, and a FIFO, device or socket is refused without
    /// blocking (O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever).
    public init(path: String) throws {
        var fd: Int32
        repeat {
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        } while fd < 0 && errno == EINTR
        if fd < 0 {
            let e = errno
            throw ByteSourceError(operation: "open", path: path, errno: e, reason: e == ELOOP ? "is a symbolic link (not followed)" : nil)
        }
        var st = stat()
        if fstat(fd, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type != S_IFREG && type != S_IFDIR {  // a directory fails in read(2) with EISDIR
                _ = close(fd)
                throw ByteSourceError(operation: "open", path: path, errno: EINVAL, reason: "is not a regular file (a FIFO, device or socket is never read)")
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.fd = fd
        self.path = path
        self.closeOnDeinit = true
    }

    /// Reads from an already open descriptor; closes it on deinit only if `closeOnDeinit`.
    public init(fd: Int32, path: String? = nil, closeOnDeinit: Bool = false) {
        self.fd = fd
        self.path = path ?? "fd \(fd)"
        self.closeOnDeinit = closeOnDeinit
    }

    deinit {
        if closeOnDeinit { _ = close(fd) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            #if canImport(Glibc)
            let n = Glibc.read(fd, base, buffer.count)
            #elseif canImport(Musl)
            let n = Musl.read(fd, base, buffer.count)
            #else
            let n = Darwin.read(fd, base, buffer.count)
            #endif
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            throw ByteSourceError(operation: "read", path: path, errno: e)
        }
    }
}

/// An in-memory source over a byte array (tests, small documents).
public struct BytesSource: JSONByteSource, Sendable {
    public let bytes: [UInt8]
    /// Read offset.
    public private(set) var offset: Int = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// UTF-8 bytes of `string`.
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n <= 0 { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}
