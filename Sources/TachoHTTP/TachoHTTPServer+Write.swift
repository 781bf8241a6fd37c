import Hummingbird
import TachoFormat
import TachoIngest
import TachoLineProtocol
import TachoOutput
import TachoSchema
import TachoStore

/// The write API (docs/HTTP.md "Writing"): a body is validated by the readers the daemon
/// reads files with, then written into the inbox as one file (`InboxFile`) before the answer:
/// a 2xx means the rows are durable in the inbox, which the daemon ingests exactly once.
/// Concurrent bodies share their fsyncs (`InboxCommitter`, a group commit). A
/// body is taken whole or not at all: any unparseable line or failing record refuses it, and
/// nothing is written.
extension TachoHTTPServer {
    func addWriteRoutes(to router: Router<TachoRequestContext>) {
        router.post("/api/v1/write/:measurement") { request, context in
            await answer { try await writeDocument(request, try context.parameters.require("measurement"), context.access) }
        }
        router.post("/write") { request, context in await answer { try await writeLines(request, context.access) } }
    }

    /// `POST /api/v1/write/{m}`: a JSON document of the measurement's input shape, or NDJSON
    /// (`Content-Type: application/x-ndjson`). 202 with the row count once the file is durable.
    func writeDocument(_ request: Request, _ name: String, _ access: Access) async throws -> Response {
        let q = QueryString(request)
        try q.check(allowed: [])
        let inbox = try writableInbox()
        guard let d = options.declarations.first(where: { $0.name == name }) else {
            let known = options.declarations.map(\.name).joined(separator: ", ")
            throw APIError(.notFound, "no measurement \"\(name)\" is declared for JSON input; declared: \(known) (line protocol goes to POST /write)")
        }
        let type = request.headers[.contentType]?.split(separator: ";").first.map { String($0).trimmingSpaces().lowercased() } ?? ""
        let ndjson = ["application/x-ndjson", "application/ndjson", "application/jsonl"].contains(type)
        let body = try await collectBody(request)
        let received = StoreClock.system.wallMicros()
        let fileName = names.next(prefix: d.files.prefixes.first ?? "", receivedMicros: received, ext: ndjson ? "ndjson" : "json")
        let (report, _) = try await onPool { [self] in try accept(body, name: fileName, expecting: d.name, access: access) }
        let file = try await committer(inbox).commit(.init(name: fileName, bytes: body, joinable: false))
        options.logger.info("write accepted", metadata: ["file": "\(file)", "rows": "\(report.rows)"])
        metrics.rowsWritten(measurement: d.name, rows: report.rows)
        let bytes = RowPrinter.encode(.ndjson, columns: ["measurement", "rows", "file"],
                                      rows: [[.text(d.name), .int(Int64(report.rows)), .text(file)]])
        return Response(status: .accepted, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `POST /write?db=…&precision=…`: InfluxDB 1.x line protocol, 204 once durable. The lines
    /// are read at the request's precision and written into the inbox at the daemon's
    /// (`[line_protocol] precision`); a line without a timestamp gets the time of receipt.
    func writeLines(_ request: Request, _ access: Access) async throws -> Response {
        let q = QueryString(request)
        // db, rp, u, p and consistency are InfluxDB's; Tacho has one store and ignores them.
        try q.check(allowed: ["db", "rp", "precision", "u", "p", "consistency"])
        let inbox = try writableInbox()
        var precision = LinePrecision.nanoseconds
        if let p = try q.single("precision") {
            guard let given = LinePrecision(name: p) else { throw APIError.badParameter("precision", "\"\(p)\": expected ns, us, ms or s") }
            precision = given
        }
        let body = try await collectBody(request)
        let received = StoreClock.system.wallMicros()
        let fileName = names.next(prefix: "", receivedMicros: received, ext: "lp")
        // The common case (Telegraf, the client libraries): the daemon's precision and a
        // timestamp on every line. The body is then validated and stored as sent — the bytes
        // validated are the bytes the daemon reads. Any refusal there (a line without a
        // timestamp among them) takes the full path, which rewrites the lines and words the
        // refusal.
        var lines = body
        var accepted: (Accepted, joinable: Bool)?
        if precision == options.lineInput.precision {
            accepted = try? await onPool { [self] in try accept(body, name: fileName, expecting: nil, access: access) }
        }
        if accepted == nil {
            lines = try normalize(body, precision: precision, receivedNanos: received &* 1000)
            guard !lines.isEmpty else { return Response(status: .noContent) }
            accepted = try await onPool { [self, lines] in try accept(lines, name: fileName, expecting: nil, access: access) }
        }
        guard let (report, joinable) = accepted else { return Response(status: .noContent) }
        let file = try await committer(inbox).commit(.init(name: fileName, bytes: lines, joinable: joinable))
        options.logger.info("write accepted", metadata: ["file": "\(file)", "rows": "\(report.rows)"])
        for (m, rows) in report.rowsByMeasurement { metrics.rowsWritten(measurement: m, rows: rows) }
        return Response(status: .noContent)
    }

    /// The inbox writes go to; 404 when this server takes no writes (`tacho serve`); 503 with
    /// Retry-After below the free-space floor.
    func writableInbox() throws(APIError) -> String {
        guard let inbox = options.inboxPath else {
            throw APIError(.notFound, "this server is read-only (no inbox); writes go to the server of `tacho run --listen`")
        }
        // The inbox is made by the first write: until then, the store's file system.
        if let floor = options.minFreeBytes, let free = options.files.freeBytes(inbox) ?? options.files.freeBytes(options.storePath), free < floor {
            var e = APIError(.serviceUnavailable, "the disk is below its free-space floor (\(free) bytes free, min_free \(floor)); try again later")
            e.headers[.retryAfter] = "60"
            throw e
        }
        return inbox
    }

    /// The request body, refused with 413 past `maxBodyBytes`.
    func collectBody(_ request: Request) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await piece in request.body {
            guard out.count + piece.readableBytes <= options.maxBodyBytes else {
                throw APIError(.contentTooLarge, "the body is larger than \(options.maxBodyBytes) bytes (maxBodyBytes); split it")
            }
            out += piece.readableBytesView
        }
        return out
    }

    /// Line protocol at `precision` → the same points at the daemon's precision, each line
    /// stamped when it has no timestamp. Any line that does not parse refuses the body (400,
    /// with the lines' line:column).
    func normalize(_ body: [UInt8], precision: LinePrecision, receivedNanos: Int64) throws(APIError) -> [UInt8] {
        let target = options.lineInput.precision
        let stamp = receivedNanos - receivedNanos % target.nanosecondsPerUnit
        let parser = LineProtocolParser(bytes: body, options: LineProtocolOptions(precision: precision))
        var writer = LineProtocolWriter(precision: target)
        var problems: [String] = []
        var count = 0
        do {
            try parser.forEach(point: { p in
                count += 1
                var r = LineRecord(p)
                if r.timestamp == nil { r.timestamp = stamp }
                do {
                    try writer.append(r)
                } catch {
                    problems.append("line \(parser.lineNumber): \(error)")
                }
            }, rejected: { e in
                problems.append("line \(e.line):\(e.column): \(e.message)")
            })
        } catch {
            throw APIError(.badRequest, "the body could not be read: \(error)")
        }
        guard problems.isEmpty else {
            var e = APIError(.badRequest, "\(problems.count) of \(parser.lineNumber) lines cannot be read; nothing was written. \(problems.prefix(20).joined(separator: "; "))")
            e.extra = [("rejected", .int(Int64(problems.count))), ("rejects", .strings(Array(problems.prefix(100))))]
            throw e
        }
        guard count <= options.maxRowsPerRequest else {
            throw APIError(.contentTooLarge, "\(count) points in one request, more than \(options.maxRowsPerRequest) (maxRowsPerRequest); split it")
        }
        return writer.bytes
    }

    /// Reads `bytes` as the daemon will read the file `name` and checks the request may write
    /// its vehicles; the body is then handed to the group commit (`InboxCommitter`). Returns
    /// what the body holds and whether it may share a file with other line-protocol bodies.
    /// Runs on the thread pool.
    func accept(_ bytes: [UInt8], name: String, expecting: String?, access: Access) throws -> (Accepted, joinable: Bool) {
        let (r, vehicles, rows, joinable) = try validate(bytes, name: name, expecting: expecting)
        try access.checkWrite(vehicles)
        return (Accepted(rows: r.rows, rowsByMeasurement: rows), joinable)
    }

    /// The group commit of `inbox` (one per server).
    func committer(_ inbox: String) throws(APIError) -> InboxCommitter {
        guard let c = inboxCommitter else { throw APIError(.notFound, "this server is read-only (no inbox)") }
        return c
    }

    /// The body read as the daemon will read it under the name `name`: its declarations (and,
    /// for line protocol, the measurements its lines would create), on the store's catalog.
    /// `joinable`: line protocol that declares nothing the catalog lacks (`InboxCommitter.Body`).
    func validate(_ bytes: [UInt8], name path: String, expecting: String?) throws -> (FileReport, vehicles: Set<String>, rows: [String: Int], joinable: Bool) {
        var catalog = Catalog.builtIn
        var options = ReaderOptions()
        if let snap = try? snapshots.open() {
            catalog = snap.catalog
            options.expiredBefore = snap.manifest.watermarks
            options.partitionWidth = snap.manifest.partitionWidth
        }
        var declarations = self.options.declarations
        var joinable = false
        if LineProtocolSchemas.isLineProtocol(path) {
            // Most bodies write measurements the store holds, with its fields: read with the
            // stored declarations, no line is rejected, and no discovery pass is needed (it
            // would declare the same). Otherwise the full path below.
            let stored = LineProtocolSchemas.storedDeclarations(
                catalog: catalog, declared: Set(declarations.map(\.name)), options: self.options.lineInput)
            if !stored.isEmpty, let fast = try? read(bytes, path: path, declarations: declarations + stored, catalog: catalog, options: options),
               fast.report.rejectCount == 0, fast.report.rows > 0, fast.report.rows <= self.options.maxRowsPerRequest {
                return (fast.report, fast.vehicles, fast.rows, true)
            }
            let discovered = LineProtocolSchemas.discover(
                bytes: bytes, declared: Set(declarations.map(\.name)), options: self.options.lineInput, catalog: catalog)
            joinable = discovered.allSatisfy { d in
                catalog.measurement(named: d.name).map { $0.columns.count == d.fields.count } ?? false
            }
            declarations += discovered
        }
        let report: FileReport
        let vehicles: Set<String>
        let rows: [String: Int]
        do {
            (report, vehicles, rows) = try read(bytes, path: path, declarations: declarations, catalog: catalog, options: options)
        } catch let e as FileError {
            let at = e.line.map { l in "line \(l)" + (e.column.map { ":\($0)" } ?? "") + ": " } ?? ""
            var a = APIError(.badRequest, "the body cannot be read: \(at)\(e.message)")
            a.extra = [("line", e.line.map { .int(Int64($0)) } ?? .null), ("column", e.column.map { .int(Int64($0)) } ?? .null)]
            throw a
        }
        if let expecting, let other = report.kinds.first(where: { $0.measurement.name != expecting }) {
            throw APIError(.badRequest, "the body holds rows of \(other.measurement.name), not \(expecting); write them to /api/v1/write/\(other.measurement.name)")
        }
        guard report.rejectCount == 0 else {
            let reasons = report.rejects.prefix(100).map { r in
                "line \(r.line):\(r.column): " + (r.field.map { "\($0): " } ?? "") + r.reason
            }
            var a = APIError(.unprocessableContent,
                             "\(report.rejectCount) of \(report.rejectCount + report.rows) records fail validation; nothing was written. \(reasons.prefix(5).joined(separator: "; "))")
            a.extra = [("rows", .int(Int64(report.rows))), ("rejected", .int(Int64(report.rejectCount))), ("rejects", .strings(reasons))]
            throw a
        }
        guard report.rows > 0 else {
            throw APIError(.badRequest, "the body holds no record" + (expecting.map { " of \($0)" } ?? ""))
        }
        guard report.rows <= self.options.maxRowsPerRequest else {
            throw APIError(.contentTooLarge, "\(report.rows) rows in one request, more than \(self.options.maxRowsPerRequest) (maxRowsPerRequest); split it")
        }
        return (report, vehicles, rows, joinable)
    }
}

extension TachoHTTPServer {
    /// `bytes` read as the file `path` with `declarations` on `catalog`: the report, the
    /// vehicles of its rows and its rows per measurement.
    func read(
        _ bytes: [UInt8], path: String, declarations: [MeasurementDeclaration], catalog: Catalog, options base: ReaderOptions
    ) throws -> (report: FileReport, vehicles: Set<String>, rows: [String: Int]) {
        var options = base
        let scope = ReadScope(catalog: catalog, declarations: declarations)
        options.layouts = try RecordLayout.layouts(declarations.filter { scope.catalog.measurement(named: $0.name) != nil }, catalog: scope.catalog)
        options.lineProtocol = self.options.lineInput
        options.files = self.options.files
        var vehicles = Set<String>()
        var rows: [String: Int] = [:]
        let report = try TelemetryReader(options: options).read(bytes: bytes, path: path) { batch in
            rows[batch.measurement.name, default: 0] += batch.count
            for i in Set(batch.vehicles) where Int(i) < batch.dictionary.count { vehicles.insert(batch.dictionary[Int(i)]) }
        }
        return (report, vehicles, rows)
    }
}

/// What a published write held: its rows, in all and per measurement (for the metrics).
struct Accepted: Sendable {
    var rows: Int
    var rowsByMeasurement: [String: Int]
}
