/// A measurement's `rollups = [{ … }]` entries ↔ `RollupDeclaration`, refused with the
/// position of the offending value like the rest of a declaration (docs/CONFIG.md "Rollups").
enum RollupCoding {
    static let rollupKeys = ["name", "every", "by", "of", "fns", "retention"]

    /// Why `n` cannot name a rollup (`[A-Za-z0-9_]{1,32}`: it follows `<measurement>:`), or nil.
    static func nameProblem(_ n: String) -> String? {
        if n.isEmpty { return "a name cannot be empty" }
        if n.utf8.count > 32 { return "\(n.utf8.count) bytes, at most 32" }
        let ok = n.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F
        }
        return ok ? nil : "only letters, digits and '_' are allowed"
    }

    static func decode(_ r: TableReader, fields: [FieldDeclaration], vehicleColumn: String, timeColumn: String) throws(ConfigError)
        -> RollupDeclaration
    {
        try r.checkKeys(rollupKeys)
        guard let everyText = try r.string("every") else { throw r.error(nil, .missingKey("every")) }
        guard let every = Retention(everyText) else {
            throw r.error("every", .badDuration(key: "every", value: everyText))
        }
        if let why = RollupDeclaration.widthProblem(every.micros) { throw r.error("every", .badValue(key: "every", why: "\(everyText) \(why)")) }
        let name = try r.string("name") ?? everyText
        if let why = nameProblem(name) { throw r.error(r.table["name"] == nil ? "every" : "name", .invalidName(name, why: why)) }

        var fns: [RollupDeclaration.Function] = []
        for f in try r.strings("fns") ?? ["count"] {
            guard let fn = RollupDeclaration.Function(rawValue: f) else {
                throw r.error("fns", .unknownRollupFunction(f, suggestion: suggestion(for: f, among: RollupDeclaration.Function.allCases.map(\.rawValue))))
            }
            guard !fns.contains(fn) else { throw r.error("fns", .badValue(key: "fns", why: "names '\(f)' twice")) }
            fns.append(fn)
        }

        var by: [String] = []
        for c in try r.strings("by") ?? [] {
            if c == vehicleColumn || c == "vehicle" || c == "vehicle_id" {
                throw r.error("by", .rollupColumn(key: "by", column: c, why: "a rollup is always grouped by vehicle"))
            }
            if c == timeColumn { throw r.error("by", .rollupColumn(key: "by", column: c, why: "the time column is the window, not a group")) }
            guard let f = fields.first(where: { $0.name == c }) else {
                throw r.error("by", .rollupColumn(key: "by", column: c, why: "not a field of this measurement"))
            }
            guard f.type == .string || f.type == .int64 || f.type == .bool else {
                throw r.error("by", .rollupColumn(key: "by", column: c, why: "a \(f.type.rawValue) column cannot group (string, int64 and bool can)"))
            }
            guard !by.contains(c) else { throw r.error("by", .rollupColumn(key: "by", column: c, why: "named twice")) }
            by.append(c)
        }

        let declared = RollupDeclaration(every: every, name: name, by: by, fns: fns)
        let valueFns = declared.valueFunctions
        var of: [String] = []
        for c in try r.strings("of") ?? [] {
            guard let f = fields.first(where: { $0.name == c }) else {
                throw r.error("of", .rollupColumn(key: "of", column: c, why: "not a field of this measurement"))
            }
            if by.contains(c) { throw r.error("of", .rollupColumn(key: "of", column: c, why: "it is a grouping column (by)")) }
            if f.type == .stringList { throw r.error("of", .rollupColumn(key: "of", column: c, why: "lists cannot be summarised")) }
            if !f.type.isNumber, let fn = valueFns.first(where: \.needsNumber) {
                throw r.error("of", .rollupColumn(key: "of", column: c, why: "\(fn.rawValue) needs a number column, this one is \(f.type.rawValue)"))
            }
            guard !of.contains(c) else { throw r.error("of", .rollupColumn(key: "of", column: c, why: "named twice")) }
            of.append(c)
        }
        if of.isEmpty, let fn = valueFns.first {
            throw r.error(nil, .badValue(key: "of", why: "\(fn.rawValue) needs the columns it applies to (of = [\"value\"])"))
        }
        if !of.isEmpty && valueFns.isEmpty {
            throw r.error("of", .badValue(key: "of", why: "no function applies to it: add sum, min, max, first or last to fns"))
        }
        var retention: Retention?
        if let text = try r.string("retention") {
            guard let ret = Retention(text) else { throw r.error("retention", .badRetention(text)) }
            retention = ret
        }
        var out = declared
        out.of = of
        out.retention = retention
        let stored = out.storedColumnNames
        if let clash = stored.first(where: { n in stored.filter { $0 == n }.count > 1 || n == vehicleColumn || n == timeColumn }) {
            throw r.error("by", .duplicateColumn(clash))
        }
        return out
    }

    /// `{ every = "15m", by = ["object_type"], of = ["value"], fns = [...], retention = "400d" }`.
    static func encode(_ r: RollupDeclaration) -> String {
        func q(_ s: String) -> String { TOMLWriter.quote(s) }
        func list(_ a: [String]) -> String { "[" + a.map(q).joined(separator: ", ") + "]" }
        var parts = ["every = \(q(r.every.text))"]
        if r.name != r.every.text { parts.append("name = \(q(r.name))") }
        if !r.by.isEmpty { parts.append("by = \(list(r.by))") }
        if !r.of.isEmpty { parts.append("of = \(list(r.of))") }
        parts.append("fns = \(list(r.fns.map(\.rawValue)))")
        if let ret = r.retention { parts.append("retention = \(q(ret.text))") }
        return "{ \(parts.joined(separator: ", ")) }"
    }
}
