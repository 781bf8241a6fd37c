#if canImport(Glibc)
import Glibc
#endif

/// One writer per store: an exclusive flock on `LOCK`, which holds the owner's pid so a second
/// writer can say who has it. The kernel drops the lock when the process dies, so a crash
/// never leaves a stale lock.
final class StoreLock {
    private var fd: Int32

    /// Takes the lock, retrying for up to `waitSeconds` while another writer holds it
    /// (`waiting` is called once, with the holder's pid, when it has to wait). A lock just
    /// released can also still be held for a moment by a forked child that has not exec'd
    /// yet (the descriptor is close-on-exec).
    init(path: String, waitSeconds: Double = 0.2, waiting: ((String) -> Void)? = nil) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw StoreError(.io, "open lock", path: path, String(cString: strerror(errno))) }
        var result = flock(fd, LOCK_EX | LOCK_NB)
        var e = result == 0 ? 0 : errno
        var waited = 0.0
        var pause = 0.02
        while result != 0 && e == EWOULDBLOCK && waited < waitSeconds {
            if waited == 0, let waiting { waiting(holder()) }
            let step = min(pause, waitSeconds - waited)
            usleep(UInt32(step * 1e6))
            waited += step
            pause = min(pause * 2, 0.5)
            result = flock(fd, LOCK_EX | LOCK_NB)
            e = result == 0 ? 0 : errno
        }
        if result != 0 {
            let who = holder()
            close(fd)
            fd = -1
            if e == EWOULDBLOCK {
                let after = waitSeconds >= 1 ? " after waiting \(Int(waitSeconds)) s" : ""
                throw StoreError(.locked, "lock store", path: path, "another writer holds it (pid \(who))\(after)")
            }
            throw StoreError(.io, "lock store", path: path, String(cString: strerror(e)))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    /// The pid the current holder wrote into the lock file.
    private func holder() -> String {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buf, 31, 0)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingSpaces() : "unknown"
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
