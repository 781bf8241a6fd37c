import Testing
@testable import TachoSchema

/// Every way a config file can be wrong is refused as a whole, with the error case that says
/// why, the file, the line, the table path, the measurement and the column.
@Suite struct HostileConfigTests {
    /// A valid measurement with `lines` spliced in before its fields, or `fields` instead of them.
    static func measurement(name: String = "m", extra: String = "", fields: String = #"{ name = "x", type = "int64" }"#) -> String {
        """
        [[measurement]]
        name = "\(name)"
        records = "rows[]"
        files = { prefixes = ["m_"] }
        vehicle = { keys = ["vehicle_id"] }
        time = { key = "time" }
        \(extra)
        fields = [
          \(fields),
        ]
        """
    }

    @Test(arguments: [
        (measurement(fields: #"{ name = "x", type = "int32" }"#), ConfigError.Problem.unknownType("int32"), "x"),
        (measurement(fields: #"{ name = "x", type = "int64" }, { name = "x", type = "string" }"#), .duplicateColumn("x"), "x"),
        (measurement(fields: #"{ name = "a/b", type = "int64" }"#), .invalidName("a/b", why: "a name cannot contain '/'"), "a/b"),
        (measurement(fields: #"{ name = "a..b", type = "int64" }"#), .invalidName("a..b", why: "a name cannot contain '..'"), "a..b"),
        (measurement(fields: #"{ name = "", type = "int64" }"#), .invalidName("", why: "a name cannot be empty"), ""),
        (measurement(fields: #"{ name = "9lives", type = "int64" }"#), .invalidName("9lives", why: "must start with a letter or '_'"), "9lives"),
        (measurement(fields: #"{ name = "speed-kmh", type = "int64" }"#), .invalidName("speed-kmh", why: "only letters, digits and '_' are allowed"), "speed-kmh"),
        (measurement(fields: "{ name = \"\(String(repeating: "a", count: 65))\", type = \"int64\" }"),
         .invalidName(String(repeating: "a", count: 65), why: "65 bytes, at most 64"), String(repeating: "a", count: 65)),
        (measurement(fields: #"{ name = "vehicle_id", type = "string" }"#), .reservedName("vehicle_id"), "vehicle_id"),
        (measurement(fields: #"{ name = "time", type = "int64" }"#), .reservedName("time"), "time"),
        (measurement(fields: #"{ name = "x", type = "string", min = 0 }"#), .validationNotForType(key: "min", type: "string"), "x"),
        (measurement(fields: #"{ name = "x", type = "int64", allowed = ["a"] }"#), .validationNotForType(key: "allowed", type: "int64"), "x"),
        (measurement(fields: #"{ name = "x", type = "int64", min = 0.5 }"#), .badValue(key: "min", why: "an int64 field's bound must be an integer"), "x"),
        (measurement(fields: #"{ name = "x", type = "float64", min = 5, max = 1 }"#), .badValue(key: "max", why: "is below min"), "x"),
        (measurement(fields: #"{ name = "x", type = "int64", requried = true }"#), .unknownKey("requried", suggestion: "required"), "x"),
        (measurement(fields: #"{ name = "x", key = "", type = "int64" }"#), .invalidInputKey("", why: "an input key cannot be empty"), "x"),
    ])
    func badFieldsAreRefused(text: String, problem: ConfigError.Problem, column: String) throws {
        let e = try #require(refused(text))
        #expect(e.problem == problem, "\(e)")
        #expect(e.file == "/etc/tacho.toml")
        #expect(e.measurement == "m")
        #expect(e.column == column)
        #expect(e.path.hasPrefix("measurement[0].fields["), "\(e.path)")
        #expect(e.position?.line == 9, "the line of the field: \(e)")
    }

    @Test(arguments: [
        (#"identity = ["nope"]"#, ConfigError.Problem.identityUnknownColumn("nope")),
        (#"identity = ["x", "x"]"#, .duplicateIdentity("x")),
        (#"latest = "nope""#, .latestUnknownColumn("nope")),
        (#"latest = "x""#, .latestNotString("x")),
        (#"retention = "30days""#, .badRetention("30days")),
        (#"retention = "-1d""#, .badRetention("-1d")),
        (#"retension = "30d""#, .unknownKey("retension", suggestion: "retention")),
    ])
    func badMeasurementsAreRefused(extra: String, problem: ConfigError.Problem) throws {
        let e = try #require(refused(Self.measurement(extra: extra)))
        #expect(e.problem == problem, "\(e)")
        #expect(e.measurement == "m")
        #expect(e.position?.line == 7, "\(e)")
    }

    @Test(arguments: [
        (#"time = { key = "time" }"#, #"time = { key = "time", format = "unix_fortnights" }"#, ConfigError.Problem.unknownTimeFormat("unix_fortnights")),
        (#"vehicle = { keys = ["vehicle_id"] }"#, "vehicle = { keys = [] }", .missingKey("keys")),
        (#"vehicle = { keys = ["vehicle_id"] }"#, #"vehicle = { keys = ["vehicle_id"], colum = "v" }"#, .unknownKey("colum", suggestion: "column")),
        (#"files = { prefixes = ["m_"] }"#, "files = {}", .badValue(key: "files", why: "name at least one file prefix or a top-level key, or no file is ever read as m")),
        (#"name = "m""#, #"name = "m/../x""#, .invalidName("m/../x", why: "a name cannot contain '/'")),
    ])
    func badPartsAreRefused(old: String, new: String, problem: ConfigError.Problem) throws {
        let e = try #require(refused(Self.measurement().replacingFirst(old, with: new)))
        #expect(e.problem == problem, "\(e)")
        #expect(e.position != nil, "\(e)")
    }

    @Test func aListIdentityIsRefused() throws {
        let e = try #require(refused(Self.measurement(extra: #"identity = ["l"]"#, fields: #"{ name = "l", type = "string_list" }"#)))
        #expect(e.problem == .identityListColumn("l"))
    }

    @Test(arguments: [
        #"records = "a[].[]""#, #"records = "a[]]""#, #"records = "a..b""#, #"records = "a.b[]x""#,
    ])
    func badRecordPathsAreRefused(line: String) throws {
        let text = Self.measurement().replacingFirst(#"records = "rows[]""#, with: line)
        let e = try #require(refused(text))
        guard case .badRecordPath = e.problem else { Issue.record("\(e)"); return }
        #expect(e.position?.line == 3)
    }

    @Test func tooManyFieldsAreRefused() throws {
        let fields = (0...MeasurementDeclaration.maxFields).map { "{ name = \"f\($0)\", type = \"int64\" }" }.joined(separator: ",\n  ")
        let e = try #require(refused(Self.measurement(fields: fields)))
        #expect(e.problem == .tooManyFields(1025))
        // 1,024 is fine.
        let ok = (0..<MeasurementDeclaration.maxFields).map { "{ name = \"f\($0)\", type = \"int64\" }" }.joined(separator: ",\n  ")
        #expect(refused(Self.measurement(fields: ok)) == nil)
    }

    @Test func unknownKeysAreRefusedWithASuggestion() throws {
        let e = try #require(refused("[store]\nretension = \"30d\"\n"))
        #expect(e.problem == .unknownKey("retension", suggestion: "retention"))
        #expect(e.description == "config file /etc/tacho.toml:2:13: [store]: unknown key 'retension' in [store]; did you mean 'retention'?")
        #expect(refused("[runn]\n")?.problem == .unknownKey("runn", suggestion: "run"))
        #expect(refused("[line_protocol]\nvehicletag = \"v\"\n")?.problem == .unknownKey("vehicletag", suggestion: "vehicle_tag"))
        #expect(refused("[run]\nzzz = 1\n")?.problem == .unknownKey("zzz", suggestion: nil))
        // A retention for a measurement nobody declared.
        #expect(refused("[store]\nretention = { detectoins = \"30d\" }\n")?.problem == .unknownKey("detectoins", suggestion: "detections"))
    }

    @Test(arguments: [
        ("[store]\nmax_bytes = \"lots\"\n", ConfigError.Problem.badSize(key: "max_bytes", value: "lots")),
        ("[store]\nmax_bytes = 0\n", .badSize(key: "max_bytes", value: "0")),
        ("[store]\ncold_after = \"soon\"\n", .badDuration(key: "cold_after", value: "soon")),
        ("[store]\ncold_level = 99\n", .badValue(key: "cold_level", why: "zstd levels are 1…22")),
        ("[store]\ncompact_rate_mb_s = -1\n", .badValue(key: "compact_rate_mb_s", why: "must be ≥ 0 (0 = unlimited)")),
        ("[store]\nretention = { detections = \"forever\" }\n", .badRetention("forever")),
        ("[run]\npoll = \"yes\"\n", .wrongType(key: "poll", expected: "true or false", found: "a string")),
        ("[run]\ncompact_every = \"hourly\"\n", .badDuration(key: "compact_every", value: "hourly")),
        ("[line_protocol]\nprecision = \"ps\"\n", .unknownPrecision("ps")),
        ("store = 5\n", .wrongType(key: "store", expected: "a table", found: "an integer")),
    ])
    func badSettingsAreRefused(text: String, problem: ConfigError.Problem) throws {
        let e = try #require(refused(text))
        #expect(e.problem == problem, "\(e)")
        #expect(e.position != nil)
    }

    @Test func measurementsMayNotClashWithEachOther() throws {
        let twice = Self.measurement() + "\n" + Self.measurement().replacingFirst("m_", with: "n_")
        #expect(refused(twice)?.problem == .duplicateMeasurement("m"))
        // A new measurement claiming a built-in's file prefix or key.
        let prefix = Self.measurement().replacingFirst(#"["m_"]"#, with: #"["objects_detection"]"#)
        #expect(refused(prefix)?.problem == .fileClaimedTwice(#"file prefix "objects_detection""#, by: "detections"))
        let key = Self.measurement().replacingFirst(#"files = { prefixes = ["m_"] }"#, with: #"files = { key = "locations" }"#)
        #expect(refused(key)?.problem == .fileClaimedTwice(#"top-level key "locations""#, by: "locations"))
        let bad = Self.measurement().replacingFirst(#"["m_"]"#, with: #"["../etc/"]"#)
        #expect(refused(bad)?.problem == .badFilePrefix("../etc/", why: "cannot contain '/'"))
    }

    @Test func syntaxErrorsNameFileLineAndColumn() throws {
        let e = try #require(refused("[store]\npath = /var/lib\n"))
        guard case .syntax = e.problem else { Issue.record("\(e)"); return }
        #expect(e.description.hasPrefix("config file /etc/tacho.toml:2:8: "), "\(e)")
    }

    /// The description names everything an operator needs to find the problem.
    @Test func descriptionNamesMeasurementColumnAndPath() throws {
        let e = try #require(refused(Self.measurement(fields: #"{ name = "x", type = "int32" }"#)))
        #expect(e.description == """
            config file /etc/tacho.toml:9:24: measurement 'm', column 'x' ([measurement[0].fields[0]]): \
            unknown type 'int32': expected one of int64, float64, string, bool, string_list
            """)
    }
}

extension String {
    func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = firstRange(of: a) else { return self }
        var s = self
        s.replaceSubrange(r, with: b)
        return s
    }
}

/// The error `TachoConfig.parse` refuses `text` with (as the file /etc/tacho.toml), or nil when
/// it accepts it. Shared by the config suites.
func refused(_ text: String) -> ConfigError? {
    do {
        _ = try TachoConfig.parse(text, file: "/etc/tacho.toml")
        return nil
    } catch {
        return error
    }
}
