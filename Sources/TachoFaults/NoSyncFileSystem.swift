import SystemPackage
import TachoStore

/// The real file system without fsyncs: builds a test store of thousands of segments in
/// seconds (tests where durability is not the point). Never for a store that must survive.
public struct NoSyncFileSystem: StoreFileSystem {
    public let base: any StoreFileSystem
    public init(base: any StoreFileSystem = PosixFileSystem()) { self.base = base }

    public func sync(_ fd: FileDescriptor, path: String) throws {}
    public func syncDirectory(_ path: String) throws {}

    public func createDirectory(_ path: String) throws { try base.createDirectory(path) }
    public func createFile(_ path: String) throws -> FileDescriptor { try base.createFile(path) }
    public func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: String) throws { try base.write(fd, bytes, path: path) }
    public func close(_ fd: FileDescriptor, path: String) throws { try base.close(fd, path: path) }
    public func rename(_ from: String, to: String) throws { try base.rename(from, to: to) }
    public func link(_ from: String, to: String) throws { try base.link(from, to: to) }
    public func unlink(_ path: String) throws { try base.unlink(path) }
    public func removeDirectory(_ path: String) throws { try base.removeDirectory(path) }
    public func openForReading(_ path: String) throws -> FileDescriptor { try base.openForReading(path) }
    public func openInput(_ path: String) throws(InputOpenError) -> FileDescriptor { try base.openInput(path) }
    public func read(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        try base.read(fd, into: buffer, path: path)
    }
    public func size(of fd: FileDescriptor, path: String) throws -> UInt64 { try base.size(of: fd, path: path) }
    public func directoryEntries(_ path: String) throws -> [DirectoryEntry] { try base.directoryEntries(path) }
    public func fileStatus(_ path: String, followingLinks: Bool) throws -> FileStatus {
        try base.fileStatus(path, followingLinks: followingLinks)
    }
    public func freeBytes(_ path: String) -> UInt64? { base.freeBytes(path) }
    public func resolvedPath(_ path: String) -> String? { base.resolvedPath(path) }
    public func openLockFile(_ path: String, create: Bool) throws -> FileDescriptor { try base.openLockFile(path, create: create) }
    public func tryLock(_ fd: FileDescriptor, exclusive: Bool, path: String) throws -> Bool {
        try base.tryLock(fd, exclusive: exclusive, path: path)
    }
    public func unlock(_ fd: FileDescriptor, path: String) { base.unlock(fd, path: path) }
    public func readPrefix(_ fd: FileDescriptor, count: Int, path: String) -> [UInt8] { base.readPrefix(fd, count: count, path: path) }
    public func replaceContents(_ fd: FileDescriptor, _ bytes: [UInt8], sync: Bool, path: String) throws {
        try base.replaceContents(fd, bytes, sync: false, path: path)
    }
}
