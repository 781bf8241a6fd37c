import Testing
import TachoFormat
@testable import TachoSchema

/// The built-in declarations, user declarations, and their mapping onto the engine's schema.
@Suite struct DeclarationTests {
    /// A custom CAN-signal measurement as docs/CONFIG.md shows it.
    static let canSignals = """
        [[measurement]]
        name = "can_signals"
        records = "signals[]"
        files = { prefixes = ["can_"], key = "signals", ndjson = true }
        vehicle = { keys = ["vin", "vehicle_id"] }
        time = { key = "ts", format = "unix_ms" }
        identity = ["signal"]
        retention = "14d"
        fields = [
          { name = "signal", type = "string", max_bytes = 64 },
          { name = "value", type = "float64" },
          { name = "unit", type = "string", required = false, allowed = ["V", "A", "degC", "rpm"] },
        ]
        """

    @Test func theBuiltInsAreTheFiveKnownMeasurements() {
        #expect(DefaultDeclarations.declarations.map(\.name) == ["detections", "status", "locations", "alarms", "power"])
        let c = TachoConfig()
        #expect(c.measurements == DefaultDeclarations.declarations)
    }

    /// detections and status map to exactly the engine's schemas of today.
    @Test func builtInsMapToTodaysMeasurements() throws {
        for m in Measurement.all {
            let d = try #require(DefaultDeclarations.declarations.first { $0.name == m.name })
            let id = try #require(DefaultDeclarations.builtinIDs[m.name])
            #expect(try d.measurement(id: id) == m)
        }
        // The input side of the two, as SEMANTICS §1 has them.
        let det = try #require(TachoConfig().measurement(named: "detections"))
        #expect(det.files == FileMatch(prefixes: ["objects_detection"], key: "objects_detection_events"))
        #expect(det.records.description == "objects_detection_events[].detections[]")
        #expect(det.field(named: "value")?.key == "object_value")
        #expect(det.field(named: "value")?.min == .int(0))
        #expect(det.time == TimeSource(key: "detection_time", format: .rfc3339))
        let st = try #require(TachoConfig().measurement(named: "status"))
        #expect(st.files == FileMatch(prefixes: ["vehicles_status"], key: "vehicle_status"))
        #expect(st.latest == "status")
    }

    /// locations and power map today; alarms has a string_list column and waits for the
    /// engine's new column types (ColumnTypeAdapter).
    @Test func otherBuiltInsMapOrNameTheMissingType() throws {
        let c = TachoConfig()
        let loc = try #require(c.measurement(named: "locations")).measurement(id: 3)
        #expect(loc.columns.map(\.name) == ["lat", "lon", "speed_kmh", "heading"])
        #expect(loc.columns.allSatisfy { $0.type == .float64 && !$0.isIdentity })
        let power = try #require(c.measurement(named: "power")).measurement(id: 5)
        #expect(power == Measurement(id: 5, name: "power", columns: [ColumnSpec("value", .float64), ColumnSpec("units", .string, identity: true)]))
        let power2 = try #require(c.measurement(named: "power"))
        #expect(power2.field(named: "units")?.allowed == ["kW", "kWh"])
        #expect(power2.vehicle.keys == ["spaceship_id"])
        let alarms = try #require(c.measurement(named: "alarms"))
        if ColumnTypeAdapter.columnType(.stringList) == nil {
            #expect(throws: ConfigError(path: "measurement", measurement: "alarms", column: "files", .typeNotStorable("string_list"))) {
                try alarms.measurement(id: 4)
            }
        } else {
            #expect(try alarms.measurement(id: 4).columns.map(\.name) == ["alarm_type", "severity", "files"])
        }
    }

    @Test func aUserDeclarationAddsAMeasurement() throws {
        let c = try TachoConfig.parse(Self.canSignals, file: "tacho.toml")
        #expect(c.measurements.map(\.name) == ["detections", "status", "locations", "alarms", "power", "can_signals"])
        let d = try #require(c.measurement(named: "can_signals"))
        #expect(d.vehicle.keys == ["vin", "vehicle_id"])
        #expect(d.time.format == .unixMillis)
        #expect(d.files.ndjson)
        let fortnight: Int64 = 14 * 86_400_000_000
        #expect(d.retention?.text == "14d")
        #expect(d.retention?.micros == fortnight)
        #expect(d.field(named: "unit")?.required == false)
        #expect(try d.measurement(id: 16) == Measurement(id: 16, name: "can_signals", columns: [
            ColumnSpec("signal", .string, identity: true), ColumnSpec("value", .float64), ColumnSpec("unit", .string, nullable: true),
        ]), "an optional field is a nullable column")
    }

    @Test func aUserDeclarationReplacesABuiltInOfTheSameName() throws {
        let c = try TachoConfig.parse("""
            [[measurement]]
            name = "status"
            records = "vehicle_status[]"
            files = { prefixes = ["vehicles_status", "fleet_status"], key = "vehicle_status" }
            vehicle = { keys = ["vehicle_id", "imei"] }
            time = { key = "report_time", format = "unix_s" }
            latest = "status"
            retention = "365d"
            fields = [{ name = "status", type = "string", allowed = ["driving", "parking", "accident"] }]
            """, file: "tacho.toml")
        #expect(c.measurements.map(\.name) == ["detections", "status", "locations", "alarms", "power"], "replaced in place")
        let st = try #require(c.measurement(named: "status"))
        #expect(st.time.format == .unixSeconds)
        #expect(st.files.prefixes == ["vehicles_status", "fleet_status"])
        #expect(st.retention?.text == "365d")
        #expect(try st.measurement(id: 2) == Measurement.status, "the stored schema is unchanged")
    }

    /// The defaults text → declarations → TOML → the same declarations; and the text is
    /// exactly what the encoder writes, but for its comments.
    @Test func defaultsRoundTrip() throws {
        let rendered = TachoConfig.render(DefaultDeclarations.declarations)
        let again = try TachoConfig.parse(rendered, file: nil, includeDefaults: false)
        #expect(again.declaredMeasurements == DefaultDeclarations.declarations)
        let uncommented = DefaultDeclarations.text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        #expect(uncommented.trimmingNewlines == rendered.trimmingNewlines)
        // A user declaration too.
        let c = try TachoConfig.parse(Self.canSignals, file: nil, includeDefaults: false)
        let back = try TachoConfig.parse(TachoConfig.render(c.declaredMeasurements), file: nil, includeDefaults: false)
        #expect(back.declaredMeasurements == c.declaredMeasurements)
    }

    @Test func settingsAreRead() throws {
        let c = try TachoConfig.parse("""
            [store]
            path = "/var/lib/tacho"
            retention = { detections = "30d", status = "365d" }
            max_bytes = "2GiB"
            min_free = 500000000
            max_clock_lead = "7d"
            compact_rate_mb_s = 16
            cold_after = "0"
            cold_level = 19
            ledger_max_age = "90d"

            [run]
            inbox = "/data/inbox"
            processed = "/data/processed"
            rejected = "/data/rejected"
            delete_processed = false
            lenient = true
            poll = true
            settle_seconds = 0.5
            processed_max_age = "7d"
            compact_every = "1h"

            [line_protocol]
            auto_create = false
            vehicle_tag = "vin"
            precision = "ms"
            """, file: "t.toml")
        #expect(c.store.path == "/var/lib/tacho")
        #expect(c.store.retention == "detections=30d,status=365d")
        #expect(c.store.maxBytes == "2GiB" && c.store.minFree == "500000000")
        #expect(c.store.compactRateMBs == 16 && c.store.coldLevel == 19 && c.store.coldAfter == "0")
        #expect(c.store.ledgerMaxAge == "90d" && c.store.maxClockLead == "7d")
        #expect(c.run.inbox == "/data/inbox" && c.run.processed == "/data/processed" && c.run.rejected == "/data/rejected")
        #expect(c.run.deleteProcessed == false && c.run.lenient == true && c.run.poll == true)
        #expect(c.run.settleSeconds == 0.5 && c.run.processedMaxAge == "7d" && c.run.compactEvery == "1h")
        #expect(c.lineProtocol.autoCreate == false && c.lineProtocol.vehicleTag == "vin" && c.lineProtocol.precision == .ms)
        // An empty file is every default.
        let empty = try TachoConfig.parse("", file: "t.toml")
        #expect(empty == TachoConfig())
        #expect(empty.lineProtocol.autoCreate && empty.lineProtocol.vehicleTag == "vehicle_id" && empty.lineProtocol.precision == .ns)
    }
}

extension String {
    var trimmingNewlines: Substring {
        var s = Substring(self)
        while s.first == "\n" { s = s.dropFirst() }
        while s.last == "\n" { s = s.dropLast() }
        return s
    }
}
