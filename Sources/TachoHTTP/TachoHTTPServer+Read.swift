import Hummingbird
import Synchronization
import TachoFormat
import TachoOutput
import TachoQuery
import TachoStore

/// The read API (docs/HTTP.md "Reading"): the CLI's read commands with its parameters and
/// its columns, printed by TachoOutput. `query` streams its rows; the others are small
/// (one row per vehicle, bucket or measurement) and answered whole.
extension TachoHTTPServer {
    static let rangeParameters = ["vehicle", "from", "to", "where", "type", "status", ResponseFormat.parameter]

    func addReadRoutes(to router: Router<TachoRequestContext>) {
        router.get("/api/v1/measurements") { request, _ in await answer { try await measurements(request) } }
        router.get("/api/v1/query/:measurement") { request, context in
            await answer { try await query(request, try context.parameters.require("measurement"), context.access) }
        }
        router.get("/api/v1/latest/:measurement") { request, context in
            await answer { try await latest(request, try context.parameters.require("measurement"), context.access) }
        }
        router.get("/api/v1/agg/:measurement") { request, context in
            await answer { try await aggregate(request, try context.parameters.require("measurement"), context.access) }
        }
        router.get("/api/v1/vehicles") { request, context in
            await answer {
                try context.access.requireFleet("/api/v1/vehicles")
                return try await vehicles(request)
            }
        }
        router.get("/api/v1/stats") { request, context in
            await answer {
                try context.access.requireFleet("/api/v1/stats")
                return try await stats(request)
            }
        }
    }

    /// `body`'s response, or its error as the JSON error object (`APIError`).
    func answer(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch {
            let e = APIError.from(error)
            if e.status.code >= 500 { options.logger.error("request failed", metadata: ["error": "\(e.message)"]) }
            return e.response
        }
    }

    /// `tacho measurements`: name,id,columns,identity,rows.
    func measurements(_ request: Request) async throws -> Response {
        let q = QueryString(request)
        try q.check(allowed: [ResponseFormat.parameter])
        let format = try ResponseFormat.negotiate(request, q)
        let declarations = options.declarations
        let bytes = try await onPool { [snapshots] in
            let snap = try snapshots.open()
            let scope = ReadScope(snap, declarations: declarations)
            let all = MeasurementLookup.all(in: scope.catalog)
            var rows: [[Cell]] = []
            for m in all.filter({ !scope.declaredOnly.contains($0.name) }) + all.filter({ scope.declaredOnly.contains($0.name) }) {
                let stored = !scope.declaredOnly.contains(m.name)
                rows.append([.text(m.name), stored ? .int(Int64(m.id)) : .null, .strings(m.columns.map { "\($0.name):\($0.type)" }),
                             .strings(MeasurementLookup.identity(of: m)),
                             .int(stored ? Int64(try VehicleSummary.rowCount(of: m, on: snap)) : 0)])
            }
            return RowPrinter.encode(format, columns: ["name", "id", "columns", "identity", "rows"], rows: rows)
        }
        return ok(bytes, format)
    }

    /// `tacho query M`: vehicle_id,time,<columns…>, streamed.
    func query(_ request: Request, _ name: String, _ access: Access) async throws -> Response {
        let q = QueryString(request)
        try q.check(allowed: Self.rangeParameters + ["limit"])
        let format = try ResponseFormat.negotiate(request, q)
        let (from, to) = try range(q)
        let limit = try q.count("limit")
        let cap = options.maxResultRows
        if let limit, limit > cap { throw APIError.badParameter("limit", "\(limit): expected at most \(cap) rows (maxResultRows)") }
        let declarations = options.declarations
        let stream = try await onPool { [snapshots] in
            let snap = try snapshots.open()
            let scope = ReadScope(snap, declarations: declarations)
            let m = try scope.measurement(name)
            let f = try RowFilters(q, of: m, in: scope)
            let rq = RangeQuery(m, vehicles: try access.scope(f.vehicles), from: from, to: to, filters: f.filters, limit: limit ?? (cap + 1))
            do {
                return try RowStream(rq, on: snap, format: format, cap: limit == nil ? cap : nil)
            } catch let e as QueryError {
                // The filters are what the cursor checks against the measurement's columns.
                throw APIError.from(e, parameter: "where")
            }
        }
        return Response(status: .ok, headers: [.contentType: ResponseFormat.contentType(format)], body: stream.body(pool: pool))
    }

    /// `tacho latest M`: each vehicle's newest row (as of `at`); for status, `tacho latest`
    /// (vehicle_id,time,status from the latest index).
    func latest(_ request: Request, _ name: String, _ access: Access) async throws -> Response {
        let q = QueryString(request)
        try q.check(allowed: ["vehicle", "at", ResponseFormat.parameter])
        let format = try ResponseFormat.negotiate(request, q)
        let at = try q.time("at", now: StoreClock.system.wallMicros())
        let vehicles = q.list("vehicle")
        let wanted = try access.scope(vehicles.isEmpty ? nil : Set(bytesOf: vehicles))
        let declarations = options.declarations
        let key = LatestAnswers.Key(measurement: name, format: format, vehicles: wanted.map { $0.sorted() })
        if let snap = snapshots.current(), let bytes = latestAnswers.kept(on: snap, key, at: at) { return ok(bytes, format) }
        let bytes = try await onPool { [snapshots, latestAnswers] in
            let snap = try snapshots.open()
            return try latestAnswers.answer(on: snap, key, at: at) {
                let m = try ReadScope(snap, declarations: declarations).measurement(name)
                if m.id == Measurement.status.id && m.name == Measurement.status.name {
                    let rows = try LatestQuery(vehicles: wanted, at: at).run(on: snap)
                    return RowPrinter.encode(format, columns: QueryRows.statusColumns, rows: rows.map(QueryRows.cells))
                }
                let rows = try LatestRowQuery(m, vehicles: wanted, at: at).run(on: snap)
                return RowPrinter.encode(format, columns: QueryRows.columns(of: m), rows: rows.map(QueryRows.cells))
            }
        }
        return ok(bytes, format)
    }

    /// `tacho agg M`: bucket,[vehicle_id,][group columns,]value.
    func aggregate(_ request: Request, _ name: String, _ access: Access) async throws -> Response {
        let q = QueryString(request)
        try q.check(allowed: Self.rangeParameters + ["every", "fn", "field", "by", "label", "fill"])
        let format = try ResponseFormat.negotiate(request, q)
        let (from, to) = try range(q)
        guard let everyText = try q.single("every") else {
            throw APIError.badParameter("every", "missing; expected a bucket width from 1s to 366d, like 15m or 1h")
        }
        guard let every = ArgumentSyntax.durationMicros(everyText), AggregateQuery.bucketWidthRange.contains(every) else {
            throw APIError.badParameter("every", "\"\(everyText)\": expected a duration from 1s to 366d, like 15m or 1h")
        }
        guard let fn = try q.choice("fn", AggregateFunction.self) else {
            throw APIError.badParameter("fn", "missing; expected one of \(AggregateFunction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let field = try q.single("field")
        let label = try q.choice("label", BucketLabel.self) ?? .left
        let fill = try q.choice("fill", FillMode.self) ?? FillMode.none
        let by = q.list("by")
        let groupBy = by.isEmpty && fn == .energy ? ["vehicle"] : by
        let declarations = options.declarations
        let bytes = try await onPool { [snapshots] in
            let snap = try snapshots.open()
            let scope = ReadScope(snap, declarations: declarations)
            let m = try scope.measurement(name)
            let columns: [String]
            do {
                columns = try QueryRows.aggregateColumns(of: m, groupBy: groupBy)
            } catch {
                throw APIError.from(error, parameter: "by")
            }
            if let field {
                do {
                    _ = try MeasurementLookup.column(field, of: m)
                } catch {
                    throw APIError.from(error, parameter: "field")
                }
            }
            let f = try RowFilters(q, of: m, in: scope)
            let aq = AggregateQuery(m, fn, field: field, every: every, groupBy: groupBy, vehicles: try access.scope(f.vehicles),
                                    from: from, to: to, filters: f.filters, label: label, fill: fill)
            let rows = try aq.run(on: snap)
            return encode(format, columns: columns) { $0.printAggregates(rows) }
        }
        return ok(bytes, format)
    }

    /// `tacho vehicles [--measurement M]`.
    func vehicles(_ request: Request) async throws -> Response {
        let q = QueryString(request)
        try q.check(allowed: ["measurement", ResponseFormat.parameter])
        let format = try ResponseFormat.negotiate(request, q)
        let name = try q.single("measurement")
        let declarations = options.declarations
        let bytes = try await onPool { [snapshots] in
            let snap = try snapshots.open()
            let m = try name.map { try ReadScope(snap, declarations: declarations).measurement($0) }
            let t = try SummaryTable.vehicles(on: snap, measurement: m)
            return RowPrinter.encode(format, columns: t.columns, rows: t.rows)
        }
        return ok(bytes, format)
    }

    /// `tacho stats [--measurement M]`: per measurement and in total.
    func stats(_ request: Request) async throws -> Response {
        let q = QueryString(request)
        try q.check(allowed: ["measurement", ResponseFormat.parameter])
        let format = try ResponseFormat.negotiate(request, q)
        let name = try q.single("measurement")
        let declarations = options.declarations
        let bytes = try await onPool { [snapshots] in
            let snap = try snapshots.open()
            let only = try name.map { try ReadScope(snap, declarations: declarations).measurement($0) }
            let t = try SummaryTable.stats(on: snap, measurement: only)
            return RowPrinter.encode(format, columns: t.columns, rows: t.rows)
        }
        return ok(bytes, format)
    }

    /// `from` and `to` (µs; open ends as the CLI's), refused unless from < to.
    func range(_ q: QueryString) throws(APIError) -> (from: Int64, to: Int64) {
        let now = StoreClock.system.wallMicros()
        let from = try q.time("from", now: now) ?? .min
        let to = try q.time("to", now: now) ?? .max
        guard from < to else { throw APIError.badParameter("from", "must be before to (the range is [from, to))") }
        return (from, to)
    }

    func ok(_ bytes: [UInt8], _ format: OutputFormat) -> Response {
        Response(status: .ok, headers: [.contentType: ResponseFormat.contentType(format)], body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// Rows printed by one `RowPrinter` into one buffer (for answers that are not streamed).
func encode(_ format: OutputFormat, columns: [String], _ fill: (inout RowPrinter) throws -> Void) rethrows -> [UInt8] {
    let collected = Collected()
    var printer = RowPrinter(format, columns: columns) { collected.bytes += $0 }
    try fill(&printer)
    printer.finish()
    return collected.bytes
}

private final class Collected {
    var bytes: [UInt8] = []
}

extension APIError {
    var response: Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Answers of `GET /api/v1/latest/{m}` kept for the snapshot they were read from (the one
/// `SnapshotSource` hands every request until the next commit): a dashboard polling the fleet's
/// latest status costs one query per commit, not one per request. An answer is kept and reused
/// only without `at` or when `at` is at or after every row of the snapshot: "each vehicle's
/// newest row at or before `at`" is then the same for any such `at`.
final class LatestAnswers: Sendable {
    struct Key: Hashable, Sendable {
        var measurement: String
        var format: OutputFormat
        /// The vehicles asked for (sorted), nil for all.
        var vehicles: [ByteString]?
    }

    private struct Entry {
        let snapshot: Snapshot
        /// The newest row time of the snapshot's segments.
        let newest: Int64
        var answers: [Key: [UInt8]] = [:]
    }

    /// The most answers kept for one snapshot (distinct measurement, format, vehicles).
    static let capacity = 64
    private let state = Mutex<Entry?>(nil)

    /// The answer kept for `key` on `snap`, if any and if `at` allows it.
    func kept(on snap: Snapshot, _ key: Key, at: Int64?) -> [UInt8]? {
        state.withLock { e in
            guard let e, e.snapshot === snap, at.map({ $0 >= e.newest }) ?? true else { return nil }
            return e.answers[key]
        }
    }

    func answer(on snap: Snapshot, _ key: Key, at: Int64?, compute: () throws -> [UInt8]) throws -> [UInt8] {
        let newest: Int64 = state.withLock { e in
            if let e, e.snapshot === snap { return e.newest }
            return snap.manifest.segments.reduce(Int64.min) { max($0, $1.maxTime) }
        }
        let reusable = at.map { $0 >= newest } ?? true
        if reusable, let hit = state.withLock({ e in e?.snapshot === snap ? e?.answers[key] : nil }) { return hit }
        let bytes = try compute()
        guard reusable else { return bytes }
        state.withLock { e in
            if e == nil || e?.snapshot !== snap { e = Entry(snapshot: snap, newest: newest) }
            if let n = e?.answers.count, n < Self.capacity { e?.answers[key] = bytes }
        }
        return bytes
    }
}
