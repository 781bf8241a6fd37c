/// Reads typed values out of one TOML table, with errors that name the file, the value's
/// line:column, the table path and the measurement/column being read.
struct TableReader {
    let table: TOMLTable
    let path: String
    let file: String?
    var measurement: String?
    var column: String?

    init(_ table: TOMLTable, path: String, file: String?, measurement: String? = nil, column: String? = nil) {
        self.table = table
        self.path = path
        self.file = file
        self.measurement = measurement
        self.column = column
    }

    func error(_ key: String?, _ problem: ConfigError.Problem) -> ConfigError {
        let pos = key.flatMap { table[$0]?.position } ?? table.position
        return ConfigError(file: file, position: pos, path: path, measurement: measurement, column: column, problem)
    }

    /// Refuses any key not in `allowed`, suggesting the closest allowed one.
    func checkKeys(_ allowed: [String]) throws(ConfigError) {
        for k in table.keys where !allowed.contains(k) {
            throw error(k, .unknownKey(k, suggestion: suggestion(for: k, among: allowed)))
        }
    }

    private func wrong(_ key: String, _ expected: String) -> ConfigError {
        error(key, .wrongType(key: key, expected: expected, found: table[key]?.value.kindName ?? "nothing"))
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let n = table[key] else { return nil }
        guard case .string(let s) = n.value else { throw wrong(key, "a string") }
        return s
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let n = table[key] else { return nil }
        guard case .bool(let v) = n.value else { throw wrong(key, "true or false") }
        return v
    }

    /// A number (integer or float).
    func number(_ key: String) throws(ConfigError) -> NumberBound? {
        guard let n = table[key] else { return nil }
        switch n.value {
        case .integer(let v): return .int(v)
        case .float(let d) where d.isFinite: return .float(d)
        case .float: throw error(key, .badValue(key: key, why: "must be a finite number"))
        default: throw wrong(key, "a number")
        }
    }

    func double(_ key: String) throws(ConfigError) -> Double? { try number(key)?.doubleValue }

    func integer(_ key: String) throws(ConfigError) -> Int64? {
        guard let n = table[key] else { return nil }
        guard case .integer(let v) = n.value else { throw wrong(key, "an integer") }
        return v
    }

    /// A string, or an integer written as a number (`max_bytes = 1000000`).
    func text(_ key: String) throws(ConfigError) -> String? {
        guard let n = table[key] else { return nil }
        switch n.value {
        case .string(let s): return s
        case .integer(let v): return String(v)
        default: throw wrong(key, "a string or an integer")
        }
    }

    /// An array of strings; a single string is taken as a one-element array.
    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let n = table[key] else { return nil }
        switch n.value {
        case .string(let s): return [s]
        case .array(let items):
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item.value else {
                    throw error(key, .wrongType(key: key, expected: "an array of strings", found: "an array holding \(item.value.kindName)"))
                }
                out.append(s)
            }
            return out
        default: throw wrong(key, "an array of strings")
        }
    }

    func subtable(_ key: String, path sub: String? = nil) throws(ConfigError) -> TableReader? {
        guard let n = table[key] else { return nil }
        guard case .table(let t) = n.value else { throw wrong(key, "a table") }
        return TableReader(t, path: sub ?? (path.isEmpty ? key : "\(path).\(key)"), file: file, measurement: measurement, column: column)
    }

    /// An array of tables (`[[x]]` or `x = [{…}, {…}]`), each with its path `x[i]`.
    func tables(_ key: String) throws(ConfigError) -> [TableReader] {
        guard let n = table[key] else { return [] }
        guard case .array(let items) = n.value else { throw wrong(key, "an array of tables") }
        var out: [TableReader] = []
        for (i, item) in items.enumerated() {
            guard case .table(let t) = item.value else {
                throw error(key, .wrongType(key: key, expected: "an array of tables", found: "an array holding \(item.value.kindName)"))
            }
            var t2 = t
            t2.position = item.position
            out.append(TableReader(t2, path: path.isEmpty ? "\(key)[\(i)]" : "\(path).\(key)[\(i)]", file: file, measurement: measurement, column: column))
        }
        return out
    }
}
