import Foundation
import TachoHTTP
import Testing

/// `/metrics` in Prometheus text: requests by route and status with latency histograms, rows
/// written, store bytes per measurement.
@Suite struct MetricsTests {
    @Test func metricsCountRequestsRowsAndStoreBytes() async throws {
        let store = try FixtureStore()
        let inbox = store.dir.path + "/inbox"
        let bytes = try tacho(["stats", "--store", store.path, "--format", "csv"])
        let detectionBytes = bytes.split(separator: "\n").first { $0.hasPrefix("detections,") }?.split(separator: ",")[5] ?? "?"
        try await withServer(store.path, configure: { $0.inboxPath = inbox }) { port in
            for _ in 0..<3 { _ = try await get(port, "/api/v1/query/detections?format=csv") }
            _ = try await get(port, "/api/v1/query/nosuch")
            _ = try await request(port, "/api/v1/write/detections", method: .POST, body: WriteAPITests.detections)
            _ = try await request(port, "/write", method: .POST, body: Array("battery,vehicle_id=v1 soc=1 1\nbattery,vehicle_id=v2 soc=2 2\n".utf8))
            let m = try await get(port, "/metrics")
            #expect(m.status == 200)
            #expect(m.headers["Content-Type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = m.body
            #expect(text.contains(#"tacho_http_requests_total{route="/api/v1/query/{measurement}",method="GET",status="200"} 3"#), "\(text)")
            #expect(text.contains(#"tacho_http_requests_total{route="/api/v1/query/{measurement}",method="GET",status="404"} 1"#), "\(text)")
            #expect(text.contains(#"tacho_http_requests_total{route="/api/v1/write/{measurement}",method="POST",status="202"} 1"#), "\(text)")
            #expect(text.contains(#"tacho_http_request_duration_seconds_count{route="/api/v1/query/{measurement}",method="GET"} 4"#), "\(text)")
            #expect(text.contains(#"tacho_http_request_duration_seconds_bucket{route="/api/v1/query/{measurement}",method="GET",le="+Inf"} 4"#), "\(text)")
            #expect(text.contains(#"tacho_http_rows_ingested_total{measurement="detections"} 2"#), "\(text)")
            #expect(text.contains(#"tacho_http_rows_ingested_total{measurement="battery"} 2"#), "\(text)")
            #expect(text.contains(#"tacho_store_bytes{measurement="detections"} \#(detectionBytes)"#), "\(text)")
        }
    }
}
