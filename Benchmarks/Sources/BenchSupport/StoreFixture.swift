import Foundation
import Logging
import TachoIngest
import TachoStore

/// A store ingested from the standard data set, cached under the bench work directory and
/// keyed by this executable's size and mtime (a rebuilt library may write another format).
public enum StoreFixture {
    public static func standard() throws -> String {
        let data = try DataSet.standard()
        var st = stat()
        let key = stat("/proc/self/exe", &st) == 0 ? "\(st.st_size)-\(st.st_mtim.tv_sec)" : "\(getpid())"
        let dir = Bench.workDir + "/store-cache-" + key
        if FileManager.default.fileExists(atPath: dir + "/.bench-complete") { return dir }
        // Drop stores of older builds.
        for old in (try? FileManager.default.contentsOfDirectory(atPath: Bench.workDir)) ?? [] where old.hasPrefix("store-cache-") {
            try? FileManager.default.removeItem(atPath: Bench.workDir + "/" + old)
        }
        try ingest(data.files, into: dir)
        _ = FileManager.default.createFile(atPath: dir + "/.bench-complete", contents: Data())
        return dir
    }

    /// Ingests `files` into the store at `dir` in-process; throws if any file is rejected.
    @discardableResult
    public static func ingest(_ files: [String], into dir: String) throws -> Int {
        var logger = Logger(label: "tacho.bench")
        logger.logLevel = .warning
        var options = StoreOptions()
        options.logger = logger
        let writer = try StoreWriter(path: dir, options: options)
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
}
