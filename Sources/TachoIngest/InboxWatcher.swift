import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// Tells which inbox files are ready to ingest. With inotify, a file is ready when it is
/// closed after writing (`IN_CLOSE_WRITE`) or renamed into the inbox (`IN_MOVED_TO`). Files
/// already present at start, and every file when polling, are ready once their size and
/// mtime have been stable for the settle interval. Never returns dot-files, *.tmp, *.part.
public final class InboxWatcher {
    public let inbox: String
    public let settleNanos: UInt64
    public private(set) var usingInotify: Bool
    private var inotifyFD: Int32 = -1
    /// Names seen and not yet ready: (size, mtime, first time this state was seen).
    private var pending: [String: (size: UInt64, mtime: Int64, since: UInt64)] = [:]
    private var readyByEvent: Set<String> = []
    /// How long the daemon waits for a file that parsed as truncated (its writer may still be
    /// appending) before rejecting it.
    public let truncatedGraceNanos: UInt64
    /// Non-regular entries already reported (so each is reported once).
    private var reported: Set<String> = []
    public var onSkipped: ((String, String) -> Void)?
    /// Lists the inbox and times the settle interval (the writer's environment).
    let environment: StoreEnvironment
    /// Files published by a producer of this process (the HTTP front): waited on beside
    /// inotify (or instead of the polling sleep) and ready without settling.
    let wakeup: InboxWakeup?

    public init(inbox: String, settleSeconds: Double = 2, forcePolling: Bool = false, environment: StoreEnvironment = .system,
                wakeup: InboxWakeup? = nil) {
        self.inbox = inbox
        self.environment = environment
        self.wakeup = wakeup
        settleNanos = UInt64(max(0, settleSeconds) * 1e9)
        truncatedGraceNanos = UInt64(max(10, settleSeconds * 5) * 1e9)
        usingInotify = false
        if !forcePolling {
            let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            if fd >= 0 {
                if inotify_add_watch(fd, inbox, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) >= 0 {
                    inotifyFD = fd
                    usingInotify = true
                } else {
                    close(fd)
                }
            }
        }
    }

    deinit { if inotifyFD >= 0 { close(inotifyFD) } }

    /// Waits up to `timeoutMs` for activity (inotify) and returns the files that are ready,
    /// oldest mtime first. Polling mode rescans the directory on every call.
    public func ready(timeoutMs: Int32) -> [String] {
        let wakeFD = wakeup?.readFD ?? -1
        if usingInotify {
            var fds = [pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, nfds_t(wakeFD >= 0 ? 2 : 1), timeoutMs) > 0, fds[0].revents != 0 { drainEvents() }
        } else if timeoutMs > 0 {
            if wakeFD >= 0 {
                var pfd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
                _ = poll(&pfd, 1, timeoutMs)
            } else {
                environment.clock.sleep(seconds: Double(timeoutMs) / 1000)
            }
        }
        // Published whole by their producer: no settling, as for an inotify rename.
        if let wakeup { readyByEvent.formUnion(wakeup.take()) }
        return scan()
    }

    private func drainEvents() {
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buf.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            var off = 0
            buf.withUnsafeBytes { raw in
                while off + 16 <= n {
                    let mask = raw.loadUnaligned(fromByteOffset: off + 4, as: UInt32.self)
                    let len = Int(raw.loadUnaligned(fromByteOffset: off + 12, as: UInt32.self))
                    guard off + 16 + len <= n else { break }
                    let nameBytes = UnsafeRawBufferPointer(rebasing: raw[(off + 16)..<(off + 16 + len)])
                    let trimmed = nameBytes.prefix { $0 != 0 }
                    let name = String(decoding: trimmed, as: UTF8.self)
                    if mask & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 && !name.isEmpty { readyByEvent.insert(name) }
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 { readyByEvent.removeAll() }  // rescan settles them
                    off += 16 + len
                }
            }
        }
    }

    private func scan() -> [String] {
        let now = environment.clock.monotonicNanos()
        guard let entries = try? InputFiles.list(inbox, fs: environment.files) else { return [] }
        var ready: [(String, Int64)] = []
        var present = Set<String>()
        for e in entries {
            switch e {
            case .file(let path, let size, let mtime):
                let name = baseName(path)
                present.insert(name)
                if readyByEvent.contains(name) {
                    ready.append((path, mtime))
                    continue
                }
                if let p = pending[name], p.size == size, p.mtime == mtime {
                    if now - p.since >= settleNanos { ready.append((path, mtime)) }
                } else if settleNanos == 0 {
                    ready.append((path, mtime))
                } else {
                    pending[name] = (size, mtime, now)
                }
            case .skipped(let path, let why):
                let name = baseName(path)
                present.insert(name)
                if !reported.contains(name) {
                    reported.insert(name)
                    onSkipped?(path, why)
                }
            }
        }
        pending = pending.filter { present.contains($0.key) }
        readyByEvent = readyByEvent.intersection(present)
        reported = reported.intersection(present)
        return ready.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }

    /// Forget a file (taken, moved away, or failed and to be retried after it settles again).
    public func forget(_ path: String) {
        let name = baseName(path)
        pending.removeValue(forKey: name)
        readyByEvent.remove(name)
    }
}
