import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A swift-log handler for stderr connected to the journal: every line starts with the
/// syslog priority in sd-daemon(3) form (`<3>` for errors), so `journalctl -p err` finds
/// rejected files. The journal stamps time and unit, so the line has no timestamp; otherwise
/// it reads like `StreamLogHandler`: `<3>error tacho.run: key=value [source] message`.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// True when stderr is the journal's stream: `$JOURNAL_STREAM` is `DEVICE:INODE` of the
    /// stream systemd connected, and stderr still is that file (not redirected by a wrapper).
    public static func stderrIsJournal(environment: (String) -> String? = SystemdNotifier.processEnvironment) -> Bool {
        guard let value = environment("JOURNAL_STREAM") else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }

    /// The syslog priority of a swift-log level (sd-daemon(3): 7 debug … 2 critical).
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The text written for one event; each line of a multi-line message carries the prefix
    /// (the journal splits records at newlines).
    public func format(_ event: LogEvent) -> String {
        var all = metadataProvider?.get() ?? [:]
        all.merge(metadata) { _, new in new }
        if let m = event.metadata { all.merge(m) { _, new in new } }
        if let e = event.error { all["error"] = "\(e)" }
        let pretty = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let prefix = "<\(JournalLogHandler.priority(event.level))>"
        let text = "\(event.level) \(label):\(pretty) [\(event.source)] \(event.message)"
        var out = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            out += prefix + line + "\n"
        }
        return out
    }

    public func log(event: LogEvent) {
        let bytes = Array(format(event).utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buf in
                buf.baseAddress.map { write(2, $0 + done, buf.count - done) } ?? 0
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
    }
}
