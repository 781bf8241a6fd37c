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

    /// `record` is the element as the input file holds it (line breaks and the indentation
    /// after them dropped, so it stays one NDJSON line), every field kept, also the one that
    /// was wrong; when the file cannot be read back (or the bytes are not that JSON object,
    /// e.g. after --lenient repaired them), the fields the reader kept.
    public func writeRecordRejects(for input: String, _ rejects: [RecordReject]) throws {
        guard !rejects.isEmpty else { return }
        let original = OriginalRecords(path: input, fs: fs)
        defer { original.close() }
        var text = ""
        for r in rejects {
            let field = r.field.map(jsonQuoted) ?? "null"
            let record = r.bytes.flatMap { original.object(at: $0) } ?? r.record
            text += "{\"index\":\(r.index),\"line\":\(r.line),\"column\":\(r.column),\"measurement\":\(jsonQuoted(r.measurement)),\"field\":\(field),\"reason\":\(jsonQuoted(r.reason)),\"record\":\(record)}\n"
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

/// Rejected elements read back from the input file by their byte ranges.
struct OriginalRecords {
    let fd: FileDescriptor?
    let path: String
    let fs: any StoreFileSystem

    init(path: String, fs: any StoreFileSystem) {
        self.path = path
        self.fs = fs
        fd = try? fs.openForReading(path)
    }

    /// The JSON object at `range` on one line, or nil when it cannot be read or is not a
    /// single valid JSON object (the file changed, or was repaired in memory).
    func object(at range: Range<Int>) -> String? {
        guard let fd, range.count >= 2, range.count <= 16 << 20 else { return nil }
        var buf = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < buf.count {
            let n = (try? buf.withUnsafeMutableBytes {
                try fd.read(fromAbsoluteOffset: Int64(range.lowerBound + done), into: UnsafeMutableRawBufferPointer(rebasing: $0[done...]))
            }) ?? 0
            guard n > 0 else { return nil }
            done += n
        }
        guard buf.first == UInt8(ascii: "{"), buf.last == UInt8(ascii: "}") else { return nil }
        // One line: a line break and the indentation after it go (JSON strings hold no raw
        // line break, so no value changes).
        var line: [UInt8] = []
        line.reserveCapacity(buf.count)
        var i = 0
        while i < buf.count {
            if buf[i] == 0x0A || buf[i] == 0x0D {
                i += 1
                while i < buf.count, buf[i] == 0x20 || buf[i] == 0x09 || buf[i] == 0x0A || buf[i] == 0x0D { i += 1 }
                continue
            }
            line.append(buf[i])
            i += 1
        }
        // Exactly one valid object, nothing after it.
        let parser = JSONParser(source: BytesSource(line))
        do {
            guard try parser.next() == .beginObject else { return nil }
            try parser.skipToEndOfContainer()
            guard try parser.next() == .endOfDocument else { return nil }
        } catch {
            return nil
        }
        return String(decoding: line, as: UTF8.self)
    }

    func close() { if let fd { try? fs.close(fd, path: path) } }
}
