import Dispatch
import Hummingbird
import Metrics
import Prometheus
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
        Counter(label: "tacho_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))],
                factory: factory).increment()
        Metrics.Timer(label: "tacho_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
                      factory: factory).recordNanoseconds(Int64(clamping: nanoseconds))
    }

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
    /// `/metrics`: the store's bytes per measurement as of now, then every series.
    func metricsText() async throws -> Response {
        let snapshots = self.snapshots
        let bytes = try await onPool { () -> [(measurement: String, bytes: UInt64)] in
            guard let snap = try? snapshots.open() else { return [] }
            return try StoreStats.compute(on: snap).measurements.map { ($0.name, $0.segmentBytes) }
        }
        metrics.storeBytes(bytes)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.text())))
    }
}
