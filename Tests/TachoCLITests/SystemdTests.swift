import Foundation
import Logging
import Testing
import TachoSystemd
import TachoTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A bound unix datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
final class NotifySocket {
    let fd: Int32
    /// As `$NOTIFY_SOCKET` names it: a path, or `@name` in the abstract namespace.
    let address: String

    init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(address.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let len = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + (abstract ? 0 : 1)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(len)) }
        }
        guard rc == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    deinit { close(fd) }

    /// The next datagram, or nil when none arrives within `seconds` (a bound, not a measurement).
    func receive(within seconds: Int) -> String? {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n < 0 ? nil : String(decoding: buf[..<n], as: UTF8.self)
    }

    /// Datagrams already queued, without waiting.
    func drain() -> [String] {
        var out: [String] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 { return out }
            out.append(String(decoding: buf[..<n], as: UTF8.self))
        }
    }
}

/// `tacho run` on `root`/inbox with `env`, stderr to `stderr` (opened here, so its inode is the
/// one the child writes to).
func startDaemon(_ root: String, env: [String: String], stderr: FileHandle? = nil) throws -> Process {
    try FileManager.default.createDirectory(atPath: root + "/inbox", withIntermediateDirectories: true)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tachoPath)
    p.arguments = ["run", "--store", root + "/store", "--inbox", root + "/inbox", "--settle", "0.2", "--log-level", "info"]
    p.environment = childEnvironment(env)
    p.standardOutput = FileHandle.nullDevice
    p.standardError = stderr ?? FileHandle.nullDevice
    try p.run()
    return p
}

/// dev:ino of an open file, as systemd writes `$JOURNAL_STREAM`.
func deviceAndInode(_ fd: Int32) -> String {
    var st = stat()
    _ = fstat(fd, &st)
    return "\(st.st_dev):\(st.st_ino)"
}

@Suite(.serialized) struct SystemdTests {
    /// READY=1 once running, WATCHDOG=1 while the loop runs (WATCHDOG_USEC set), STOPPING=1
    /// after SIGTERM and nothing after it; exit 0.
    @Test func notifySocketGetsReadyWatchdogThenStopping() throws {
        let dir = TempDir()
        let sock = try NotifySocket(address: dir.path + "/notify")
        let daemon = try startDaemon(dir.path, env: ["NOTIFY_SOCKET": sock.address, "WATCHDOG_USEC": "200000"])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let first = sock.receive(within: 30)
        #expect(first?.split(separator: "\n").first == "READY=1", "first datagram: \(first ?? "none")")
        #expect(first?.contains("STATUS=watching \(dir.path)/inbox") == true)
        var pings = 0
        for _ in 0..<20 where pings < 2 {
            guard let m = sock.receive(within: 10) else { break }
            #expect(m == "WATCHDOG=1")
            if m == "WATCHDOG=1" { pings += 1 }
        }
        #expect(pings == 2, "watchdog pings before SIGTERM: \(pings)")
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0)
        let after = sock.drain()
        #expect(after.last == "STOPPING=1", "after SIGTERM: \(after)")
        #expect(after.dropLast().allSatisfy { $0 == "WATCHDOG=1" }, "after SIGTERM: \(after)")
    }

    /// `@name` is the abstract namespace; a watchdog meant for another process (WATCHDOG_PID)
    /// is not pinged: exactly READY=1, STOPPING=1.
    @Test func abstractSocketAndForeignWatchdogPid() throws {
        let dir = TempDir()
        let sock = try NotifySocket(address: "@tacho-test-\(getpid())-\(UUID().uuidString.prefix(8))")
        let daemon = try startDaemon(dir.path, env: [
            "NOTIFY_SOCKET": sock.address, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1",
        ])
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let first = sock.receive(within: 30)
        #expect(first?.hasPrefix("READY=1") == true, "first datagram: \(first ?? "none")")
        // A file through the loop: the daemon has run several passes when it is processed.
        _ = writeDetectionFile(dir.path + "/inbox", index: 1)
        #expect(waitUntil(15) { files(in: dir.path + "/processed").count == 1 })
        daemon.terminate()
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        #expect(sock.drain() == ["STOPPING=1"])
    }

    /// With stderr the journal's stream (JOURNAL_STREAM = its dev:ino), every line carries its
    /// syslog priority: a rejected file is `<3>`, so `journalctl -p err` lists it. With a
    /// JOURNAL_STREAM naming another file (a wrapper redirected stderr), plain lines.
    @Test func journalPrioritiesOnlyWhenStderrIsTheJournal() throws {
        for matching in [true, false] {
            let dir = TempDir()
            let logPath = dir.path + "/stderr.log"
            #expect(FileManager.default.createFile(atPath: logPath, contents: nil))
            let log = try #require(FileHandle(forWritingAtPath: logPath))
            var stream = deviceAndInode(log.fileDescriptor)
            if !matching { stream += "1" }
            try FileManager.default.createDirectory(atPath: dir.path + "/inbox", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(
                atPath: dir.path + "/inbox/objects_detection_bad.json", contents: Data("{\"objects_detection_events\":[{]}".utf8))
            let daemon = try startDaemon(dir.path, env: ["JOURNAL_STREAM": stream], stderr: log)
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            #expect(waitUntil(15) { files(in: dir.path + "/rejected").contains("objects_detection_bad.json.error") })
            daemon.terminate()
            daemon.waitUntilExit()
            try log.close()
            let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
            let rejected = lines.filter { $0.contains("rejected objects_detection_bad.json") }
            #expect(rejected.count == 1, "\(lines)")
            if matching {
                #expect(rejected.first?.hasPrefix("<3>error tacho.run:") == true, "\(lines)")
                #expect(lines.contains { $0.hasPrefix("<6>info tacho.run:") && $0.contains("tacho run") })
                #expect(lines.allSatisfy { $0.first == "<" && $0.dropFirst(2).first == ">" }, "\(lines)")
            } else {
                #expect(lines.allSatisfy { $0.first != "<" }, "\(lines)")
                #expect(rejected.first?.contains(" error tacho.run:") == true, "\(lines)")
            }
        }
    }

    /// The handler's text: priorities per level, every line of a multi-line message prefixed.
    @Test func journalFormatPrefixesEveryLine() {
        let h = JournalLogHandler(label: "t")
        let e = LogEvent(level: .warning, message: "one\ntwo", metadata: ["k": "v"], source: "s", file: "", function: "", line: 0)
        #expect(h.format(e) == "<4>warning t: k=v [s] one\n<4>two\n")
        #expect([Logger.Level.trace, .debug, .info, .notice, .warning, .error, .critical].map(JournalLogHandler.priority) == [7, 7, 6, 5, 4, 3, 2])
        #expect(!JournalLogHandler.stderrIsJournal { _ in nil })
        #expect(!JournalLogHandler.stderrIsJournal { _ in "garbage" })
    }

    /// Unreachable or unusable addresses are reported, never fatal.
    @Test func notifierFailsSoftly() throws {
        let dir = TempDir()
        #expect(!SystemdNotifier(socketPath: dir.path + "/nobody-listens").ready())
        #expect(!SystemdNotifier(socketPath: "/" + String(repeating: "x", count: 200)).ready())
        #expect(SystemdNotifier { $0 == "NOTIFY_SOCKET" ? "vsock:2:1234" : nil } == nil)
        #expect(SystemdNotifier { _ in nil } == nil)
        let sock = try NotifySocket(address: dir.path + "/n")
        #expect(SystemdNotifier(socketPath: sock.address).send("STATUS=x"))
        #expect(sock.receive(within: 5) == "STATUS=x")
    }

    /// `systemd-analyze verify` finds nothing to say about any unit in tools/systemd/.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")
        || FileManager.default.isExecutableFile(atPath: "/bin/systemd-analyze"), "systemd-analyze is absent: units not verified"))
    func unitsVerify() throws {
        let r = try runToCompletion("/bin/bash", [repoRoot.path + "/tools/systemd/verify", tachoPath])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("7 units clean"), "\(r.stdout)")
    }
}
