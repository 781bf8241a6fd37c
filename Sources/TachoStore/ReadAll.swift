import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Reads an open file from its current offset to the end (manifests, index and ledger files;
/// any small file). Does not close `fd`. Fails with a `StoreError` naming `path`: `.io` with
/// the errno text, `.corrupt` when the file holds more than `limit` bytes.
public func readAll(_ fd: FileDescriptor, path: String, limit: Int = 1 << 30) throws -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try chunk.withUnsafeMutableBytes { b -> Int in
            while true {
                let r = read(fd.rawValue, b.baseAddress, b.count)
                if r >= 0 { return r }
                if errno != EINTR { throw StoreError(.io, "read", path: path, String(cString: strerror(errno))) }
            }
        }
        if n == 0 { return out }
        out.append(contentsOf: chunk[0..<n])
        if out.count > limit { throw StoreError(.corrupt, "read", path: path, "larger than \(limit) bytes") }
    }
}

func readFile(_ path: String, fs: any StoreFileSystem) throws -> [UInt8] {
    let fd = try fs.openForReading(path)
    defer { try? fd.close() }
    return try readAll(fd, path: path)
}
