import SystemPackage
import TachoJSON
import TachoStore

/// Writes what was rejected beside the rejected input (SEMANTICS §3): `<name>.error` for a file
/// that cannot be parsed (line:column and the problem), `<name>.rejects.ndjson` for records
/// that failed validation (one JSON object per record with its reason). Files are written
/// to a temp name, fsynced and renamed, so a crash never leaves half a report.
public struct RejectFiles: Sendable {
    public let directory: String
    public let fs: any StoreFileSystem

    public init(directory: String, fs: any StoreFileSystem = PosixFileSystem()) {
        self.directory = directory
        self.fs = fs
    }

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
        for e in (try? fs.directoryEntries(directory)) ?? [] {
            let name = e.name
            if name.hasPrefix("."), name.hasSuffix(".error.tmp") || name.hasSuffix(".rejects.ndjson.tmp") {
                try? fs.unlink(directory + "/" + name)
            }
        }
    }

    private func write(_ path: String, _ text: String) throws {
        try? fs.createDirectory(directory)
        let tmp = temporaryPath(for: path)
        try? fs.unlink(tmp)  // left by a failed attempt: replaced whole
        let fd: FileDescriptor
        do { fd = try fs.createFile(tmp) } catch {
            throw InboxFileError(.create, path: tmp, error)
        }
        var open = true
        do {
            try Array(text.utf8).withUnsafeBytes { try fs.write(fd, $0, path: tmp) }
            try fs.sync(fd, path: tmp)
            open = false  // a failed close releases the descriptor too
            try fs.close(fd, path: tmp)
            try fs.rename(tmp, to: path)
            try fs.syncDirectory(directory)
        } catch {
            if open { try? fs.close(fd, path: tmp) }
            try? fs.unlink(tmp)
            throw InboxFileError(.write, path: path, error)
        }
    }
}

func baseName(_ path: String) -> String {
    path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}
