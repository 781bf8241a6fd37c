#if canImport(Glibc)
import Glibc
#endif

/// Moves inputs out of the inbox once their fate is durable: never overwrites (a name that
/// exists gets a `.1`, `.2`, … suffix before the extension), fsyncs both directories.
public struct FileMover: Sendable {
    public init() {}

    /// Moves `path` into `directory`; returns the new path.
    @discardableResult
    public func move(_ path: String, into directory: String) throws -> String {
        try ensureDirectory(directory)
        let name = baseName(path)
        var target = directory + "/" + name
        var k = 1
        while access(target, F_OK) == 0 {
            let (stem, ext) = splitExtension(name)
            target = directory + "/" + stem + ".\(k)" + ext
            k += 1
        }
        guard rename(path, target) == 0 else {
            let e = errno
            if e == EXDEV { return try copyThenRemove(path, to: target) }
            throw FileError(path: path, message: "move to \(directory): \(String(cString: strerror(e)))")
        }
        return target
    }

    public func delete(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw FileError(path: path, message: "delete: \(String(cString: strerror(errno)))")
        }
    }

    public func syncDirectories(_ dirs: [String]) {
        for d in Set(dirs) { syncDirectory(d) }
    }

    public func ensureDirectory(_ d: String) throws {
        if mkdir(d, 0o750) != 0 && errno != EEXIST {
            throw FileError(path: d, message: "create directory: \(String(cString: strerror(errno)))")
        }
    }

    func splitExtension(_ name: String) -> (String, String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }

    /// processed/ on another file system: copy, fsync, then remove the original.
    private func copyThenRemove(_ src: String, to dst: String) throws -> String {
        let inFD = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard inFD >= 0 else { throw FileError(path: src, message: "open: \(String(cString: strerror(errno)))") }
        defer { close(inFD) }
        let outFD = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard outFD >= 0 else { throw FileError(path: dst, message: "create: \(String(cString: strerror(errno)))") }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var ok = true
        while ok {
            let n = buf.withUnsafeMutableBytes { read(inFD, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 { if errno == EINTR { continue }; ok = false; break }
            var done = 0
            while done < n {
                let w = buf.withUnsafeBytes { write(outFD, $0.baseAddress! + done, n - done) }
                if w < 0 { if errno == EINTR { continue }; ok = false; break }
                done += w
            }
        }
        if ok && fsync(outFD) != 0 { ok = false }
        close(outFD)
        guard ok else {
            unlink(dst)
            throw FileError(path: dst, message: "copy: \(String(cString: strerror(errno)))")
        }
        unlink(src)
        return dst
    }
}
