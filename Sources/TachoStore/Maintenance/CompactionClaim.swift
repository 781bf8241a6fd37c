import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// `<store>/COMPACTING` (FORMAT.md §3.5 "Standalone compaction"): held with an exclusive
/// flock by a `tacho compact` from before it reserves its output numbers until its outputs are
/// published or deleted. Its contents name the holder and the reserved numbers:
/// `<pid> <first> <end>\n` (decimal; the numbers `first ..< end`). While a live process holds
/// the flock, a writer opening the store (orphan removal) and `verify --repair` leave files
/// with those numbers alone: they are that compaction's outputs, written without the writer
/// lock. The kernel drops the flock when the compactor dies, so its leftovers are orphans
/// like any other at the next open.
public final class CompactionClaim {
    private var fd: FileDescriptor?
    private let fs: any StoreFileSystem
    public let path: String
    public private(set) var reserved: Range<UInt64>?

    /// Takes the claim; `.locked` when another compaction holds it.
    init(path: String, fs: any StoreFileSystem) throws {
        self.path = path
        self.fs = fs
        let fd: FileDescriptor
        do {
            fd = try fs.openLockFile(path, create: true)
        } catch let e as StoreError {
            throw StoreError(.io, "open compaction claim", path: path, e.detail, cause: e.cause)
        }
        let taken: Bool
        do {
            taken = try fs.tryLock(fd, exclusive: true, path: path)
        } catch let e as StoreError {
            try? fs.close(fd, path: path)
            throw StoreError(.io, "claim compaction", path: path, e.detail, cause: e.cause)
        }
        guard taken else {
            let who = Self.contents(fd, path, fs).first.map(String.init) ?? "unknown"
            try? fs.close(fd, path: path)
            throw StoreError(.locked, "claim compaction", path: path, "another `tacho compact` is running (pid \(who))")
        }
        self.fd = fd
    }

    /// Records the reserved numbers (durably: a writer that opens after the reservation's
    /// manifest switch must find them).
    func record(_ range: Range<UInt64>) throws {
        guard let fd else { throw StoreError(.closed, "record compaction claim", path: path, "the claim was released") }
        let text = Array("\(getpid()) \(range.lowerBound) \(range.upperBound)\n".utf8)
        do {
            try fs.replaceContents(fd, text, sync: true, path: path)
        } catch let e as StoreError {
            throw StoreError(.io, "record compaction claim", path: path, e.detail, cause: e.cause)
        }
        reserved = range
    }

    /// Gives the claim up: outputs not published by now are ordinary orphans.
    public func release() {
        guard let fd else { return }
        try? fs.replaceContents(fd, [], sync: false, path: path)
        try? fs.close(fd, path: path)
        self.fd = nil
        reserved = nil
    }

    deinit { release() }

    /// The numbers a live compaction reserved, or nil when no process holds the claim (the
    /// file is absent, empty, or left by a compactor that died).
    static func liveReservation(_ path: String, fs: any StoreFileSystem) -> Range<UInt64>? {
        guard let fd = try? fs.openLockFile(path, create: false) else { return nil }
        defer { try? fs.close(fd, path: path) }
        if (try? fs.tryLock(fd, exclusive: false, path: path)) == true {
            fs.unlock(fd, path: path)
            return nil  // nobody holds it
        }
        let f = contents(fd, path, fs)
        guard f.count == 3, let lo = UInt64(f[1]), let hi = UInt64(f[2]), lo <= hi else {
            // Held but not yet recorded: the holder has reserved nothing yet.
            return nil
        }
        return lo..<hi
    }

    private static func contents(_ fd: FileDescriptor, _ path: String, _ fs: any StoreFileSystem) -> [Substring] {
        String(decoding: fs.readPrefix(fd, count: 95, path: path), as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
    }
}
