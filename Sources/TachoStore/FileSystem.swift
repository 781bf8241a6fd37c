import SystemPackage
import TachoFormat
#if canImport(Glibc)
import Glibc
#endif

/// The I/O seam: every write, fsync, rename and unlink of the store goes through this, so
/// tests can inject faults at each call site (LevelDB's `Env`). Reads of segments go through
/// `openForReading` + pread.
public protocol StoreFileSystem: Sendable {
    func createDirectory(_ path: String) throws
    /// Creates a new file; fails if it exists.
    func createFile(_ path: String) throws -> FileDescriptor
    func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: String) throws
    func sync(_ fd: FileDescriptor, path: String) throws
    func close(_ fd: FileDescriptor, path: String) throws
    func rename(_ from: String, to: String) throws
    func unlink(_ path: String) throws
    func syncDirectory(_ path: String) throws
    func openForReading(_ path: String) throws -> FileDescriptor
    func listDirectory(_ path: String) throws -> [String]
    func fileSize(_ path: String) throws -> UInt64
}

/// Call sites the fault injector and crash points can name.
public enum IOOp: String, Sendable, CaseIterable {
    case mkdir, create, write, fsync, close, rename, unlink, fsyncDir
}

public struct PosixFileSystem: StoreFileSystem {
    public init() {}

    public func createDirectory(_ path: String) throws {
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw StoreError(.io, "create directory", path: path, Errno(rawValue: errno).description)
        }
    }

    public func createFile(_ path: String) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead], retryOnInterrupt: true)
        } catch {
            throw StoreError(.io, "create file", path: path, "\(error)")
        }
    }

    public func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        do {
            _ = try fd.writeAll(bytes)
        } catch {
            throw StoreError(.io, "write", path: path, "\(error)")
        }
    }

    public func sync(_ fd: FileDescriptor, path: String) throws {
        if fsync(fd.rawValue) != 0 {
            throw StoreError(.io, "fsync", path: path, Errno(rawValue: errno).description)
        }
    }

    public func close(_ fd: FileDescriptor, path: String) throws {
        do { try fd.close() } catch { throw StoreError(.io, "close", path: path, "\(error)") }
    }

    public func rename(_ from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 {
            throw StoreError(.io, "rename", path: from, "to \(to): \(Errno(rawValue: errno))")
        }
    }

    public func unlink(_ path: String) throws {
        if Glibc.unlink(path) != 0 && errno != ENOENT {
            throw StoreError(.io, "unlink", path: path, Errno(rawValue: errno).description)
        }
    }

    public func syncDirectory(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.io, "open directory", path: path, Errno(rawValue: errno).description) }
        defer { _ = Glibc.close(fd) }
        if fsync(fd) != 0 {
            throw StoreError(.io, "fsync directory", path: path, Errno(rawValue: errno).description)
        }
    }

    public func openForReading(_ path: String) throws -> FileDescriptor {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let e = errno
            throw StoreError(e == ENOENT ? .notFound : .io, "open", path: path, Errno(rawValue: e).description)
        }
        return FileDescriptor(rawValue: fd)
    }

    public func listDirectory(_ path: String) throws -> [String] {
        guard let names = directoryEntries(path) else {
            throw StoreError(.io, "list directory", path: path, Errno(rawValue: errno).description)
        }
        return names.sorted()
    }

    public func fileSize(_ path: String) throws -> UInt64 {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw StoreError(.io, "stat", path: path, Errno(rawValue: errno).description)
        }
        return UInt64(st.st_size)
    }
}

/// The names in directory `path` except "." and "..", in readdir order; nil when it cannot
/// be opened (`errno` says why).
func directoryEntries(_ path: String) -> [String]? {
    guard let dir = opendir(path) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let ent = readdir(dir) {
        let name = withUnsafePointer(to: ent.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// A segment source over a file descriptor (pread), for `SegmentReader`. Owns the fd.
final class FileSegmentSource: SegmentSource {
    let fd: FileDescriptor
    let path: String
    let size: UInt64

    init(fd: FileDescriptor, path: String) throws {
        self.fd = fd
        self.path = path
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else {
            throw StoreError(.io, "stat", path: path, Errno(rawValue: errno).description)
        }
        size = UInt64(st.st_size)
    }

    deinit { try? fd.close() }

    func read(at offset: UInt64, count: Int, into buffer: inout [UInt8]) throws {
        try preadExactly(fd, path: path, size: size, at: offset, count: count, into: &buffer)
    }
}

/// Reads exactly `count` bytes at `offset` of the file `fd` (of `size` bytes) into `buffer`.
func preadExactly(_ fd: FileDescriptor, path: String, size: UInt64, at offset: UInt64, count: Int, into buffer: inout [UInt8]) throws {
    guard offset <= size, UInt64(count) <= size - offset else {
        throw SegmentError(path: path, offset: offset, problem: "read of \(count) bytes past end of file (\(size))")
    }
    buffer.removeAll(keepingCapacity: true)
    buffer.append(contentsOf: repeatElement(0, count: count))
    let n = try buffer.withUnsafeMutableBytes { b -> Int in
        var done = 0
        while done < count {
            let r = pread(fd.rawValue, b.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if r < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "read segment", path: path, Errno(rawValue: errno).description)
            }
            if r == 0 { break }
            done += r
        }
        return done
    }
    guard n == count else {
        throw SegmentError(path: path, offset: offset, problem: "short read: \(n) of \(count) bytes")
    }
}
