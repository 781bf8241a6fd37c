import TachoJSON
#if canImport(Glibc)
import Glibc
#endif

/// Writes what was rejected beside the rejected input (SEMANTICS §3): `<name>.error` for a file
/// that cannot be parsed (line:column and the problem), `<name>.rejects.ndjson` for records
/// that failed validation (one JSON object per record with its reason). Files are written
/// to a temp name, fsynced and renamed, so a crash never leaves half a report.
public struct RejectFiles: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func errorPath(for input: String) -> String { directory + "/" + baseName(input) + ".error" }
    public func rejectsPath(for input: String) -> String { directory + "/" + baseName(input) + ".rejects.ndjson" }

    public func writeFileError(for input: String, _ e: FileError) throws {
        var text = "file: \(baseName(input))\n"
        if let l = e.line, let c = e.column {
            text += "line: \(l)\ncolumn: \(c)\n"
        }
        if let o = e.offset { text += "offset: \(o)\n" }
        text += "error: \(e.message)\n"
        try write(errorPath(for: input), text)
    }

    public func writeRecordRejects(for input: String, _ rejects: [RecordReject]) throws {
        guard !rejects.isEmpty else { return }
        var text = ""
        for r in rejects {
            let field = r.field.map(jsonQuoted) ?? "null"
            text += "{\"index\":\(r.index),\"line\":\(r.line),\"column\":\(r.column),\"measurement\":\(jsonQuoted(r.measurement)),\"field\":\(field),\"reason\":\(jsonQuoted(r.reason)),\"record\":\(r.record)}\n"
        }
        try write(rejectsPath(for: input), text)
    }

    /// The temp name a report is written under: a dot-file (no listing of rejected/ shows a
    /// half-written report), removed by `removeStaleTemporaries` if a crash left it.
    func temporaryPath(for path: String) -> String { directory + "/." + baseName(path) + ".tmp" }

    /// Deletes report temp files a killed process left behind (the daemon calls it at start,
    /// when no report is being written).
    public func removeStaleTemporaries() {
        guard let d = opendir(directory) else { return }
        var stale: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix("."), name.hasSuffix(".error.tmp") || name.hasSuffix(".rejects.ndjson.tmp") {
                stale.append(directory + "/" + name)
            }
        }
        closedir(d)
        for p in stale { unlink(p) }
    }

    private func write(_ path: String, _ text: String) throws {
        _ = mkdir(directory, 0o750)
        let tmp = temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw FileError(path: tmp, message: "create: \(String(cString: strerror(errno)))") }
        var bytes = Array(text.utf8)
        var ok = true
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                ok = false
                break
            }
            done += n
        }
        bytes.removeAll()
        if ok && fsync(fd) != 0 { ok = false }
        let err = errno
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw FileError(path: path, message: "write: \(String(cString: strerror(err)))")
        }
        syncDirectory(directory)
    }
}

func baseName(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}

func syncDirectory(_ dir: String) {
    let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
}
