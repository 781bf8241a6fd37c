import SystemPackage

/// The file half of the store's environment (`StoreEnvironment`, LevelDB's `Env`): every
/// open, write, fsync, rename, link, unlink, stat, directory listing and file lock on a store,
/// inbox, processed/ or rejected/ path goes through this, so tests can inject faults at each
/// call site. `PosixFileSystem` is the real one; the fault injector lives in the TachoFaults
/// target, which only tests and tools link. Reads of segments go through `openForReading` +
/// pread on the descriptor (`FileSegmentSource`).
///
/// Tests/TachoStoreTests/EnvironmentSeamTests.swift fails when a source file outside the
/// environment's implementation calls the C file functions directly.
public protocol StoreFileSystem: Sendable {
    func createDirectory(_ path: String) throws
    /// Creates a new file for writing; fails if it exists.
    func createFile(_ path: String) throws -> FileDescriptor
    func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: String) throws
    func sync(_ fd: FileDescriptor, path: String) throws
    func close(_ fd: FileDescriptor, path: String) throws
    func rename(_ from: String, to: String) throws
    /// A second name for a file; fails (EEXIST) rather than replace an existing `to`.
    func link(_ from: String, to: String) throws
    /// Removes a file; a missing one is not an error.
    func unlink(_ path: String) throws
    /// Removes an empty directory.
    func removeDirectory(_ path: String) throws
    /// fsyncs a directory, making the renames, links and unlinks in it durable.
    func syncDirectory(_ path: String) throws
    /// Opens a file for reading (symbolic links are not followed); `.notFound` when absent.
    /// The caller closes the descriptor (`FileDescriptor.close`).
    func openForReading(_ path: String) throws -> FileDescriptor
    /// Opens an input file handed to ingest (an inbox file, a command-line argument) for
    /// reading. Inputs are untrusted and a name can change between a caller's check and this
    /// open, so a symbolic link is not followed and a FIFO, device or socket is refused
    /// without blocking (opening a FIFO would otherwise wait for a writer forever). A
    /// directory opens (its read fails with EISDIR). Throws `InputOpenError`.
    func openInput(_ path: String) throws(InputOpenError) -> FileDescriptor
    /// Reads at the descriptor's offset into `buffer`; 0 at the end of the file.
    func read(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int
    /// The size of an open file.
    func size(of fd: FileDescriptor, path: String) throws -> UInt64
    /// The names in directory `path` except "." and "..", in the order the directory lists them.
    func directoryEntries(_ path: String) throws -> [DirectoryEntry]
    /// What `path` is (lstat, or stat when `followingLinks`); `.notFound` when absent.
    func fileStatus(_ path: String, followingLinks: Bool) throws -> FileStatus
    /// The absolute path with every symbolic link resolved (realpath); nil when it cannot be.
    func resolvedPath(_ path: String) -> String?
    /// Free bytes for unprivileged users on the file system holding `path` (statvfs).
    func freeBytes(_ path: String) -> UInt64?
    /// Opens a lock file for reading and writing, creating it when `create`.
    func openLockFile(_ path: String, create: Bool) throws -> FileDescriptor
    /// Takes an flock without waiting: false when another open file description holds it.
    func tryLock(_ fd: FileDescriptor, exclusive: Bool, path: String) throws -> Bool
    func unlock(_ fd: FileDescriptor, path: String)
    /// Up to `count` bytes from the start of a (small) lock file; empty when unreadable.
    func readPrefix(_ fd: FileDescriptor, count: Int, path: String) -> [UInt8]
    /// Replaces a lock file's contents with `bytes` (truncate, write at 0), fsyncing when `sync`.
    func replaceContents(_ fd: FileDescriptor, _ bytes: [UInt8], sync: Bool, path: String) throws
}

/// One name in a directory listing.
public struct DirectoryEntry: Sendable, Equatable {
    /// Decoded lossily when the bytes are not UTF-8 (see `isValidUTF8`).
    public var name: String
    /// False when the name's bytes are not UTF-8: `name` would not reopen the file.
    public var isValidUTF8: Bool

    public init(name: String, isValidUTF8: Bool = true) {
        self.name = name
        self.isValidUTF8 = isValidUTF8
    }
}

/// What a stat says about a path.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case regular, directory, symbolicLink, fifo, device, other }
    public var kind: Kind
    public var size: UInt64
    /// Modification time, ns since the Unix epoch.
    public var mtimeNanos: Int64
    /// The file system (st_dev) and inode: one file reached by two names has the same pair.
    public var device: UInt64
    public var inode: UInt64

    public init(kind: Kind, size: UInt64, mtimeNanos: Int64, device: UInt64 = 0, inode: UInt64 = 0) {
        self.kind = kind
        self.size = size
        self.mtimeNanos = mtimeNanos
        self.device = device
        self.inode = inode
    }

    public var mtimeMicros: Int64 { mtimeNanos / 1000 }
}

extension StoreFileSystem {
    /// What `path` is; nil when it cannot be examined (absent, no permission).
    public func status(_ path: String, followingLinks: Bool) -> FileStatus? {
        try? fileStatus(path, followingLinks: followingLinks)
    }

    /// The names in `path`, sorted.
    public func listDirectory(_ path: String) throws -> [String] {
        try directoryEntries(path).map(\.name).sorted()
    }

    /// The size of the file at `path` (not following a link); `.notFound` when absent.
    public func fileSize(_ path: String) throws -> UInt64 {
        guard let s = status(path, followingLinks: false) else {
            throw StoreError(.notFound, "stat", path: path, "no such file or cannot be examined")
        }
        return s.size
    }

    /// Whether something (a file, a directory, a link) has the name `path`.
    public func exists(_ path: String) -> Bool { status(path, followingLinks: false) != nil }

    /// Whether two existing paths lie on one file system (same st_dev). False when either
    /// cannot be examined.
    public func sameFileSystem(_ a: String, _ b: String) -> Bool {
        guard let sa = status(a, followingLinks: true), let sb = status(b, followingLinks: true) else { return false }
        return sa.device == sb.device
    }
}
