import SystemPackage
import TachoStore

/// Moves inputs out of the inbox once their fate is durable: never overwrites (a name that
/// exists gets a `.1`, `.2`, … suffix before the extension), fsyncs both directories. Every
/// call goes through the store's environment (`StoreFileSystem`).
public struct FileMover: Sendable {
    public let fs: any StoreFileSystem

    public init(fs: any StoreFileSystem = PosixFileSystem()) { self.fs = fs }

    /// Moves `path` into `directory`; returns the new path.
    @discardableResult
    public func move(_ path: String, into directory: String) throws -> String {
        try ensureDirectory(directory)
        let name = baseName(path)
        var target = directory + "/" + name
        var k = 1
        while fs.exists(target) {
            let (stem, ext) = splitExtension(name)
            target = directory + "/" + stem + ".\(k)" + ext
            k += 1
        }
        do {
            try fs.rename(path, to: target)
        } catch let e as StoreError where e.cause == Errno.improperLink.rawValue {
            return try copyThenRemove(path, to: target)
        } catch {
            throw InboxFileError(.move(into: directory), path: path, error)
        }
        return target
    }

    public func delete(_ path: String) throws {
        do {
            try fs.unlink(path)
        } catch {
            throw InboxFileError(.delete, path: path, error)
        }
    }

    /// fsyncs each directory once; the first failure is thrown after all were tried.
    public func syncDirectories(_ dirs: [String]) throws {
        var first: Error?
        for d in Set(dirs).sorted() {
            do { try fs.syncDirectory(d) } catch { first = first ?? error }
        }
        if let first { throw first }
    }

    public func ensureDirectory(_ d: String) throws {
        do {
            try fs.createDirectory(d)
        } catch {
            throw InboxFileError(.createDirectory, path: d, error)
        }
    }

    func splitExtension(_ name: String) -> (String, String) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }

    /// The errno text of a failed call (what strerror says), else the environment's detail.
    static func reason(_ e: StoreError) -> String { e.cause.map { Errno(rawValue: $0).description } ?? e.detail }

    /// processed/ on another file system: copy, fsync, then remove the original.
    private func copyThenRemove(_ src: String, to dst: String) throws -> String {
        let input: FileDescriptor
        do { input = try fs.openForReading(src) } catch {
            throw InboxFileError(.open, path: src, error)
        }
        defer { try? input.close() }
        let output: FileDescriptor
        do { output = try fs.createFile(dst) } catch {
            throw InboxFileError(.create, path: dst, error)
        }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var open = true
        do {
            while true {
                let n = try buf.withUnsafeMutableBytes { try fs.read(input, into: $0, path: src) }
                if n == 0 { break }
                try buf.withUnsafeBytes { try fs.write(output, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: dst) }
            }
            try fs.sync(output, path: dst)
            open = false  // a failed close releases the descriptor too
            try fs.close(output, path: dst)
        } catch {
            if open { try? fs.close(output, path: dst) }
            try? fs.unlink(dst)
            throw InboxFileError(.copy, path: dst, error)
        }
        try? fs.unlink(src)
        return dst
    }
}
