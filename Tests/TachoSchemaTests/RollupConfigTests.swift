import Testing
@testable import TachoSchema

/// Rollup declarations (docs/CONFIG.md "Rollups"): read, rendered back, and every bad one
/// refused with the file, the line of the rollup and the measurement.
@Suite struct RollupConfigTests {
    static func measurement(_ rollups: String) -> String {
        HostileConfigTests.measurement(
            extra: "rollups = [\n  \(rollups),\n]",
            fields: #"{ name = "kind", type = "string" }, { name = "v", type = "float64" }, { name = "tags", type = "string_list" }"#)
    }

    @Test func aRollupIsRead() throws {
        let c = try TachoConfig.parse(
            Self.measurement(#"{ every = "15m", by = ["kind"], of = ["v"], fns = ["sum", "max", "last"], retention = "400d" }"#), file: nil)
        let m = try #require(c.measurement(named: "m"))
        let r = try #require(m.rollups.first)
        #expect(r.name == "15m" && r.every.micros == 900_000_000 && r.by == ["kind"] && r.of == ["v"])
        #expect(r.fns == [.sum, .max, .last] && r.keeps(.count) && !r.keeps(.min))
        #expect(r.retention?.text == "400d")
        #expect(r.storedName(of: "m") == "m__15m" && r.displayName(of: "m") == "m:15m")
        #expect(r.storedColumnNames == ["kind", "count", "first_time", "last_time", "v_sum", "v_max", "v_last"])
    }

    @Test func theTableSpellingReadsTheSame() throws {
        let inline = try TachoConfig.parse(Self.measurement(#"{ every = "1h", name = "hourly", fns = ["count"] }"#), file: nil)
        let tables = try TachoConfig.parse(
            HostileConfigTests.measurement(fields: #"{ name = "kind", type = "string" }, { name = "v", type = "float64" }, { name = "tags", type = "string_list" }"#)
                + "\n[[measurement.rollups]]\nevery = \"1h\"\nname = \"hourly\"\n", file: nil)
        #expect(inline.measurement(named: "m")?.rollups == tables.measurement(named: "m")?.rollups)
        #expect(tables.measurement(named: "m")?.rollups.first?.name == "hourly")
    }

    /// Defaults off: no built-in declares a rollup (an operator declares one in their config).
    @Test func theBuiltInsDeclareNoRollup() {
        for d in DefaultDeclarations.declarations { #expect(d.rollups.isEmpty, "\(d.name)") }
    }

    @Test(arguments: [
        (#"{ by = ["kind"] }"#, ConfigError.Problem.missingKey("every")),
        (#"{ every = "15 minutes" }"#, .badDuration(key: "every", value: "15 minutes")),
        (#"{ every = "0" }"#, .badValue(key: "every", why: "0 must be longer than 0")),
        (#"{ every = "7m" }"#, .badValue(key: "every", why: "7m must divide a day (1m, 5m, 15m, 1h, 6h …) or be whole days")),
        (#"{ every = "36h" }"#, .badValue(key: "every", why: "36h must divide a day (1m, 5m, 15m, 1h, 6h …) or be whole days")),
        (#"{ every = "15m", evrey = "1h" }"#, .unknownKey("evrey", suggestion: "every")),
        (#"{ every = "15m", fns = ["cnt"] }"#, .unknownRollupFunction("cnt", suggestion: nil)),
        (#"{ every = "15m", fns = ["sun"], of = ["v"] }"#, .unknownRollupFunction("sun", suggestion: "sum")),
        (#"{ every = "15m", fns = ["count", "count"] }"#, .badValue(key: "fns", why: "names 'count' twice")),
        (#"{ every = "15m", by = ["vehicle_id"] }"#, .rollupColumn(key: "by", column: "vehicle_id", why: "a rollup is always grouped by vehicle")),
        (#"{ every = "15m", by = ["time"] }"#, .rollupColumn(key: "by", column: "time", why: "the time column is the window, not a group")),
        (#"{ every = "15m", by = ["nope"] }"#, .rollupColumn(key: "by", column: "nope", why: "not a field of this measurement")),
        (#"{ every = "15m", by = ["v"] }"#, .rollupColumn(key: "by", column: "v", why: "a float64 column cannot group (string, int64 and bool can)")),
        (#"{ every = "15m", by = ["kind", "kind"] }"#, .rollupColumn(key: "by", column: "kind", why: "named twice")),
        (#"{ every = "15m", of = ["kind"], fns = ["sum"] }"#, .rollupColumn(key: "of", column: "kind", why: "sum needs a number column, this one is string")),
        (#"{ every = "15m", of = ["tags"], fns = ["last"] }"#, .rollupColumn(key: "of", column: "tags", why: "lists cannot be summarised")),
        (#"{ every = "15m", by = ["kind"], of = ["kind"], fns = ["last"] }"#, .rollupColumn(key: "of", column: "kind", why: "it is a grouping column (by)")),
        (#"{ every = "15m", fns = ["max"] }"#, .badValue(key: "of", why: #"max needs the columns it applies to (of = ["value"])"#)),
        (#"{ every = "15m", of = ["v"] }"#, .badValue(key: "of", why: "no function applies to it: add sum, min, max, first or last to fns")),
        (#"{ every = "15m", name = "a:b" }"#, .invalidName("a:b", why: "only letters, digits and '_' are allowed")),
        (#"{ every = "15m", retention = "forever" }"#, .badRetention("forever")),
        (#"{ every = "15m" }, { every = "15m" }"#, .duplicateRollup("15m")),
    ])
    func badRollupsAreRefused(text: String, problem: ConfigError.Problem) throws {
        let e = try #require(refused(Self.measurement(text)))
        #expect(e.problem == problem, "\(e)")
        #expect(e.file == "/etc/tacho.toml")
        #expect(e.measurement == "m")
        #expect(e.path.hasPrefix("measurement[0].rollups["), "\(e.path)")
        #expect(e.position?.line == 8, "the line of the rollup: \(e)")
        #expect(e.description.hasPrefix("config file /etc/tacho.toml:8:"), "\(e)")
    }

    @Test func aStoredColumnMayNotClashWithAGroup() throws {
        let text = HostileConfigTests.measurement(
            extra: #"rollups = [{ every = "1h", by = ["count"] }]"#, fields: #"{ name = "count", type = "int64" }"#)
        let e = try #require(refused(text))
        #expect(e.problem == .duplicateColumn("count"), "\(e)")
    }

    @Test func rollupsRoundTrip() throws {
        let c = try TachoConfig.parse(
            Self.measurement(#"{ every = "1d", name = "daily", by = ["kind"], of = ["v"], fns = ["count", "min", "first"], retention = "3650d" }"#),
            file: nil, includeDefaults: false)
        let back = try TachoConfig.parse(TachoConfig.render(c.declaredMeasurements), file: nil, includeDefaults: false)
        #expect(back.declaredMeasurements == c.declaredMeasurements)
    }
}
