/// Why `StoreFileSystem.openInput` did not open an input file.
public struct InputOpenError: Error, Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// The name is a symbolic link: inputs are never followed.
        case symbolicLink
        /// A FIFO, device or socket: never read (it could block, or never end).
        case notRegularFile
        /// open(2) failed with this errno (ENOENT, EACCES, …).
        case system(errno: Int32)
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// The errno that stands for `kind`: ELOOP, EINVAL or the system's.
    public var errno: Int32 {
        switch kind {
        case .symbolicLink: ELOOP
        case .notRegularFile: EINVAL
        case .system(let e): e
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
