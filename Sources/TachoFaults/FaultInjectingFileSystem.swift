import Synchronization
import SystemPackage
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// Calls of a `StoreFileSystem` the fault injector can fail, record and count.
public enum IOOp: String, Sendable, CaseIterable {
    case mkdir, create, write, fsync, close, rename, unlink, fsyncDir, link, rmdir, lock
    /// Opening an input file for ingest (`openInput`).
    case input
}

/// What an injected fault does to the call it hits.
public enum FaultKind: Sendable, Equatable, CustomStringConvertible {
    /// The call fails with this errno. It has no effect, except as the kernel would have one:
    /// a failed `close` still releases the descriptor (Linux), and a failed `fsync` loses the
    /// file's unsynced data (the file is truncated to 0 bytes), so a writer that goes on using
    /// the file after a failed fsync is caught by the verifier.
    case error(Int32)
    /// `write` only: the first half of the bytes reach the file, then the call fails with
    /// ENOSPC (a disk that fills mid-write).
    case shortWrite

    public var description: String {
        switch self {
        case .error(let e): return FaultKind.errnoName(e)
        case .shortWrite: return "short write"
        }
    }

    static let names: [(String, Int32)] = [
        ("ENOSPC", ENOSPC), ("EIO", EIO), ("EDQUOT", EDQUOT), ("EROFS", EROFS), ("EACCES", EACCES),
        ("EPERM", EPERM), ("ENOENT", ENOENT), ("EEXIST", EEXIST), ("EBUSY", EBUSY), ("EINTR", EINTR),
    ]

    static func errnoName(_ e: Int32) -> String { names.first { $0.1 == e }?.0 ?? "errno \(e)" }
}

/// One fault: the `nth` call (1-based, counted from when the fault is armed) of `op` on a path
/// containing `pathContains` (any path when nil) fails. `sticky`: every such call from the nth
/// on fails, until the fault is cleared (a full disk, a dead device).
public struct Fault: Sendable, CustomStringConvertible {
    public var op: IOOp
    public var nth: Int
    public var kind: FaultKind
    public var pathContains: String?
    public var sticky: Bool
    var seen = 0

    public init(_ op: IOOp, nth: Int = 1, _ kind: FaultKind, pathContains: String? = nil, sticky: Bool = false) {
        self.op = op
        self.nth = max(1, nth)
        self.kind = kind
        self.pathContains = pathContains
        self.sticky = sticky
    }

    /// Parses `<op>[@<n>][+]:<errno name|number|short>[:<path substring>]`, e.g. `fsync@3:EIO`,
    /// `write@1+:ENOSPC`, `write@2:short:segments/`, `rename:EIO`. `+` makes it sticky.
    public init?(parsing spec: Substring) {
        let parts = spec.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return nil }
        var head = parts[0]
        var sticky = false
        if head.hasSuffix("+") { sticky = true; head = head.dropLast() }
        let opAndN = head.split(separator: "@", maxSplits: 1)
        guard let first = opAndN.first, let op = IOOp(rawValue: String(first)) else { return nil }
        var n = 1
        if opAndN.count == 2 { guard let v = Int(opAndN[1]), v >= 1 else { return nil }; n = v }
        let what = String(parts[1])
        let kind: FaultKind
        if what == "short" {
            kind = .shortWrite
        } else if let e = FaultKind.names.first(where: { $0.0 == what })?.1 {
            kind = .error(e)
        } else if let e = Int32(what), e > 0 {
            kind = .error(e)
        } else {
            return nil
        }
        self.init(op, nth: n, kind, pathContains: parts.count == 3 && !parts[2].isEmpty ? String(parts[2]) : nil, sticky: sticky)
    }

    public var description: String {
        "\(op.rawValue)@\(nth)\(sticky ? "+" : ""):\(kind)" + (pathContains.map { ":\($0)" } ?? "")
    }

    func matches(_ op: IOOp, _ path: String) -> Bool {
        op == self.op && (pathContains.map { path.contains($0) } ?? true)
    }
}

/// A `StoreFileSystem` over the real one that fails chosen calls (LevelDB's FaultInjectionTestEnv):
/// tests arm a `Fault`, run a commit, and check that it fails cleanly and leaves the store valid.
/// It can also record every call (op and path), so a test can find each call site of a commit
/// and fail them one by one, and it notes misuse the kernel would punish: a close, write or
/// fsync of a descriptor it already closed (after a failed close the descriptor is gone, and
/// closing it again may close a descriptor another thread just opened).
///
/// Built only into tests and tools (the TachoFaults target): a release `tacho` has no fault
/// injector (Tests/TachoCLITests/ReleaseContentsTests.swift checks the package graph).
public final class FaultInjectingFileSystem: StoreFileSystem {
    /// One call the store made.
    public struct Call: Sendable, Equatable, CustomStringConvertible {
        public var op: IOOp
        public var path: String
        public var description: String { "\(op.rawValue) \(path)" }
    }

    private struct State {
        var faults: [Fault] = []
        var recording = false
        var calls: [Call] = []
        var injected: [String] = []
        var misuse: [String] = []
        var open: [Int32: String] = [:]
        var maxFileSize: (bytes: Int, pathContains: String?)?
        /// Bytes written through each open descriptor (for `maxFileSize`).
        var written: [Int32: Int] = [:]
    }

    public let base: any StoreFileSystem
    private let state = Mutex(State())

    public init(base: any StoreFileSystem = PosixFileSystem(), faults: [Fault] = []) {
        self.base = base
        state.withLock { $0.faults = faults }
    }

    // MARK: control

    public func arm(_ fault: Fault) { state.withLock { $0.faults.append(fault) } }
    /// Removes every fault: the "disk" is healthy again.
    public func clearFaults() { state.withLock { $0.faults.removeAll(); $0.maxFileSize = nil } }
    /// A nearly full disk: a write that would make a file (whose path contains `pathContains`,
    /// if given) larger than `bytes` bytes, counted over every write since it was created,
    /// fails with ENOSPC; smaller files fit (nil: no limit). Models a commit too large for the
    /// space that is left, however the writer splits its writes.
    public func limitFileSize(_ bytes: Int?, pathContains: String? = nil) {
        state.withLock { $0.maxFileSize = bytes.map { ($0, pathContains) } }
    }
    public func startRecording() { state.withLock { $0.recording = true; $0.calls.removeAll() } }
    /// Stops recording and returns the calls since `startRecording()`.
    public func stopRecording() -> [Call] {
        state.withLock { s in
            s.recording = false
            defer { s.calls.removeAll() }
            return s.calls
        }
    }
    /// Faults that fired, as "<fault> on <path>".
    public var injected: [String] { state.withLock { $0.injected } }
    /// Misuse noticed: use of a descriptor after it was closed.
    public var misuse: [String] { state.withLock { $0.misuse } }

    private func check(_ op: IOOp, _ path: String) -> FaultKind? {
        state.withLock { s in
            if s.recording { s.calls.append(Call(op: op, path: path)) }
            var hit: FaultKind?
            for i in s.faults.indices where s.faults[i].matches(op, path) {
                s.faults[i].seen += 1
                let f = s.faults[i]
                if f.seen == f.nth || (f.sticky && f.seen > f.nth) {
                    hit = hit ?? f.kind
                    s.injected.append("\(f) on \(path)")
                }
            }
            return hit
        }
    }

    private func injectedError(_ operation: String, _ path: String, _ e: Int32, _ extra: String = "") -> StoreError {
        StoreError(.io, operation, path: path, "\(extra)\(Errno(rawValue: e)) (injected \(FaultKind.errnoName(e)))", cause: e)
    }

    /// True when `fd` is one of ours and still open; records misuse otherwise.
    private func isOpen(_ fd: FileDescriptor, _ what: String, _ path: String) -> Bool {
        state.withLock { s in
            if s.open[fd.rawValue] != nil { return true }
            s.misuse.append("\(what) of \(path) on descriptor \(fd.rawValue), which is already closed")
            return false
        }
    }

    // MARK: StoreFileSystem

    public func createDirectory(_ path: String) throws {
        if case .error(let e)? = check(.mkdir, path) { throw injectedError("create directory", path, e) }
        try base.createDirectory(path)
    }

    public func createFile(_ path: String) throws -> FileDescriptor {
        if case .error(let e)? = check(.create, path) { throw injectedError("create file", path, e) }
        let fd = try base.createFile(path)
        state.withLock {
            $0.open[fd.rawValue] = path
            $0.written[fd.rawValue] = 0
        }
        return fd
    }

    public func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard isOpen(fd, "write", path) else { throw injectedError("write", path, EBADF) }
        if let m = state.withLock({ s -> Int? in
            let size = s.written[fd.rawValue, default: 0] + bytes.count
            guard let m = s.maxFileSize, size > m.bytes, m.pathContains.map({ path.contains($0) }) ?? true else {
                s.written[fd.rawValue] = size
                return nil
            }
            s.injected.append("file > \(m.bytes) bytes:ENOSPC on \(path)")
            return m.bytes
        }) {
            throw injectedError("write", path, ENOSPC, "\(bytes.count) bytes, more than the \(m) a file may hold: ")
        }
        switch check(.write, path) {
        case .error(let e)?:
            throw injectedError("write", path, e)
        case .shortWrite?:
            let half = bytes.count / 2
            try base.write(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<half]), path: path)
            throw injectedError("write", path, ENOSPC, "short write (\(half) of \(bytes.count) bytes): ")
        case nil:
            try base.write(fd, bytes, path: path)
        }
    }

    public func sync(_ fd: FileDescriptor, path: String) throws {
        guard isOpen(fd, "fsync", path) else { throw injectedError("fsync", path, EBADF) }
        if case .error(let e)? = check(.fsync, path) {
            // The kernel may have dropped the dirty pages: what is on disk is unknown. Model the
            // worst case, so reusing the file afterwards cannot go unnoticed.
            _ = ftruncate(fd.rawValue, 0)
            throw injectedError("fsync", path, e)
        }
        try base.sync(fd, path: path)
    }

    public func close(_ fd: FileDescriptor, path: String) throws {
        guard isOpen(fd, "close", path) else { throw injectedError("close", path, EBADF) }
        state.withLock {
            _ = $0.open.removeValue(forKey: fd.rawValue)
            _ = $0.written.removeValue(forKey: fd.rawValue)
        }
        if case .error(let e)? = check(.close, path) {
            // Linux releases the descriptor even when close reports an error.
            try? base.close(fd, path: path)
            throw injectedError("close", path, e)
        }
        try base.close(fd, path: path)
    }

    public func rename(_ from: String, to: String) throws {
        if case .error(let e)? = check(.rename, from) {
            throw injectedError("rename", from, e, "to \(to): ")
        }
        try base.rename(from, to: to)
    }

    public func unlink(_ path: String) throws {
        if case .error(let e)? = check(.unlink, path) { throw injectedError("unlink", path, e) }
        try base.unlink(path)
    }

    public func syncDirectory(_ path: String) throws {
        if case .error(let e)? = check(.fsyncDir, path) { throw injectedError("fsync directory", path, e) }
        try base.syncDirectory(path)
    }

    public func link(_ from: String, to: String) throws {
        if case .error(let e)? = check(.link, from) { throw injectedError("link", from, e, "to \(to): ") }
        try base.link(from, to: to)
    }

    public func removeDirectory(_ path: String) throws {
        if case .error(let e)? = check(.rmdir, path) { throw injectedError("remove directory", path, e) }
        try base.removeDirectory(path)
    }

    public func openLockFile(_ path: String, create: Bool) throws -> FileDescriptor {
        if case .error(let e)? = check(.lock, path) { throw injectedError("open lock", path, e) }
        let fd = try base.openLockFile(path, create: create)
        state.withLock { $0.open[fd.rawValue] = path }
        return fd
    }

    public func replaceContents(_ fd: FileDescriptor, _ bytes: [UInt8], sync: Bool, path: String) throws {
        guard isOpen(fd, "write", path) else { throw injectedError("write", path, EBADF) }
        if case .error(let e)? = check(.write, path) { throw injectedError("write", path, e) }
        if sync, case .error(let e)? = check(.fsync, path) { throw injectedError("fsync", path, e) }
        try base.replaceContents(fd, bytes, sync: sync, path: path)
    }

    public func openForReading(_ path: String) throws -> FileDescriptor { try base.openForReading(path) }
    public func openInput(_ path: String) throws(InputOpenError) -> FileDescriptor {
        if case .error(let e)? = check(.input, path) { throw InputOpenError(path: path, kind: .system(errno: e)) }
        return try base.openInput(path)
    }
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
    public func tryLock(_ fd: FileDescriptor, exclusive: Bool, path: String) throws -> Bool {
        try base.tryLock(fd, exclusive: exclusive, path: path)
    }
    public func unlock(_ fd: FileDescriptor, path: String) { base.unlock(fd, path: path) }
    public func readPrefix(_ fd: FileDescriptor, count: Int, path: String) -> [UInt8] { base.readPrefix(fd, count: count, path: path) }
}
