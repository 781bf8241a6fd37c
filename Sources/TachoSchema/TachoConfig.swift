/// The whole config file of `tacho run`, `tacho ingest`, `tacho compact` and the query
/// commands (docs/CONFIG.md): daemon settings, line-protocol settings and the declared
/// measurements. Settings keep the text the operator wrote (`"2GiB"`, `"7d"`): the commands
/// resolve them with their flags; the TOML reader has already checked their grammar.
public struct TachoConfig: Sendable, Equatable {
    public var store = StoreSettings()
    public var run = RunSettings()
    public var lineProtocol = LineProtocolSettings()
    /// `[http]`: the HTTP front's address, tokens and limits.
    public var http = HTTPSettings()
    /// The `[[measurement]]` tables of the file, in order.
    public var declaredMeasurements: [MeasurementDeclaration] = []
    /// Every measurement in force: the built-ins, each replaced by the file's declaration of
    /// the same name, then the file's new ones in file order.
    public var measurements: [MeasurementDeclaration]

    /// Every default: the built-in measurements and default settings.
    public init() { measurements = DefaultDeclarations.declarations }

    /// No measurements at all (parsing the built-ins themselves starts here).
    init(measurements: [MeasurementDeclaration]) { self.measurements = measurements }

    public func measurement(named name: String) -> MeasurementDeclaration? { measurements.first { $0.name == name } }

    /// Built-ins overridden and extended by `declared` (by name).
    public static func merge(defaults: [MeasurementDeclaration], declared: [MeasurementDeclaration]) -> [MeasurementDeclaration] {
        var out = defaults
        for d in declared {
            if let i = out.firstIndex(where: { $0.name == d.name }) { out[i] = d } else { out.append(d) }
        }
        return out
    }
}

/// `[store]`: where the store is and how it is kept in bounds.
public struct StoreSettings: Sendable, Equatable {
    /// The store directory (`--store`, `$TACHO_STORE` win).
    public var path: String?
    /// Age retention in the flag's form, `detections=30d,status=365d`.
    public var retention: String?
    public var maxBytes: String?
    public var minFree: String?
    public var maxClockLead: String?
    public var compactRateMBs: Double?
    public var coldAfter: String?
    public var coldLevel: Double?
    public var ledgerMaxAge: String?

    public init() {}
}

/// `[run]`: the inbox daemon.
public struct RunSettings: Sendable, Equatable {
    public var inbox: String?
    public var processed: String?
    public var rejected: String?
    public var deleteProcessed: Bool?
    public var lenient: Bool?
    public var poll: Bool?
    public var settleSeconds: Double?
    public var processedMaxAge: String?
    public var compactEvery: String?

    public init() {}
}

/// `[line_protocol]`: InfluxDB line protocol input.
public struct LineProtocolSettings: Sendable, Equatable {
    public enum Precision: String, Sendable, CaseIterable { case ns, us, ms, s }

    /// A line whose measurement is not declared creates one (its fields' types from the line).
    public var autoCreate = true
    /// The tag that holds the vehicle id.
    public var vehicleTag = "vehicle_id"
    /// The unit of a line's timestamp.
    public var precision = Precision.ns

    public init() {}
}

extension TachoConfig {
    static let topKeys = ["store", "run", "line_protocol", "http", "measurement"]
    static let storeKeys = ["path", "retention", "max_bytes", "min_free", "max_clock_lead", "compact_rate_mb_s", "cold_after", "cold_level", "ledger_max_age"]
    static let runKeys = ["inbox", "processed", "rejected", "delete_processed", "lenient", "poll", "settle_seconds", "processed_max_age", "compact_every"]
    static let lineProtocolKeys = ["auto_create", "vehicle_tag", "precision"]

    /// Parses and validates a TOML config; nothing is used unless all of it is valid.
    /// `file` names the file in errors. With `includeDefaults`, `measurements` starts from
    /// the built-ins.
    public static func parse(_ text: String, file: String?, includeDefaults: Bool = true) throws(ConfigError) -> TachoConfig {
        try parse(bytes: Array(text.utf8), file: file, includeDefaults: includeDefaults)
    }

    public static func parse(bytes: [UInt8], file: String?, includeDefaults: Bool = true) throws(ConfigError) -> TachoConfig {
        let doc: TOMLTable
        do {
            doc = try TOMLReader.parse(bytes: bytes)
        } catch {
            throw ConfigError(file: file, position: error.position, path: "", .syntax(error.message))
        }
        let root = TableReader(doc, path: "", file: file)
        try root.checkKeys(topKeys)
        var c = TachoConfig(measurements: [])
        if let s = try root.subtable("store") { c.store = try storeSettings(s) }
        if let r = try root.subtable("run") { c.run = try runSettings(r) }
        if let h = try root.subtable("http") { c.http = try httpSettings(h) }
        if let l = try root.subtable("line_protocol") {
            try l.checkKeys(lineProtocolKeys)
            c.lineProtocol.autoCreate = try l.bool("auto_create") ?? true
            if let t = try l.string("vehicle_tag") {
                if let why = DeclarationCoding.inputKeyProblem(t) { throw l.error("vehicle_tag", .invalidInputKey(t, why: why)) }
                c.lineProtocol.vehicleTag = t
            }
            if let p = try l.string("precision") {
                guard let v = LineProtocolSettings.Precision(rawValue: p) else { throw l.error("precision", .unknownPrecision(p)) }
                c.lineProtocol.precision = v
            }
        }
        var names: [String: Int] = [:]
        for (i, m) in try root.tables("measurement").enumerated() {
            let d = try DeclarationCoding.decode(m)
            if names[d.name] != nil { throw m.error("name", .duplicateMeasurement(d.name)).with(measurement: d.name) }
            names[d.name] = i
            c.declaredMeasurements.append(d)
        }
        c.measurements = merge(defaults: includeDefaults ? DefaultDeclarations.declarations : [], declared: c.declaredMeasurements)
        try checkFileClaims(c.measurements, root: root)
        if let s = try root.subtable("store"), let r = try s.subtable("retention") {
            for k in r.table.keys where c.measurement(named: k) == nil {
                throw r.error(k, .unknownKey(k, suggestion: suggestion(for: k, among: c.measurements.map(\.name))))
            }
        }
        return c
    }

    /// Two measurements may not claim the same file prefix or top-level key: a file's kind
    /// would depend on the order of the declarations.
    static func checkFileClaims(_ ms: [MeasurementDeclaration], root: TableReader) throws(ConfigError) {
        var prefixes: [String: String] = [:], keys: [String: String] = [:]
        let tables = (try? root.tables("measurement")) ?? []
        for m in ms {
            // Point at the file's declaration when it made the clash.
            let at = tables.first { (try? $0.string("name")) == m.name }.map { t in (try? t.subtable("files")) ?? t }
            func clash(_ what: String, _ other: String) -> ConfigError {
                var e = at?.error(nil, .fileClaimedTwice(what, by: other))
                    ?? ConfigError(file: root.file, path: "measurement", .fileClaimedTwice(what, by: other))
                e.measurement = m.name
                return e
            }
            for p in m.files.prefixes {
                if let other = prefixes[p] { throw clash("file prefix \(TOMLWriter.quote(p))", other) }
                prefixes[p] = m.name
            }
            if let k = m.files.key {
                if let other = keys[k] { throw clash("top-level key \(TOMLWriter.quote(k))", other) }
                keys[k] = m.name
            }
        }
    }

    private static func duration(_ r: TableReader, _ key: String, zeroAllowed: Bool = true) throws(ConfigError) -> String? {
        guard let s = try r.string(key) else { return nil }
        let ok = zeroAllowed ? SettingUnits.durationMicrosOrZero(s) != nil : SettingUnits.durationMicros(s) != nil
        guard ok else { throw r.error(key, .badDuration(key: key, value: s)) }
        return s
    }

    private static func size(_ r: TableReader, _ key: String, positive: Bool) throws(ConfigError) -> String? {
        guard let s = try r.text(key) else { return nil }
        guard let v = SettingUnits.bytes(s), !positive || v > 0 else { throw r.error(key, .badSize(key: key, value: s)) }
        return s
    }

    static func storeSettings(_ r: TableReader) throws(ConfigError) -> StoreSettings {
        try r.checkKeys(storeKeys)
        var s = StoreSettings()
        s.path = try r.string("path")
        if let t = try r.subtable("retention") {
            var parts: [String] = []
            for k in t.table.keys {
                guard let age = try t.string(k) else { continue }
                guard SettingUnits.durationMicros(age) != nil else { throw t.error(k, .badRetention(age)) }
                parts.append("\(k)=\(age)")
            }
            s.retention = parts.isEmpty ? nil : parts.joined(separator: ",")
        }
        s.maxBytes = try size(r, "max_bytes", positive: true)
        s.minFree = try size(r, "min_free", positive: false)
        s.maxClockLead = try duration(r, "max_clock_lead")
        if let rate = try r.double("compact_rate_mb_s") {
            guard rate >= 0 else { throw r.error("compact_rate_mb_s", .badValue(key: "compact_rate_mb_s", why: "must be ≥ 0 (0 = unlimited)")) }
            s.compactRateMBs = rate
        }
        s.coldAfter = try duration(r, "cold_after")
        if let l = try r.integer("cold_level") {
            guard (1...22).contains(l) else { throw r.error("cold_level", .badValue(key: "cold_level", why: "zstd levels are 1…22")) }
            s.coldLevel = Double(l)
        }
        s.ledgerMaxAge = try duration(r, "ledger_max_age", zeroAllowed: false)
        return s
    }

    static func runSettings(_ r: TableReader) throws(ConfigError) -> RunSettings {
        try r.checkKeys(runKeys)
        var s = RunSettings()
        s.inbox = try r.string("inbox")
        s.processed = try r.string("processed")
        s.rejected = try r.string("rejected")
        s.deleteProcessed = try r.bool("delete_processed")
        s.lenient = try r.bool("lenient")
        s.poll = try r.bool("poll")
        if let v = try r.double("settle_seconds") {
            guard v >= 0 else { throw r.error("settle_seconds", .badValue(key: "settle_seconds", why: "must be ≥ 0")) }
            s.settleSeconds = v
        }
        s.processedMaxAge = try duration(r, "processed_max_age")
        s.compactEvery = try duration(r, "compact_every")
        return s
    }

    /// The built-ins and the file's declarations as TOML `[[measurement]]` tables.
    public static func render(_ declarations: [MeasurementDeclaration]) -> String {
        declarations.map(DeclarationCoding.encode).joined(separator: "\n")
    }
}

extension ConfigError {
    func with(measurement m: String) -> ConfigError {
        var e = self
        e.measurement = m
        return e
    }
}
