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
    private var fd: Int32
    public let path: String
    public private(set) var reserved: Range<UInt64>?

    /// Takes the claim; `.locked` when another compaction holds it.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw StoreError(.io, "open compaction claim", path: path, String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            let who = Self.contents(fd).first.map(String.init) ?? "unknown"
            close(fd)
            fd = -1
            if e == EWOULDBLOCK {
                throw StoreError(.locked, "claim compaction", path: path, "another `tacho compact` is running (pid \(who))")
            }
            throw StoreError(.io, "claim compaction", path: path, String(cString: strerror(e)))
        }
    }

    /// Records the reserved numbers (durably: a writer that opens after the reservation's
    /// manifest switch must find them).
    func record(_ range: Range<UInt64>) throws {
        let text = Array("\(getpid()) \(range.lowerBound) \(range.upperBound)\n".utf8)
        guard ftruncate(fd, 0) == 0, pwrite(fd, text, text.count, 0) == text.count, fsync(fd) == 0 else {
            throw StoreError(.io, "record compaction claim", path: path, String(cString: strerror(errno)))
        }
        reserved = range
    }

    /// Gives the claim up: outputs not published by now are ordinary orphans.
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        close(fd)
        fd = -1
        reserved = nil
    }

    deinit { release() }

    /// The numbers a live compaction reserved, or nil when no process holds the claim (the
    /// file is absent, empty, or left by a compactor that died).
    static func liveReservation(_ path: String) -> Range<UInt64>? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(fd, LOCK_UN)
            return nil  // nobody holds it
        }
        let f = contents(fd)
        guard f.count == 3, let lo = UInt64(f[1]), let hi = UInt64(f[2]), lo <= hi else {
            // Held but not yet recorded: the holder has reserved nothing yet.
            return nil
        }
        return lo..<hi
    }

    private static func contents(_ fd: Int32) -> [Substring] {
        var buf = [UInt8](repeating: 0, count: 96)
        let n = pread(fd, &buf, 95, 0)
        guard n > 0 else { return [] }
        return String(decoding: buf[0..<n], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
    }
}
