// Buffered, append-only output files over POSIX write(2): one large buffer, few syscalls.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct GenError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }

    static func posix(_ what: String, _ path: String) -> GenError {
        let code = errno
        return GenError("\(what) \(path): \(String(cString: strerror(code)))")
    }
}

/// close(2) under a name that does not clash with `OutputFile.close()`.
@inline(__always)
func closeDescriptor(_ fd: Int32) -> Int32 { close(fd) }

final class OutputFile {
    let path: String
    private var fd: Int32
    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private var used = 0
    private var flushed: Int64 = 0

    /// Bytes handed to this file so far (flushed or still buffered).
    var bytes: Int64 { flushed + Int64(used) }

    init(path: String, bufferSize: Int = 1 << 20) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw GenError.posix("cannot create", path) }
        capacity = bufferSize
        buffer = .allocate(capacity: bufferSize)
    }

    deinit {
        if fd >= 0 { _ = closeDescriptor(fd) }
        buffer.deallocate()
    }

    /// Returns a pointer with room for at least `count` bytes; commit with `advance`.
    @inline(__always)
    func reserve(_ count: Int) throws -> UnsafeMutablePointer<UInt8> {
        if used + count > capacity { try flush() }
        precondition(count <= capacity, "reservation larger than the buffer")
        return buffer + used
    }

    @inline(__always)
    func advance(_ count: Int) { used += count }

    func append(_ bytes: [UInt8]) throws {
        var rest = bytes[...]
        while !rest.isEmpty {
            if used == capacity { try flush() }
            let n = min(rest.count, capacity - used)
            rest.withUnsafeBufferPointer { (buffer + used).update(from: $0.baseAddress!, count: n) }
            used += n
            rest = rest.dropFirst(n)
        }
    }

    func append(_ text: String) throws { try append(Array(text.utf8)) }

    func flush() throws {
        var offset = 0
        while offset < used {
            let n = write(fd, buffer + offset, used - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw GenError.posix("cannot write", path)
            }
            offset += n
        }
        flushed += Int64(used)
        used = 0
    }

    func close() throws {
        try flush()
        let rc = closeDescriptor(fd)
        fd = -1
        if rc != 0 { throw GenError.posix("cannot close", path) }
    }

    /// Byte-identical copy of a finished file (streamed, bounded memory).
    static func copy(from source: String, to destination: String) throws -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 { throw GenError.posix("cannot open", source) }
        defer { _ = closeDescriptor(input) }
        let out = try OutputFile(path: destination)
        while true {
            let p = try out.reserve(1 << 20)
            let n = read(input, p, 1 << 20)
            if n < 0 {
                if errno == EINTR { continue }
                throw GenError.posix("cannot read", source)
            }
            if n == 0 { break }
            out.advance(n)
        }
        try out.close()
        return out.bytes
    }
}
