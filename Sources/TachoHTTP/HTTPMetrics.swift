import Dispatch
import Synchronization
import Hummingbird
import Metrics
import Prometheus
import TachoIngest
import TachoQuery

/// The server's metrics in a registry of its own (no process-wide bootstrap: a library does
/// not claim the global `MetricsSystem`), recorded through swift-metrics' API with
/// swift-prometheus as the factory, and printed by `/metrics` in Prometheus text format
/// (docs/HTTP.md "Metrics").
final class HTTPMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory

    init() {
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500),
                                             .seconds(2), .seconds(10)]
        factory = f
    }

    /// One answered request: counted by route, method and status; its time (until the last
    /// byte of the body was written) in the route's histogram.
    func request(route: String, method: String, status: Int, nanoseconds: UInt64) {
        let key = RouteKey(route: route, method: method, status: status)
        let handles = routes.withLock { $0[key] } ?? {
            let h = RouteHandles(
                count: Metrics.Counter(label: "tacho_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))],
                               factory: factory),
                time: Metrics.Timer(label: "tacho_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
                                    factory: factory))
            routes.withLock { $0[key] = h }
            return h
        }()
        handles.count.increment()
        handles.time.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// The series of one route, method and status, made once (making one looks it up in the
    /// registry by label and dimensions: most of a small request's bookkeeping).
    private struct RouteKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }
    private struct RouteHandles: @unchecked Sendable {
        // swift-metrics' handles are thread-safe classes (not marked Sendable).
        let count: Metrics.Counter
        let time: Metrics.Timer
    }
    private let routes = Mutex<[RouteKey: RouteHandles]>([:])

    /// Rows accepted by a write (durable in the inbox).
    func rowsWritten(measurement: String, rows: Int) {
        Counter(label: "tacho_http_rows_ingested_total", dimensions: [("measurement", measurement)], factory: factory).increment(by: rows)
    }

    /// The bytes of each measurement's segment files, as of the scrape.
    func storeBytes(_ bytes: [(measurement: String, bytes: UInt64)]) {
        for b in bytes {
            Gauge(label: "tacho_store_bytes", dimensions: [("measurement", b.measurement)], factory: factory).record(Double(b.bytes))
        }
    }

    func text() -> [UInt8] { registry.emitToBuffer() }
}

/// Counts every request by its route pattern (`/api/v1/query/{measurement}`, not the path: one
/// series per route, whatever the measurement names): a streamed answer once its body was
/// written, an answer in memory when it is handed to hummingbird.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = TachoRequestContext
    let metrics: HTTPMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let method = request.method.rawValue
        var response = try await next(request, context)
        let status = Int(response.status.code)
        let route = context.endpointPath ?? "unmatched"
        let metrics = self.metrics
        let body = response.body
        guard body.contentLength == nil else {
            // A body already in memory: recorded now, and hummingbird keeps its one-write path.
            metrics.request(route: route, method: method, status: status, nanoseconds: DispatchTime.now().uptimeNanoseconds &- start)
            return response
        }
        response.body = ResponseBody { writer in
            // The body's own closure writes and finishes through this writer.
            try await body.write(writer)
            metrics.request(route: route, method: method, status: status, nanoseconds: DispatchTime.now().uptimeNanoseconds &- start)
        }
        return response
    }
}

extension TachoHTTPServer {
    /// `/metrics`: the store's bytes per measurement as of now, then every series; inside
    /// `tacho run`, then the daemon's.
    func metricsText() async throws -> Response {
        let snapshots = self.snapshots
        let bytes = try await onPool { () -> [(measurement: String, bytes: UInt64)] in
            guard let snap = try? snapshots.open() else { return [] }
            return try StoreStats.compute(on: snap).measurements.map { ($0.name, $0.segmentBytes) }
        }
        metrics.storeBytes(bytes)
        var text = metrics.text()
        if let counters = options.ingestCounters {
            let options = self.options
            text += try await onPool { DaemonMetrics.text(counters.snapshot(), backlog: DaemonMetrics.backlog(options), free: options.files.freeBytes(options.storePath)) }
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }
}

/// The daemon's series (`tacho run --listen`), printed from its counters at each scrape in
/// Prometheus text format (they are totals already: nothing to accumulate).
enum DaemonMetrics {
    /// Files waiting in the inbox, claimed ones included; nil without an inbox.
    static func backlog(_ options: HTTPServerOptions) -> Int? {
        guard let inbox = options.inboxPath else { return nil }
        func files(_ dir: String) -> Int {
            ((try? InputFiles.list(dir, fs: options.files)) ?? []).reduce(0) { n, e in
                if case .file = e { return n + 1 }
                return n
            }
        }
        return files(inbox) + files(inbox + "/.tacho-claimed")
    }

    static func text(_ s: IngestStats, backlog: Int?, free: UInt64?) -> [UInt8] {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func label(_ v: String) -> String {
            var o = ""
            for c in v {
                switch c {
                case "\\": o += "\\\\"
                case "\"": o += "\\\""
                case "\n": o += "\\n"
                default: o.append(c)
                }
            }
            return o
        }
        let by = s.byMeasurement.sorted { $0.key < $1.key }
        family("tacho_ingest_files_total", "counter", "Inbox files whose rows are durable in the store, by measurement (*: a file holding several).")
        for (m, c) in by { out += "tacho_ingest_files_total{measurement=\"\(label(m))\"} \(c.files)\n" }
        family("tacho_ingest_rows_total", "counter", "Rows of those files, by measurement.")
        for (m, c) in by { out += "tacho_ingest_rows_total{measurement=\"\(label(m))\"} \(c.rows)\n" }
        family("tacho_ingest_rejected_records_total", "counter", "Records of ingested files that failed validation (rejected/<name>.rejects.ndjson), by measurement.")
        for (m, c) in by { out += "tacho_ingest_rejected_records_total{measurement=\"\(label(m))\"} \(c.rejectedRecords)\n" }
        family("tacho_ingest_rejected_files_total", "counter", "Files that went to rejected/ whole.")
        out += "tacho_ingest_rejected_files_total \(s.rejectedFiles)\n"
        family("tacho_ingest_redeliveries_skipped_total", "counter", "Re-delivered files skipped (their content was ingested before).")
        out += "tacho_ingest_redeliveries_skipped_total \(s.redeliveriesSkipped)\n"
        family("tacho_ingest_commit_duration_seconds", "histogram", "Commits of ingested files, from parsed rows to durable.")
        var cumulative = 0
        for (i, bound) in LatencyHistogram.bounds.enumerated() {
            cumulative += s.commitSeconds.counts[i]
            out += "tacho_ingest_commit_duration_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        out += "tacho_ingest_commit_duration_seconds_bucket{le=\"+Inf\"} \(s.commitSeconds.count)\n"
        out += "tacho_ingest_commit_duration_seconds_sum \(s.commitSeconds.sum)\n"
        out += "tacho_ingest_commit_duration_seconds_count \(s.commitSeconds.count)\n"
        family("tacho_compaction_runs_total", "counter", "Scheduled compactions of tacho run, by result (ok: published; failed: the store is unchanged).")
        out += "tacho_compaction_runs_total{result=\"ok\"} \(s.compactions.runs)\n"
        out += "tacho_compaction_runs_total{result=\"failed\"} \(s.compactions.failures)\n"
        family("tacho_compaction_seconds_total", "counter", "Time the published compactions took.")
        out += "tacho_compaction_seconds_total \(s.compactions.seconds)\n"
        family("tacho_compaction_input_bytes_total", "counter", "Segment bytes the published compactions rewrote.")
        out += "tacho_compaction_input_bytes_total \(s.compactions.bytesIn)\n"
        family("tacho_compaction_output_bytes_total", "counter", "Segment bytes the published compactions wrote in their place.")
        out += "tacho_compaction_output_bytes_total \(s.compactions.bytesOut)\n"
        if let backlog {
            family("tacho_inbox_backlog_files", "gauge", "Files waiting in the inbox (claimed ones included).")
            out += "tacho_inbox_backlog_files \(backlog)\n"
        }
        if let free {
            family("tacho_disk_free_bytes", "gauge", "Free bytes of the store's file system (for an unprivileged user).")
            out += "tacho_disk_free_bytes \(free)\n"
        }
        return Array(out.utf8)
    }
}
