import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A producer in the daemon's own process (the HTTP front of `tacho run --listen`) telling the
/// inbox loop that a file it has just published (renamed into the inbox, directories fsynced)
/// is complete: the loop wakes at once and takes it without waiting for its poll interval or
/// for the file to settle. Without inotify (polling, `--poll`) that is the difference between
/// milliseconds and `settle_seconds`; with inotify it only saves the event's round trip.
///
/// A pipe carries the wake-up (the loop waits on it beside inotify); the names travel in a
/// locked list. If the pipe cannot be made, names still travel and are taken at the loop's
/// next pass (within its 250 ms wait).
public final class InboxWakeup: Sendable {
    /// The pipe's read end, polled by the watcher; -1 without a pipe.
    let readFD: Int32
    private let writeFD: Int32
    private let names = Mutex<[String]>([])

    public init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            readFD = fds[0]
            writeFD = fds[1]
        } else {
            readFD = -1
            writeFD = -1
        }
    }

    deinit {
        if readFD >= 0 { close(readFD) }
        if writeFD >= 0 { close(writeFD) }
    }

    /// `name` (a file name in the inbox, not a path) is complete and may be taken now.
    public func post(_ name: String) {
        names.withLock { $0.append(name) }
        guard writeFD >= 0 else { return }
        var byte: UInt8 = 1
        // A full pipe already holds a pending wake-up: nothing is lost by dropping this one.
        _ = write(writeFD, &byte, 1)
    }

    /// The names posted since the last call; empties the pipe.
    func take() -> [String] {
        if readFD >= 0 {
            var buf = [UInt8](repeating: 0, count: 256)
            while buf.withUnsafeMutableBytes({ read(readFD, $0.baseAddress, $0.count) }) > 0 {}
        }
        return names.withLock { n in
            defer { n.removeAll() }
            return n
        }
    }
}
