import Synchronization
import SystemPackage
import TachoStore

/// One request body on its way into the inbox, written as the inbox's producers are told to
/// write (README "Install"): under a name the watcher skips, fsynced, then renamed to the
/// name it takes, and the directory fsynced — only then does the request get its 2xx. From
/// there the file is the log: the daemon's exactly-once ledger owns it (docs/SEMANTICS.md §3).
///
/// The file is staged in `<inbox>/.tacho-http/` (a dot-directory the watcher never lists),
/// under its final name, so the reader that validates it before it is published picks the
/// same layout by the same prefix as the daemon will. Every file call goes through the
/// store's environment (`StoreFileSystem`).
struct InboxFile {
    let inbox: String
    let name: String
    let files: any StoreFileSystem

    static let stagingDirectory = ".tacho-http"

    var stagedPath: String { inbox + "/" + Self.stagingDirectory + "/" + name }
    var publishedPath: String { inbox + "/" + name }

    /// Writes `bytes` to the staged file and fsyncs it.
    /// REQUIRES: nothing staged under this name (names are unique: `InboxNames`).
    func stage(_ bytes: [UInt8]) throws {
        try stage([bytes])
    }

    /// Writes `pieces` one after another to the staged file and fsyncs it (a group commit's
    /// joined line-protocol bodies: of several, each is ended by a newline if it lacks one).
    func stage(_ pieces: [[UInt8]]) throws {
        try files.createDirectory(inbox)
        try files.createDirectory(inbox + "/" + Self.stagingDirectory)
        let fd = try files.createFile(stagedPath)
        do {
            for bytes in pieces where !bytes.isEmpty {
                try bytes.withUnsafeBytes { try files.write(fd, $0, path: stagedPath) }
                if pieces.count > 1 && bytes.last != 0x0A {
                    try [UInt8(0x0A)].withUnsafeBytes { try files.write(fd, $0, path: stagedPath) }
                }
            }
            try files.sync(fd, path: stagedPath)
        } catch {
            try? files.close(fd, path: stagedPath)
            throw error
        }
        try files.close(fd, path: stagedPath)
    }

    /// Renames the staged file into the inbox; durable once `syncDirectories` returns.
    func moveIntoInbox() throws {
        try files.rename(stagedPath, to: publishedPath)
    }

    /// fsyncs the inbox and its staging directory: every rename before it is durable.
    static func syncDirectories(inbox: String, files: any StoreFileSystem) throws {
        try files.syncDirectory(inbox)
        try files.syncDirectory(inbox + "/" + stagingDirectory)
    }

    /// Removes the staged file (a refused body).
    func discard() {
        try? files.unlink(stagedPath)
    }
}

/// Unique inbox names for request bodies: `<prefix>_http-<µs since the epoch>-<pid>-<n>.<ext>`
/// (the measurement's file prefix, so the daemon reads it as that measurement), in the order
/// the requests were accepted (the time is the receipt's, the counter breaks ties).
final class InboxNames: Sendable {
    private let counter = Atomic<UInt64>(0)
    private let pid: Int32

    init(pid: Int32) { self.pid = pid }

    func next(prefix: String, receivedMicros: Int64, ext: String) -> String {
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let joint = prefix.isEmpty || prefix.hasSuffix("_") ? "" : "_"
        return "\(prefix)\(joint)http-\(receivedMicros)-\(pid)-\(n).\(ext)"
    }
}
