import Foundation
import Logging
import TachoIngest
import TachoStore

/// How the standard data set is put into a store.
public enum StoreShape: String, Sendable, CaseIterable {
    /// `tacho ingest` style: one commit per input file, so 40 small segments per partition
    /// (≈ 300 rows per vehicle chunk). What a store looks like before compaction.
    case perFile = "per-file commits"
    /// Every file's rows in one transaction: few large segments with full 8192-row chunks,
    /// about what compaction of the per-file store would produce.
    case oneCommit = "one commit"
}

/// A store built from the standard data set, cached under the bench work directory and
/// keyed by this executable's size and mtime (a rebuilt library may write another format).
public enum StoreFixture {
    public static func standard(_ shape: StoreShape = .perFile) throws -> String {
        let data = try DataSet.standard()
        var st = stat()
        let key = stat("/proc/self/exe", &st) == 0 ? "\(st.st_size)-\(st.st_mtim.tv_sec)" : "\(getpid())"
        let prefix = "store-cache-\(shape == .perFile ? "perfile" : "onecommit")-"
        let dir = Bench.workDir + "/" + prefix + key
        if FileManager.default.fileExists(atPath: dir + "/.bench-complete") { return dir }
        // Drop stores of older builds.
        for old in (try? FileManager.default.contentsOfDirectory(atPath: Bench.workDir)) ?? []
        where old.hasPrefix("store-cache-") && !old.hasSuffix("-" + key) {
            try? FileManager.default.removeItem(atPath: Bench.workDir + "/" + old)
        }
        switch shape {
        case .perFile: try ingest(data.files, into: dir)
        case .oneCommit: try ingestOneCommit(data.files, into: dir)
        }
        _ = FileManager.default.createFile(atPath: dir + "/.bench-complete", contents: Data())
        return dir
    }

    /// Ingests `files` into the store at `dir` in-process; throws if any file is rejected.
    @discardableResult
    public static func ingest(_ files: [String], into dir: String) throws -> Int {
        let (writer, logger) = try openWriter(dir)
        defer { writer.close() }
        let ingestor = Ingestor(writer: writer, logger: logger)
        var rows = 0
        for f in files {
            let r = try ingestor.ingest(path: f)
            if case .rejected(let e) = r.outcome { throw Bench.fail("ingest \(f): \(e)") }
            rows += r.rows
        }
        return rows
    }

    /// Reads every file and commits all their rows at once (no ledger entries).
    @discardableResult
    public static func ingestOneCommit(_ files: [String], into dir: String) throws -> Int {
        let (writer, _) = try openWriter(dir)
        defer { writer.close() }
        let reader = TelemetryReader()
        var rows = 0
        for f in files {
            let r = try reader.read(path: f) { try writer.append($0) }
            guard r.rejectCount == 0 else { throw Bench.fail("ingest \(f): \(r.rejectCount) rejects") }
            rows += r.rows
        }
        _ = try writer.commit()
        return rows
    }

    /// A writer on `dir` that logs warnings and worse, and its logger.
    static func openWriter(_ dir: String) throws -> (StoreWriter, Logger) {
        var logger = Logger(label: "tacho.bench")
        logger.logLevel = .warning
        var options = StoreOptions()
        options.logger = logger
        return (try StoreWriter(path: dir, options: options), logger)
    }
}
