import Foundation
import Testing
import TachoTestSupport

/// Query commands know the declarations in force (`--config`, else the built-in ones), not
/// only the store's catalog: a measurement declared but never ingested is queried as empty
/// (header, exit 0) and listed without an id; an unknown one still errors with the list.
/// `--where <vehicle column>=V` is `--vehicle V` (docs/SEMANTICS.md "Filters").
@Suite(.serialized) struct DeclaredQueryCLITests {
    /// A store holding detections only (the nested fixture), and the gauge/meter config.
    func detectionsStore() throws -> (TempDir, store: String, config: String) {
        let dir = TempDir("tacho-declared-query")
        let store = dir.path + "/store"
        let ing = try tacho(["ingest", "--store", store, fixtures + "/mobileye-nested/objects_detection_20240718_140532.json"])
        #expect(ing.status == 0, "\(ing.stderr)")
        let cfg = dir.path + "/tacho.toml"
        try DeclaredMeasurementCLITests.gaugeTOML.write(toFile: cfg, atomically: true, encoding: .utf8)
        return (dir, store, cfg)
    }

    @Test func declaredButNeverIngestedIsKnown() throws {
        let (dir, store, cfg) = try detectionsStore()
        defer { withExtendedLifetime(dir) {} }
        let q = try tacho(["query", "gauge", "--store", store, "--config", cfg])
        #expect(q.status == 0 && q.stdout == "vehicle_id,time,probe,reading,count,ok,tags\n", "\(q.stdout)\(q.stderr)")
        let j = try tacho(["query", "gauge", "--store", store, "--config", cfg, "--format", "json"])
        #expect(j.status == 0 && j.stdout == "[]\n", "\(j.stdout)\(j.stderr)")
        // The built-in declarations without --config: locations is known, never ingested.
        let loc = try tacho(["query", "locations", "--store", store])
        #expect(loc.status == 0 && loc.stdout.hasPrefix("vehicle_id,time,lat,") && loc.stdout.split(separator: "\n").count == 1,
                "\(loc.stdout)\(loc.stderr)")
        let latest = try tacho(["latest", "gauge", "--store", store, "--config", cfg])
        #expect(latest.status == 0 && latest.stdout == "vehicle_id,time,probe,reading,count,ok,tags\n", "\(latest.stdout)\(latest.stderr)")
        let agg = try tacho(["agg", "gauge", "--store", store, "--config", cfg, "--field", "reading", "--fn", "avg", "--every", "1h"])
        #expect(agg.status == 0 && agg.stdout == "bucket,value\n", "\(agg.stdout)\(agg.stderr)")
        let v = try tacho(["vehicles", "--measurement", "gauge", "--store", store, "--config", cfg])
        #expect(v.status == 0 && v.stdout == "vehicle_id,first_time,last_time,rows\n", "\(v.stdout)\(v.stderr)")

        let m = try tacho(["measurements", "--store", store, "--config", cfg])
        #expect(m.status == 0)
        let lines = m.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("detections,1,object_type:string;value:int64,vehicle_id;time;object_type,6"), "\(m.stdout)")
        #expect(lines.contains("gauge,,probe:string;reading:float64;count:int64;ok:bool;tags:string_list,vehicle_id;time;probe,0"), "\(m.stdout)")
        #expect(lines.contains("meter,,site:string;kwh:float64,vehicle_id;time,0"), "\(m.stdout)")
        // Stored measurements first, declared-only ones after them.
        #expect(lines.firstIndex { $0.hasPrefix("gauge,") }! > lines.firstIndex { $0.hasPrefix("status,") }!)
        let mj = try tacho(["measurements", "--store", store, "--config", cfg, "--format", "ndjson"])
        #expect(mj.stdout.contains(#"{"name":"gauge","id":null,"#), "\(mj.stdout)")

        let unknown = try tacho(["query", "gaug", "--store", store, "--config", cfg])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown measurement \"gaug\"; known measurements: detections, status, "), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("gauge") && unknown.stderr.contains("meter"), "\(unknown.stderr)")
    }

    /// `--where` on the vehicle column, by its printed name or a declared input key, selects
    /// exactly what `--vehicle` selects; several must all hold; only `=` is allowed.
    @Test func whereOnTheVehicleColumnIsVehicle() throws {
        let dir = TempDir("tacho-declared-query")
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        var recs: [String] = []
        for i in 0..<12 {
            recs.append(#"{"imei":"\#(["3569", "3570", "3571"][i % 3])","time":"2024-07-01T00:\#(String(format: "%02d", i)):00.000Z","alarm_type":"speeding","severity":\#(i % 5)}"#)
        }
        try "{\"alarms\":[\(recs.joined(separator: ","))]}".write(toFile: dir.path + "/in/alarms_1.json", atomically: true, encoding: .utf8)
        let store = dir.path + "/store"
        let ing = try tacho(["ingest", "--store", store, dir.path + "/in"])
        #expect(ing.status == 0, "\(ing.stderr)")

        let byVehicle = try tacho(["query", "alarms", "--store", store, "--vehicle", "3570"])
        #expect(byVehicle.stdout.split(separator: "\n").count == 5, "\(byVehicle.stdout)\(byVehicle.stderr)")
        for key in ["imei", "vehicle_id"] {
            let w = try tacho(["query", "alarms", "--store", store, "--where", "\(key)=3570"])
            #expect(w.status == 0 && w.stdout == byVehicle.stdout, "\(key): \(w.stdout)\(w.stderr)")
        }
        let both = try tacho(["query", "alarms", "--store", store, "--where", "imei=3570", "--where", "severity>=2"])
        let want = try tacho(["query", "alarms", "--store", store, "--vehicle", "3570", "--where", "severity>=2"])
        #expect(both.stdout == want.stdout && both.stdout.split(separator: "\n").count == 3, "\(both.stdout)")
        // All must hold: another vehicle than --vehicle's leaves nothing.
        let none = try tacho(["query", "alarms", "--store", store, "--vehicle", "3569", "--where", "imei=3570"])
        #expect(none.status == 0 && none.stdout == "vehicle_id,time,alarm_type,severity,files\n", "\(none.stdout)")
        let agg = try tacho(["agg", "alarms", "--store", store, "--where", "imei=3571", "--fn", "count", "--every", "1d"])
        #expect(agg.stdout == "bucket,value\n2024-07-01T00:00:00.000Z,4\n", "\(agg.stdout)\(agg.stderr)")
        let ne = try tacho(["query", "alarms", "--store", store, "--where", "imei!=3570"])
        #expect(ne.status != 0 && ne.stderr.contains("only = compares it"), "\(ne.stderr)")
        let missing = try tacho(["query", "alarms", "--store", store, "--where", "imei=9999"])
        #expect(missing.status == 0 && missing.stderr.contains("no data for vehicle 9999"), "\(missing.stderr)")
    }
}
