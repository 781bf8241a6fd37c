#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// sd_notify(3) without libsystemd: one datagram per state change to the unix socket named by
/// `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace), as systemd documents for
/// `Type=notify` services. Every send is best effort: a service manager that went away must
/// not stop the daemon, so failures are returned, never thrown.
public struct SystemdNotifier: Sendable {
    /// The socket address as given in `$NOTIFY_SOCKET`.
    public let socketPath: String
    /// `$WATCHDOG_USEC` when it is meant for this process (`$WATCHDOG_PID` unset or ours).
    public let watchdogMicros: UInt64?

    /// From the environment; nil when `$NOTIFY_SOCKET` is unset, empty, or of a kind this
    /// implementation cannot reach (`vsock:`), so callers skip every notification.
    public init?(environment: (String) -> String? = SystemdNotifier.processEnvironment) {
        guard let path = environment("NOTIFY_SOCKET"), path.hasPrefix("/") || path.hasPrefix("@") else { return nil }
        self.init(socketPath: path, watchdogMicros: SystemdNotifier.watchdog(environment))
    }

    public init(socketPath: String, watchdogMicros: UInt64? = nil) {
        self.socketPath = socketPath
        self.watchdogMicros = watchdogMicros
    }

    public static func processEnvironment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// `$WATCHDOG_USEC` if positive and, when `$WATCHDOG_PID` is set, it names this process
    /// (a child must not ping for its parent).
    static func watchdog(_ environment: (String) -> String?) -> UInt64? {
        guard let s = environment("WATCHDOG_USEC"), let usec = UInt64(s), usec > 0 else { return nil }
        if let pid = environment("WATCHDOG_PID"), pid != String(getpid()) { return nil }
        return usec
    }

    /// `READY=1`: start-up is finished (the store is open, the inbox watched).
    @discardableResult public func ready(status: String? = nil) -> Bool {
        send("READY=1" + (status.map { "\nSTATUS=" + $0 } ?? ""))
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult public func stopping() -> Bool { send("STOPPING=1") }

    /// `WATCHDOG=1`: the daemon's loop is alive.
    @discardableResult public func watchdog() -> Bool { send("WATCHDOG=1") }

    /// Sends `state` (newline-separated `KEY=VALUE` assignments) as one datagram. Returns
    /// false when the socket is unreachable.
    @discardableResult public func send(_ state: String) -> Bool {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }  // Linux abstract namespace: a leading NUL, no terminator
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !path.isEmpty, path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
        }
        let length = (MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path) ?? 2) + path.count + (abstract ? 0 : 1)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(state.utf8)
        let sent = bytes.withUnsafeBytes { buf in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, Int32(MSG_NOSIGNAL), $0, socklen_t(length))
                }
            }
        }
        return sent == bytes.count
    }
}

/// Pings the watchdog at half its interval, from the thread that runs the daemon's loop:
/// `tick()` is called on every pass, so a loop that hangs (a stuck disk, a deadlock) stops
/// the pings and systemd restarts the service.
public final class WatchdogPinger {
    let notifier: SystemdNotifier
    let intervalNanos: UInt64
    private var last: UInt64 = 0

    /// nil without a watchdog for this process.
    public init?(_ notifier: SystemdNotifier) {
        guard let usec = notifier.watchdogMicros else { return nil }
        self.notifier = notifier
        intervalNanos = max(1, usec / 2) * 1000
    }

    public func tick() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let now = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        guard last == 0 || now &- last >= intervalNanos else { return }
        last = now
        notifier.watchdog()
    }
}
