/// `[[measurement]]` tables ↔ `MeasurementDeclaration`. Decoding validates everything a
/// declaration can get wrong (docs/CONFIG.md "Validation") and reports it with the position
/// of the offending value; encoding writes the form `DefaultDeclarations.text` uses.
enum DeclarationCoding {
    static let measurementKeys = ["name", "records", "files", "vehicle", "time", "fields", "identity", "latest", "retention", "rollups"]
    static let fileKeys = ["prefixes", "key", "ndjson"]
    static let vehicleKeys = ["column", "keys"]
    static let timeKeys = ["column", "key", "alt_keys", "format"]
    static let fieldKeys = ["name", "key", "type", "required", "min", "max", "allowed", "max_bytes"]
    static let reservedNames = ["vehicle_id", "time"]

    /// Why `n` is not a name (`[A-Za-z_][A-Za-z0-9_]{0,63}`), or nil.
    static func nameProblem(_ n: String) -> String? {
        if n.isEmpty { return "a name cannot be empty" }
        if n.contains("/") { return "a name cannot contain '/'" }
        if n.contains("..") { return "a name cannot contain '..'" }
        let u = Array(n.utf8)
        if u.count > 64 { return "\(u.count) bytes, at most 64" }
        func letter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F }
        guard letter(u[0]) else { return "must start with a letter or '_'" }
        guard u.allSatisfy({ letter($0) || ($0 >= 0x30 && $0 <= 0x39) }) else { return "only letters, digits and '_' are allowed" }
        return nil
    }

    /// Why `k` cannot be an input key, or nil: 1–256 bytes, no control characters.
    static func inputKeyProblem(_ k: String) -> String? {
        if k.isEmpty { return "an input key cannot be empty" }
        if k.utf8.count > 256 { return "\(k.utf8.count) bytes, at most 256" }
        if k.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return "contains a control character" }
        return nil
    }

    // MARK: Decoding

    static func decode(_ r0: TableReader) throws(ConfigError) -> MeasurementDeclaration {
        var r = r0
        guard let name = try r.string("name") else { throw r.error(nil, .missingKey("name")) }
        r.measurement = name
        try r.checkKeys(measurementKeys)
        if let why = nameProblem(name) { throw r.error("name", .invalidName(name, why: why)) }

        guard let recordsText = try r.string("records") else { throw r.error(nil, .missingKey("records")) }
        let records: RecordPath
        do { records = try RecordPath(parsing: recordsText) } catch { throw r.error("records", .badRecordPath(recordsText, why: error.why)) }

        guard let f = try r.subtable("files") else { throw r.error(nil, .missingKey("files")) }
        try f.checkKeys(fileKeys)
        let prefixes = try f.strings("prefixes") ?? []
        for p in prefixes {
            let why: String? = p.isEmpty ? "cannot be empty" : p.contains("/") ? "cannot contain '/'" : p.contains("..") ? "cannot contain '..'"
                : p.unicodeScalars.contains(where: { $0.value < 0x20 }) ? "contains a control character" : nil
            if let why { throw f.error("prefixes", .badFilePrefix(p, why: why)) }
        }
        let fileKey = try f.string("key")
        if let fileKey, let why = inputKeyProblem(fileKey) { throw f.error("key", .invalidInputKey(fileKey, why: why)) }
        if prefixes.isEmpty && fileKey == nil {
            throw f.error(nil, .badValue(key: "files", why: "name at least one file prefix or a top-level key, or no file is ever read as \(name)"))
        }
        let files = FileMatch(prefixes: prefixes, key: fileKey, ndjson: try f.bool("ndjson") ?? false)

        guard let v = try r.subtable("vehicle") else { throw r.error(nil, .missingKey("vehicle")) }
        try v.checkKeys(vehicleKeys)
        let vehicleColumn = try v.string("column") ?? "vehicle_id"
        if let why = nameProblem(vehicleColumn) { throw v.error("column", .invalidName(vehicleColumn, why: why)) }
        guard let vkeys = try v.strings("keys"), !vkeys.isEmpty else { throw v.error("keys", .missingKey("keys")) }
        for k in vkeys { if let why = inputKeyProblem(k) { throw v.error("keys", .invalidInputKey(k, why: why)) } }

        guard let t = try r.subtable("time") else { throw r.error(nil, .missingKey("time")) }
        try t.checkKeys(timeKeys)
        let timeColumn = try t.string("column") ?? "time"
        if let why = nameProblem(timeColumn) { throw t.error("column", .invalidName(timeColumn, why: why)) }
        if timeColumn == vehicleColumn { throw t.error("column", .duplicateColumn(timeColumn)) }
        guard let timeKey = try t.string("key") else { throw t.error(nil, .missingKey("key")) }
        if let why = inputKeyProblem(timeKey) { throw t.error("key", .invalidInputKey(timeKey, why: why)) }
        let altKeys = try t.strings("alt_keys") ?? []
        for k in altKeys { if let why = inputKeyProblem(k) { throw t.error("alt_keys", .invalidInputKey(k, why: why)) } }
        let formatText = try t.string("format") ?? TimeFormat.rfc3339.rawValue
        guard let format = TimeFormat(rawValue: formatText) else { throw t.error("format", .unknownTimeFormat(formatText)) }

        let fieldTables = try r.tables("fields")
        guard !fieldTables.isEmpty else { throw r.error("fields", .missingKey("fields")) }
        guard fieldTables.count <= MeasurementDeclaration.maxFields else { throw r.error("fields", .tooManyFields(fieldTables.count)) }
        var fields: [FieldDeclaration] = []
        var seen: Set<String> = [vehicleColumn, timeColumn]
        for ft in fieldTables {
            let field = try decodeField(ft, reserved: Set(reservedNames + [vehicleColumn, timeColumn]))
            guard seen.insert(field.name).inserted else {
                var e = ft.error("name", .duplicateColumn(field.name))
                e.column = field.name
                throw e
            }
            fields.append(field)
        }

        let identity = try r.strings("identity") ?? []
        var idSeen: Set<String> = []
        for c in identity {
            guard let f = fields.first(where: { $0.name == c }) else { throw r.error("identity", .identityUnknownColumn(c)) }
            guard f.type != .stringList else { throw r.error("identity", .identityListColumn(c)) }
            guard idSeen.insert(c).inserted else { throw r.error("identity", .duplicateIdentity(c)) }
        }
        let latest = try r.string("latest")
        if let latest {
            guard let f = fields.first(where: { $0.name == latest }) else { throw r.error("latest", .latestUnknownColumn(latest)) }
            guard f.type == .string else { throw r.error("latest", .latestNotString(latest)) }
        }
        var retention: Retention?
        if let text = try r.string("retention") {
            guard let ret = Retention(text) else { throw r.error("retention", .badRetention(text)) }
            retention = ret
        }
        var rollups: [RollupDeclaration] = []
        for rt in try r.tables("rollups") {
            let rollup = try RollupCoding.decode(rt, fields: fields, vehicleColumn: vehicleColumn, timeColumn: timeColumn)
            guard !rollups.contains(where: { $0.name == rollup.name }) else {
                throw rt.error(rt.table["name"] == nil ? "every" : "name", .duplicateRollup(rollup.name))
            }
            rollups.append(rollup)
        }
        return MeasurementDeclaration(
            name: name, vehicle: VehicleSource(column: vehicleColumn, keys: vkeys),
            time: TimeSource(column: timeColumn, key: timeKey, format: format, altKeys: altKeys), fields: fields, identity: identity,
            latest: latest, records: records, files: files, retention: retention, rollups: rollups)
    }

    private static func decodeField(_ r0: TableReader, reserved: Set<String>) throws(ConfigError) -> FieldDeclaration {
        var r = r0
        guard let name = try r.string("name") else { throw r.error(nil, .missingKey("name")) }
        r.column = name
        try r.checkKeys(fieldKeys)
        if let why = nameProblem(name) { throw r.error("name", .invalidName(name, why: why)) }
        if reserved.contains(name) { throw r.error("name", .reservedName(name)) }
        let key = try r.string("key") ?? name
        if let why = inputKeyProblem(key) { throw r.error("key", .invalidInputKey(key, why: why)) }
        guard let typeText = try r.string("type") else { throw r.error(nil, .missingKey("type")) }
        guard let type = FieldType(rawValue: typeText) else { throw r.error("type", .unknownType(typeText)) }
        let minB = try r.number("min"), maxB = try r.number("max")
        for (k, b) in [("min", minB), ("max", maxB)] {
            guard let b else { continue }
            guard type.isNumber else { throw r.error(k, .validationNotForType(key: k, type: type.rawValue)) }
            if type == .int64, case .float = b { throw r.error(k, .badValue(key: k, why: "an int64 field's bound must be an integer")) }
        }
        if let minB, let maxB, minB.doubleValue > maxB.doubleValue {
            throw r.error("max", .badValue(key: "max", why: "is below min"))
        }
        let allowed = try r.strings("allowed")
        if let allowed {
            guard type == .string || type == .stringList else { throw r.error("allowed", .validationNotForType(key: "allowed", type: type.rawValue)) }
            guard !allowed.isEmpty else { throw r.error("allowed", .badValue(key: "allowed", why: "an empty list accepts nothing")) }
        }
        var maxBytes: Int?
        if let mb = try r.integer("max_bytes") {
            guard type == .string || type == .stringList else { throw r.error("max_bytes", .validationNotForType(key: "max_bytes", type: type.rawValue)) }
            guard mb >= 1 && mb <= 1 << 20 else { throw r.error("max_bytes", .badValue(key: "max_bytes", why: "must be 1…1048576")) }
            maxBytes = Int(mb)
            if let long = allowed?.first(where: { $0.utf8.count > mb }) {
                throw r.error("allowed", .badValue(key: "allowed", why: "\(TOMLWriter.quote(long)) is longer than max_bytes"))
            }
        }
        return FieldDeclaration(name: name, key: key, type: type, required: try r.bool("required") ?? true,
                                min: minB, max: maxB, allowed: allowed, maxBytes: maxBytes)
    }

    // MARK: Encoding

    /// One `[[measurement]]` table as TOML text (the layout of `DefaultDeclarations.text`).
    static func encode(_ d: MeasurementDeclaration) -> String {
        func q(_ s: String) -> String { TOMLWriter.quote(s) }
        func list(_ a: [String]) -> String { "[" + a.map(q).joined(separator: ", ") + "]" }
        var out = "[[measurement]]\nname = \(q(d.name))\n"
        out += "records = \(q(d.records.description))\n"
        var files = ["prefixes = \(list(d.files.prefixes))"]
        if let k = d.files.key { files.append("key = \(q(k))") }
        if d.files.ndjson { files.append("ndjson = true") }
        out += "files = { \(files.joined(separator: ", ")) }\n"
        var vehicle: [String] = []
        if d.vehicle.column != "vehicle_id" { vehicle.append("column = \(q(d.vehicle.column))") }
        vehicle.append("keys = \(list(d.vehicle.keys))")
        out += "vehicle = { \(vehicle.joined(separator: ", ")) }\n"
        var time: [String] = []
        if d.time.column != "time" { time.append("column = \(q(d.time.column))") }
        time.append("key = \(q(d.time.key))")
        if !d.time.altKeys.isEmpty { time.append("alt_keys = \(list(d.time.altKeys))") }
        time.append("format = \(q(d.time.format.rawValue))")
        out += "time = { \(time.joined(separator: ", ")) }\n"
        if !d.identity.isEmpty { out += "identity = \(list(d.identity))\n" }
        if let l = d.latest { out += "latest = \(q(l))\n" }
        if let r = d.retention { out += "retention = \(q(r.text))\n" }
        out += "fields = [\n"
        for f in d.fields {
            var parts = ["name = \(q(f.name))"]
            if f.key != f.name { parts.append("key = \(q(f.key))") }
            parts.append("type = \(q(f.type.rawValue))")
            if !f.required { parts.append("required = false") }
            if let m = f.min { parts.append("min = \(TOMLWriter.inline(m.toml))") }
            if let m = f.max { parts.append("max = \(TOMLWriter.inline(m.toml))") }
            if let a = f.allowed { parts.append("allowed = \(list(a))") }
            if let m = f.maxBytes { parts.append("max_bytes = \(m)") }
            out += "  { \(parts.joined(separator: ", ")) },\n"
        }
        out += "]\n"
        if !d.rollups.isEmpty {
            out += "rollups = [\n"
            for r in d.rollups { out += "  \(RollupCoding.encode(r)),\n" }
            out += "]\n"
        }
        return out
    }
}
