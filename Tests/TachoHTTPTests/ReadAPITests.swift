import Foundation
import TachoFormat
import TachoHTTP
import TachoOutput
import TachoQuery
import TachoStore
import TachoTestSupport
import TachoTime
import Testing

/// The read API against `tacho`'s own answers on the same store: the same parameters give the
/// same bytes, in every format.
@Suite struct ReadAPITests {
    static let vehicle = "ebab5f787798416fb2b8afc1340d7a4e"

    /// (HTTP path and query, the same request as `tacho` arguments)
    static let sameQuestions: [(String, [String])] = [
        ("/api/v1/query/detections", ["query", "detections"]),
        ("/api/v1/query/detections?vehicle=\(vehicle)&from=2022-06-05T21:00:00Z&to=2022-06-06", [
            "query", "detections", "--vehicle", vehicle, "--from", "2022-06-05T21:00:00Z", "--to", "2022-06-06"]),
        ("/api/v1/query/detections?type=cars,signs&where=value%3E1&limit=2", [
            "query", "detections", "--type", "cars,signs", "--where", "value>1", "--limit", "2"]),
        ("/api/v1/query/detections?where=vehicle_id%3D\(vehicle)", ["query", "detections", "--where", "vehicle_id=\(vehicle)"]),
        ("/api/v1/query/status?status=driving", ["query", "status", "--status", "driving"]),
        ("/api/v1/query/locations", ["query", "locations"]),
        ("/api/v1/latest/status", ["latest"]),
        ("/api/v1/latest/status?at=2022-05-06", ["latest", "--at", "2022-05-06"]),
        ("/api/v1/latest/detections?vehicle=\(vehicle)", ["latest", "detections", "--vehicle", vehicle]),
        ("/api/v1/agg/detections?every=15m&fn=sum&by=vehicle,type", ["agg", "detections", "--every", "15m", "--fn", "sum", "--by", "vehicle,type"]),
        ("/api/v1/agg/detections?every=1h&fn=count&fill=0&label=right&from=2022-06-05T20:00:00Z&to=2022-06-06", [
            "agg", "detections", "--every", "1h", "--fn", "count", "--fill", "0", "--label", "right",
            "--from", "2022-06-05T20:00:00Z", "--to", "2022-06-06"]),
        ("/api/v1/agg/detections?every=1d&fn=avg&by=type&where=object_type!%3Dcars", [
            "agg", "detections", "--every", "1d", "--fn", "avg", "--by", "type", "--where", "object_type!=cars"]),
        ("/api/v1/vehicles", ["vehicles"]),
        ("/api/v1/vehicles?measurement=status", ["vehicles", "--measurement", "status"]),
        ("/api/v1/measurements", ["measurements"]),
        ("/api/v1/stats", ["stats"]),
    ]

    @Test(arguments: ["csv", "json", "ndjson"])
    func everyEndpointAnswersAsTachoDoes(format: String) async throws {
        let store = try FixtureStore()
        let path = store.path
        try await withServer(path) { port in
            for (http, cli) in Self.sameQuestions {
                let sep = http.contains("?") ? "&" : "?"
                let a = try await get(port, http + sep + "format=" + format)
                let expected = try tacho(cli + ["--store", path, "--format", format])
                #expect(a.status == 200, "\(http): \(a.body)")
                #expect(a.body == expected, "\(http) vs tacho \(cli.joined(separator: " "))")
                #expect(!expected.isEmpty || format == "ndjson")  // ndjson of no rows is empty
            }
        }
    }

    @Test func aQueryEqualsTheQueryLibrarysRows() async throws {
        let store = try FixtureStore()
        let path = store.path
        let snap = try Snapshot.open(path: path)
        let q = RangeQuery(.detections, vehicles: Set(bytesOf: [Self.vehicle]), from: 0, filters: [ColumnFilter("value", .ge, "2")])
        let cursor = try RowCursor(snapshot: snap, query: q)
        var rows: [[Cell]] = []
        while let r = try cursor.nextRow() { rows.append(QueryRows.cells(r)) }
        #expect(rows.count > 3)
        let expected = RowPrinter.encode(.ndjson, columns: QueryRows.columns(of: .detections), rows: rows)
        try await withServer(path) { port in
            let a = try await get(port, "/api/v1/query/detections?vehicle=\(Self.vehicle)&from=1970-01-01&where=value%3E%3D2&format=ndjson")
            #expect(a.body == String(decoding: expected, as: UTF8.self))
            #expect(a.headers["Content-Type"].first == "application/x-ndjson")
        }
    }

    @Test func theFormatComesFromAcceptUnlessFormatIsGiven() async throws {
        let store = try FixtureStore()
        let path = store.path
        let csv = try tacho(["latest", "--store", path, "--format", "csv"])
        let json = try tacho(["latest", "--store", path, "--format", "json"])
        let ndjson = try tacho(["latest", "--store", path, "--format", "ndjson"])
        try await withServer(path) { port in
            let c = try await get(port, "/api/v1/latest/status", accept: "text/csv")
            #expect(c.body == csv)
            #expect(c.headers["Content-Type"].first == "text/csv; charset=utf-8")
            #expect(try await get(port, "/api/v1/latest/status", accept: "application/x-ndjson").body == ndjson)
            #expect(try await get(port, "/api/v1/latest/status", accept: "text/html, application/json;q=0.9").body == json)
            #expect(try await get(port, "/api/v1/latest/status").body == json)
            #expect(try await get(port, "/api/v1/latest/status?format=csv", accept: "application/json").body == csv)
            let refused = try await get(port, "/api/v1/latest/status", accept: "text/html")
            #expect(refused.status == 406)
        }
    }

    /// The rows of a query are sent as they are read: a chunked body of several pieces, no
    /// Content-Length, never one buffer of the whole answer.
    @Test func aLargeQueryIsStreamedInPieces() async throws {
        let store = try FixtureStore()
        let path = store.path
        // More rows than one piece holds: the fixtures again, shifted by a day per copy.
        let more = TempDir("tacho-http-more")
        var lines: [String] = []
        for day in 0..<400 {
            for k in 0..<100 {
                let t = 1_700_000_000 + day * 86_400 + k * 60
                lines.append("{\"vehicle_id\":\"v\(k % 7)\",\"detection_time\":\"\(Timestamp.format(Int64(t) * 1_000_000))\",\"object_type\":\"cars\",\"object_value\":\(k)}")
            }
        }
        let file = more.path + "/objects_detection_big.json"
        try Data(("{\"objects_detection_events\":[" + lines.joined(separator: ",") + "]}").utf8).write(to: URL(fileURLWithPath: file))
        _ = try tacho(["ingest", "--store", path, file])
        let expected = try tacho(["query", "detections", "--store", path, "--format", "csv"])
        #expect(expected.utf8.count > 1 << 20)
        try await withServer(path) { port in
            let a = try await get(port, "/api/v1/query/detections?format=csv")
            #expect(a.body == expected)
            #expect(a.headers["Transfer-Encoding"].first == "chunked")
            #expect(a.headers["Content-Length"].isEmpty)
            #expect(a.pieces > 1)
        }
    }
}
