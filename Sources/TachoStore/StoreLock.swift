#if canImport(Glibc)
import Glibc
#endif

/// One writer per store: an exclusive flock on `LOCK`, which holds the owner's pid so a second
/// writer can say who has it. The kernel drops the lock when the process dies, so a crash
/// never leaves a stale lock.
final class StoreLock {
    private var fd: Int32

    init(path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw StoreError(.io, "open lock", path: path, String(cString: strerror(errno))) }
        // A lock just released can still be held for a moment by a forked child that has not
        // yet exec'd (the descriptor is close-on-exec): retry briefly before calling it taken.
        var result = flock(fd, LOCK_EX | LOCK_NB)
        var e = result == 0 ? 0 : errno
        var attempts = 0
        while result != 0 && e == EWOULDBLOCK && attempts < 10 {
            attempts += 1
            usleep(20_000)
            result = flock(fd, LOCK_EX | LOCK_NB)
            e = result == 0 ? 0 : errno
        }
        if result != 0 {
            var buf = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buf, 31, 0)
            close(fd)
            fd = -1
            let holder = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingSpaces() : "unknown"
            if e == EWOULDBLOCK {
                throw StoreError(.locked, "lock store", path: path, "another writer holds it (pid \(holder))")
            }
            throw StoreError(.io, "lock store", path: path, String(cString: strerror(e)))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        close(fd)  // closing drops the flock
        fd = -1
    }

    deinit { release() }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
