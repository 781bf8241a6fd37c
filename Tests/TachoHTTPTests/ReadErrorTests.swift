import Foundation
import TachoHTTP
import Testing

/// Refusals of the read API: status, the JSON error object, the parameter it names and what
/// it says was expected.
@Suite struct ReadErrorTests {
    /// (request, status, parameter or nil, a part of the message)
    static let refusals: [(String, Int, String?, String)] = [
        ("/api/v1/query/detections?from=yesterday", 400, "from", "is not a time; use an RFC 3339 time"),
        ("/api/v1/query/detections?from=2022-06-06&to=2022-06-05", 400, "from", "must be before to"),
        ("/api/v1/query/detections?limit=-1", 400, "limit", "expected a row count of 0 or more"),
        ("/api/v1/query/detections?vehicel=x", 400, "vehicel", "unknown parameter; this endpoint takes 'vehicle'"),
        ("/api/v1/query/detections?where=value", 400, "where", "expected COLUMN OP VALUE"),
        ("/api/v1/query/detections?where=speed%3E3", 400, "where", "has no column \"speed\""),
        ("/api/v1/query/detections?format=xml", 400, "format", "expected json, ndjson or csv"),
        ("/api/v1/query/detections?limit=1&limit=2", 400, "limit", "given 2 times; expected once"),
        ("/api/v1/query/nosuch", 404, nil, "unknown measurement \"nosuch\"; known measurements: detections, status"),
        ("/api/v1/latest/nosuch", 404, nil, "unknown measurement"),
        ("/api/v1/agg/detections?fn=sum", 400, "every", "missing; expected a bucket width"),
        ("/api/v1/agg/detections?every=0s&fn=sum", 400, "every", "expected a duration from 1s to 366d"),
        ("/api/v1/agg/detections?every=15m", 400, "fn", "missing; expected one of count, sum"),
        ("/api/v1/agg/detections?every=15m&fn=median", 400, "fn", "\"median\": expected one of count, sum"),
        ("/api/v1/agg/detections?every=15m&fn=sum&by=colour", 400, "by", "has no column \"colour\""),
        ("/api/v1/agg/detections?every=15m&fn=sum&fill=1", 400, "fill", "expected one of none, 0, previous"),
        ("/api/v1/vehicles?measurement=nosuch", 404, nil, "unknown measurement"),
        ("/api/v1/stats?measurement=", 400, "measurement", "empty; expected a value"),
    ]

    @Test func refusalsNameTheParameterAndWhatWasExpected() async throws {
        let store = try FixtureStore()
        try await withServer(store.path) { port in
            for (path, status, parameter, message) in Self.refusals {
                let a = try await get(port, path)
                #expect(a.status == status, "\(path): \(a.body)")
                #expect(a.headers["Content-Type"].first == "application/json", "\(path)")
                let object = try JSONSerialization.jsonObject(with: Data(a.body.utf8)) as? [String: Any]
                #expect((object?["parameter"] as? String) == parameter, "\(path): \(a.body)")
                #expect((object?["error"] as? String)?.contains(message) == true, "\(path): \(a.body)")
            }
        }
    }

    @Test func anUnknownRouteIs404() async throws {
        let store = try FixtureStore()
        try await withServer(store.path) { port in
            let a = try await get(port, "/api/v1/nothing")
            #expect(a.status == 404)
        }
    }
}
