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

    /// `record` is the element as the input file holds it (line breaks and the indentation
    /// after them dropped, so it stays one NDJSON line), every field kept, also the one that
    /// was wrong; when the file cannot be read back (or the bytes are not that JSON object,
    /// e.g. after --lenient repaired them), the fields the reader kept.
    public func writeRecordRejects(for input: String, _ rejects: [RecordReject]) throws {
        guard !rejects.isEmpty else { return }
        let original = OriginalRecords(path: input)
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

/// Rejected elements read back from the input file by their byte ranges.
struct OriginalRecords {
    let fd: Int32

    init(path: String) { fd = open(path, O_RDONLY | O_CLOEXEC) }

    /// The JSON object at `range` on one line, or nil when it cannot be read or is not a
    /// single valid JSON object (the file changed, or was repaired in memory).
    func object(at range: Range<Int>) -> String? {
        guard fd >= 0, range.count >= 2, range.count <= 16 << 20 else { return nil }
        var buf = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < buf.count {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(range.lowerBound + done)) }
            if n < 0 && errno == EINTR { continue }
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

    func close() { if fd >= 0 { Glibc.close(fd) } }
}
