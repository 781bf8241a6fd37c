/// Why a config file (or one declaration in it) was refused. Every error names the file, the
/// line:column where TOML gives one, the table path (`measurement[3].fields[2]`), and the
/// measurement and column concerned; tests match on `problem`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var position: TOMLPosition?
    /// Where in the document: `store`, `measurement[2]`, `measurement[2].fields[0]`.
    public var path: String
    public var measurement: String?
    public var column: String?
    public var problem: Problem

    public enum Problem: Sendable, Equatable {
        /// The file is not TOML (position in `ConfigError.position`).
        case syntax(String)
        case cannotRead(String)
        case unknownKey(String, suggestion: String?)
        case wrongType(key: String, expected: String, found: String)
        case missingKey(String)
        case unknownType(String)
        case unknownTimeFormat(String)
        case unknownPrecision(String)
        case duplicateColumn(String)
        case duplicateMeasurement(String)
        case tooManyFields(Int)
        case invalidName(String, why: String)
        case reservedName(String)
        case invalidInputKey(String, why: String)
        case identityUnknownColumn(String)
        case identityListColumn(String)
        case duplicateIdentity(String)
        case latestUnknownColumn(String)
        case latestNotString(String)
        case badRecordPath(String, why: String)
        case badRetention(String)
        case badDuration(key: String, value: String)
        case badSize(key: String, value: String)
        case badValue(key: String, why: String)
        case validationNotForType(key: String, type: String)
        case badFilePrefix(String, why: String)
        case fileClaimedTwice(String, by: String)
        /// The engine cannot store this column type yet (see `ColumnTypeAdapter`).
        case typeNotStorable(String)
        /// A rollup's `by` or `of` names a column it cannot use (`key` is `by` or `of`).
        case rollupColumn(key: String, column: String, why: String)
        case unknownRollupFunction(String, suggestion: String?)
        case duplicateRollup(String)
    }

    public init(file: String? = nil, position: TOMLPosition? = nil, path: String, measurement: String? = nil, column: String? = nil, _ problem: Problem) {
        self.file = file
        self.position = position
        self.path = path
        self.measurement = measurement
        self.column = column
        self.problem = problem
    }

    /// `config file F:L:C: measurement 'm', column 'c' (measurement[1].fields[0]): message`.
    public var description: String {
        var s = "config file \(file ?? "(text)")"
        if let position { s += ":\(position.line):\(position.column)" }
        s += ": "
        var at: [String] = []
        if let measurement { at.append("measurement '\(measurement)'") }
        if let column { at.append("column '\(column)'") }
        if !at.isEmpty || !path.isEmpty {
            s += at.joined(separator: ", ")
            if !path.isEmpty { s += at.isEmpty ? "[\(path)]" : " ([\(path)])" }
            s += ": "
        }
        return s + message
    }

    public var message: String {
        switch problem {
        case .syntax(let m): m
        case .cannotRead(let m): "cannot be read: \(m)"
        case .unknownKey(let k, let suggestion):
            "unknown key '\(k)' in [\(path.isEmpty ? "top level" : path)]" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        case .wrongType(let k, let expected, let found): "\(k) must be \(expected), found \(found)"
        case .missingKey(let k): "missing key '\(k)'"
        case .unknownType(let t): "unknown type '\(t)': expected one of \(FieldType.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unknownTimeFormat(let t): "unknown time format '\(t)': expected one of \(TimeFormat.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unknownPrecision(let p): "unknown precision '\(p)': expected one of ns, us, ms, s"
        case .duplicateColumn(let c): "column '\(c)' is declared twice"
        case .duplicateMeasurement(let m): "measurement '\(m)' is declared twice in this file"
        case .tooManyFields(let n): "\(n) fields: a measurement has at most \(MeasurementDeclaration.maxFields)"
        case .invalidName(let n, let why): "invalid name \(TOMLWriter.quote(n)): \(why)"
        case .reservedName(let n): "'\(n)' is reserved (the vehicle and time columns): choose another field name"
        case .invalidInputKey(let k, let why): "invalid input key \(TOMLWriter.quote(k)): \(why)"
        case .identityUnknownColumn(let c): "identity names '\(c)', which is not a field of this measurement"
        case .identityListColumn(let c): "identity names '\(c)', a string_list column: lists cannot be part of a row's identity"
        case .duplicateIdentity(let c): "identity names '\(c)' twice"
        case .latestUnknownColumn(let c): "latest names '\(c)', which is not a field of this measurement"
        case .latestNotString(let c): "latest names '\(c)': the latest column must be a string column"
        case .badRecordPath(let p, let why): "records path \(TOMLWriter.quote(p)): \(why)"
        case .badRetention(let r): "retention \(TOMLWriter.quote(r)): expected a duration like 30d, 12h, 1w, or 0 (keep forever)"
        case .badDuration(let k, let v): "\(k) \(TOMLWriter.quote(v)): expected a duration like 7d, 12h, 30m, or 0"
        case .badSize(let k, let v): "\(k) \(TOMLWriter.quote(v)): expected a size like 2GiB, 500MiB, or a number of bytes"
        case .badValue(let k, let why): "\(k): \(why)"
        case .validationNotForType(let k, let t): "\(k) does not apply to a \(t) field"
        case .badFilePrefix(let p, let why): "file prefix \(TOMLWriter.quote(p)): \(why)"
        case .fileClaimedTwice(let what, let other): "\(what) is already claimed by measurement '\(other)'"
        case .typeNotStorable(let t): "the store cannot hold \(t) columns yet"
        case .rollupColumn(let k, let c, let why): "rollup \(k) names '\(c)': \(why)"
        case .unknownRollupFunction(let f, let suggestion):
            "unknown rollup function '\(f)': expected one of \(RollupDeclaration.Function.allCases.map(\.rawValue).joined(separator: ", "))"
                + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        case .duplicateRollup(let n): "rollup '\(n)' is declared twice (two rollups of one width need distinct names)"
        }
    }
}

/// The closest of `candidates` to a mistyped `key` (edit distance ≤ 2, or ≤ 1 for short keys).
public func suggestion(for key: String, among candidates: [String]) -> String? {
    let limit = key.count <= 4 ? 1 : 2
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(Array(key.lowercased().utf8), Array(c.utf8))
        if d <= limit, d < (best?.1 ?? .max) { best = (c, d) }
    }
    return best?.0
}

/// Levenshtein distance with transpositions counted as one edit.
func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[a.count][b.count]
}
