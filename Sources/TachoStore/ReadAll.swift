import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Closes its descriptor when released.
final class FileDescriptorBox {
    let fd: FileDescriptor
    init(_ fd: FileDescriptor) { self.fd = fd }
    deinit { try? fd.close() }
}

/// Reads a whole (small) file: manifests, index and ledger files.
func readAll(_ box: FileDescriptorBox, path: String, limit: Int = 1 << 30) throws -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try chunk.withUnsafeMutableBytes { b -> Int in
            while true {
                let r = read(box.fd.rawValue, b.baseAddress, b.count)
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
    try readAll(FileDescriptorBox(fs.openForReading(path)), path: path)
}
