import SystemPackage
import TachoFormat
#if canImport(Glibc)
import Glibc
#endif

/// The real file system (Linux): the one `StoreFileSystem` a release binary has.
public struct PosixFileSystem: StoreFileSystem {
    public init() {}

    public func createDirectory(_ path: String) throws {
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw StoreError(.io, "create directory", path: path, Errno(rawValue: errno).description, cause: errno)
        }
    }

    public func createFile(_ path: String) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead], retryOnInterrupt: true)
        } catch let e as Errno {
            throw StoreError(e == .fileExists ? .exists : .io, "create file", path: path, "\(e)", cause: e.rawValue)
        } catch {
            throw StoreError(.io, "create file", path: path, "\(error)")
        }
    }

    public func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        do {
            _ = try fd.writeAll(bytes)
        } catch let e as Errno {
            throw StoreError(.io, "write", path: path, "\(e)", cause: e.rawValue)
        } catch {
            throw StoreError(.io, "write", path: path, "\(error)")
        }
    }

    public func sync(_ fd: FileDescriptor, path: String) throws {
        if fsync(fd.rawValue) != 0 {
            throw StoreError(.io, "fsync", path: path, Errno(rawValue: errno).description, cause: errno)
        }
    }

    public func close(_ fd: FileDescriptor, path: String) throws {
        do { try fd.close() } catch { throw StoreError(.io, "close", path: path, "\(error)", cause: (error as? Errno)?.rawValue) }
    }

    public func rename(_ from: String, to: String) throws {
        if Glibc.rename(from, to) != 0 {
            let e = errno
            throw StoreError(e == ENOENT ? .notFound : .io, "rename", path: from, "to \(to): \(Errno(rawValue: e))", cause: e)
        }
    }

    public func unlink(_ path: String) throws {
        if Glibc.unlink(path) != 0 && errno != ENOENT {
            throw StoreError(.io, "unlink", path: path, Errno(rawValue: errno).description, cause: errno)
        }
    }

    public func syncDirectory(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError(.io, "open directory", path: path, Errno(rawValue: errno).description, cause: errno) }
        defer { _ = Glibc.close(fd) }
        if fsync(fd) != 0 {
            throw StoreError(.io, "fsync directory", path: path, Errno(rawValue: errno).description, cause: errno)
        }
    }

    public func openForReading(_ path: String) throws -> FileDescriptor {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let e = errno
            throw StoreError(e == ENOENT ? .notFound : .io, "open", path: path, Errno(rawValue: e).description, cause: e)
        }
        return FileDescriptor(rawValue: fd)
    }

    public func openInput(_ path: String) throws(InputOpenError) -> FileDescriptor {
        var fd: Int32
        repeat {
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        } while fd < 0 && errno == EINTR
        if fd < 0 {
            let e = errno
            throw InputOpenError(path: path, kind: e == ELOOP ? .symbolicLink : .system(errno: e))
        }
        var st = stat()
        if fstat(fd, &st) == 0 {
            let type = st.st_mode & S_IFMT
            if type != S_IFREG && type != S_IFDIR {  // a directory fails in read(2) with EISDIR
                _ = Glibc.close(fd)
                throw InputOpenError(path: path, kind: .notRegularFile)
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return FileDescriptor(rawValue: fd)
    }

    public func read(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        while true {
            let n = Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw StoreError(.io, "read", path: path, Errno(rawValue: errno).description, cause: errno) }
        }
    }

    public func size(of fd: FileDescriptor, path: String) throws -> UInt64 {
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else {
            throw StoreError(.io, "stat", path: path, Errno(rawValue: errno).description, cause: errno)
        }
        return UInt64(st.st_size)
    }

    public func directoryEntries(_ path: String) throws -> [DirectoryEntry] {
        guard let dir = opendir(path) else {
            let e = errno
            throw StoreError(e == ENOENT ? .notFound : .io, "list directory", path: path, Errno(rawValue: e).description, cause: e)
        }
        defer { closedir(dir) }
        var out: [DirectoryEntry] = []
        while let ent = readdir(dir) {
            let (name, valid) = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { p in
                    (String(cString: p), String(validatingCString: p) != nil)
                }
            }
            if name != "." && name != ".." { out.append(DirectoryEntry(name: name, isValidUTF8: valid)) }
        }
        return out
    }

    public func fileStatus(_ path: String, followingLinks: Bool) throws -> FileStatus {
        var st = stat()
        guard (followingLinks ? stat(path, &st) : lstat(path, &st)) == 0 else {
            let e = errno
            throw StoreError(e == ENOENT ? .notFound : .io, "stat", path: path, Errno(rawValue: e).description, cause: e)
        }
        let kind: FileStatus.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        case S_IFIFO: kind = .fifo
        case S_IFCHR, S_IFBLK: kind = .device
        default: kind = .other
        }
        return FileStatus(
            kind: kind, size: UInt64(st.st_size),
            mtimeNanos: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    public func resolvedPath(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    public func freeBytes(_ path: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) &* UInt64(s.f_frsize)
    }

    public func link(_ from: String, to: String) throws {
        if Glibc.link(from, to) != 0 {
            let e = errno
            throw StoreError(e == EEXIST ? .exists : .io, "link", path: from, "to \(to): \(Errno(rawValue: e))", cause: e)
        }
    }

    public func removeDirectory(_ path: String) throws {
        if rmdir(path) != 0 {
            throw StoreError(.io, "remove directory", path: path, Errno(rawValue: errno).description, cause: errno)
        }
    }

    public func openLockFile(_ path: String, create: Bool) throws -> FileDescriptor {
        let fd = create ? Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
            : Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let e = errno
            throw StoreError(e == ENOENT ? .notFound : .io, "open lock", path: path, Errno(rawValue: e).description, cause: e)
        }
        return FileDescriptor(rawValue: fd)
    }

    public func tryLock(_ fd: FileDescriptor, exclusive: Bool, path: String) throws -> Bool {
        while true {
            if flock(fd.rawValue, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 { return true }
            let e = errno
            if e == EINTR { continue }
            if e == EWOULDBLOCK { return false }
            throw StoreError(.io, "lock", path: path, Errno(rawValue: e).description, cause: e)
        }
    }

    public func unlock(_ fd: FileDescriptor, path: String) { _ = flock(fd.rawValue, LOCK_UN) }

    public func readPrefix(_ fd: FileDescriptor, count: Int, path: String) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        let n = pread(fd.rawValue, &buf, count, 0)
        return n > 0 ? Array(buf[0..<n]) : []
    }

    public func replaceContents(_ fd: FileDescriptor, _ bytes: [UInt8], sync: Bool, path: String) throws {
        guard ftruncate(fd.rawValue, 0) == 0, pwrite(fd.rawValue, bytes, bytes.count, 0) == bytes.count,
              !sync || fsync(fd.rawValue) == 0 else {
            throw StoreError(.io, "write", path: path, Errno(rawValue: errno).description, cause: errno)
        }
    }
}

/// A segment source over a file descriptor (pread), for `SegmentHandle`. Owns the fd and
/// closes it when released; immutable, so any number of threads read through it at once.
/// `counter`, when given, counts the descriptors open (the handle cache's bound, in tests).
final class FileSegmentSource: SegmentSource, Sendable {
    let fd: FileDescriptor
    let path: String
    let size: UInt64
    private let counter: DescriptorCounter?

    init(fd: FileDescriptor, path: String, fs: any StoreFileSystem, counter: DescriptorCounter? = nil) throws {
        self.fd = fd
        self.path = path
        do {
            size = try fs.size(of: fd, path: path)
        } catch {
            try? fd.close()
            throw error
        }
        self.counter = counter
        counter?.opened()
    }

    deinit {
        try? fd.close()
        counter?.closed()
    }

    func read(at offset: UInt64, count: Int, into buffer: inout [UInt8]) throws {
        try preadExactly(fd, path: path, size: size, at: offset, count: count, into: &buffer)
    }
}

/// Reads exactly `count` bytes at `offset` of the file `fd` (of `size` bytes) into `buffer`.
func preadExactly(_ fd: FileDescriptor, path: String, size: UInt64, at offset: UInt64, count: Int, into buffer: inout [UInt8]) throws {
    guard offset <= size, UInt64(count) <= size - offset else {
        throw SegmentError(path: path, offset: offset, .readPastEnd(count: count, size: size))
    }
    buffer.removeAll(keepingCapacity: true)
    buffer.append(contentsOf: repeatElement(0, count: count))
    let n = try buffer.withUnsafeMutableBytes { b -> Int in
        var done = 0
        while done < count {
            let r = pread(fd.rawValue, b.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if r < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "read segment", path: path, Errno(rawValue: errno).description, cause: errno)
            }
            if r == 0 { break }
            done += r
        }
        return done
    }
    guard n == count else {
        throw SegmentError(path: path, offset: offset, .shortRead(read: n, expected: count))
    }
}
