import ArgumentParser
import SystemPackage
import Synchronization
import TachoFormat
import TachoJSON
import TachoSchema
import TachoStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The config of this process: the `--config` file (TOML, docs/CONFIG.md; or the older JSON
/// form, still read), as one `TachoConfig`. The single place where commands get their file
/// settings and the declared measurements: `config.measurements` is what the readers and the
/// engine are handed (PENDING(coordinator): the declaration-driven reader and the store's
/// catalog take it from here).
struct LoadedConfig: Sendable {
    /// The file, or nil without --config.
    var path: String?
    var config: TachoConfig
    /// Read from the older JSON form (unknown keys and values of the wrong kind refused).
    var isLegacyJSON = false

    static let none = LoadedConfig(path: nil, config: TachoConfig())

    /// Every measurement in force: the built-ins as the file overrides and extends them.
    var measurements: [MeasurementDeclaration] { config.measurements }

    /// Reads `path`: JSON when it is named `*.json` or starts with `{`, else TOML. Nothing is
    /// used unless the whole file is valid; errors name the file, line:column and the problem.
    static func load(_ path: String) throws -> LoadedConfig {
        let bytes: [UInt8]
        do {
            bytes = try readSmallFile(path)
        } catch {
            throw ValidationError("config file \(path): cannot be read: \(error)")
        }
        let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        if path.hasSuffix(".json") || first == UInt8(ascii: "{") {
            let file = try ConfigFile.parse(bytes, path: path)
            // Typos are refused, as in the TOML form: a key that is not read must not look set.
            let mistakes = file.mistakes
            if !mistakes.isEmpty {
                throw ValidationError(mistakes.map { "config file \(path):\($0)" }.joined(separator: "\n"))
            }
            return LoadedConfig(path: path, config: file.tachoConfig, isLegacyJSON: true)
        }
        do {
            return LoadedConfig(path: path, config: try TachoConfig.parse(bytes: bytes, file: path))
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Age retention in the flag's form: `[store] retention`, then the declared default
    /// retention of each measurement it does not name that `catalog` holds (the store's; a
    /// measurement the store has never seen has nothing to expire).
    func retentionSpec(in catalog: Catalog) -> String? {
        var parts = config.store.retention.map { [$0] } ?? []
        let named = Set((config.store.retention ?? "").split(separator: ",").compactMap { $0.split(separator: "=").first.map(String.init) })
        for m in config.measurements where !named.contains(m.name) && catalog.measurement(named: m.name) != nil {
            if let r = m.retention { parts.append("\(m.name)=\(r.text)") }
        }
        return parts.isEmpty ? nil : parts.joined(separator: ",")
    }

    /// The process's config once `StoreOptionGroup.validate` loaded it.
    static let current = Mutex<LoadedConfig?>(nil)
}

extension ConfigFile {
    /// The older JSON config mapped onto the TOML one, key for key (see docs/CONFIG.md
    /// "The JSON form"). Values of the wrong kind are ignored, as they always were.
    var tachoConfig: TachoConfig {
        var c = TachoConfig()
        c.store.path = string("store")
        c.run.inbox = string("inbox")
        c.run.processed = string("processed")
        c.run.rejected = string("rejected")
        c.run.deleteProcessed = bool("delete_processed")
        c.run.lenient = bool("lenient")
        c.run.poll = bool("poll")
        c.run.settleSeconds = double("settle_seconds")
        c.run.processedMaxAge = string("processed_max_age")
        c.run.compactEvery = string("compact_every")
        c.store.retention = string("retention") ?? object("retention").map { obj in
            obj.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.plainText ?? "\($0.value)")" }.joined(separator: ",")
        }
        c.store.maxBytes = text("max_bytes")
        c.store.maxClockLead = string("max_clock_lead")
        c.store.minFree = text("min_free")
        c.store.compactRateMBs = double("compact_rate_mb_s")
        c.store.coldAfter = string("cold_after")
        c.store.coldLevel = double("cold_level")
        c.store.ledgerMaxAge = string("ledger_max_age")
        return c
    }
}

/// One JSON value of the config file. Numbers keep their literal text: `max_bytes` may be
/// written as a number or a string and is parsed by the same size parser either way.
enum ConfigValue: Equatable {
    case string(String)
    case number(text: String)
    case bool(Bool)
    case null
    case object([String: ConfigValue])
    case array([ConfigValue])

    /// The value as an operator would type it on the command line: a string as is, a number
    /// as `plainNumber` renders it, `true`/`false`/`null`; nil for objects and arrays.
    var plainText: String? {
        switch self {
        case .string(let s): s
        case .number(let t): ConfigValue.plainNumber(t)
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .object, .array: nil
        }
    }

    /// An integer literal in decimal (`1000000`), any other number as a Double prints
    /// (`1e6` → `1000000.0`, which is not a size): as the Foundation-based reader rendered them.
    static func plainNumber(_ literal: String) -> String {
        if let i = Int64(literal) { return String(i) }
        if let d = Double(literal) { return "\(d)" }
        return literal
    }
}

/// A JSON config file, read once at start-up (not on the ingest path).
///
/// The top level must be an object; every key is optional (see `tacho run --help`).
/// Duplicate keys: the last one wins.
struct ConfigFile {
    var values: [String: ConfigValue] = [:]
    /// Where each top-level key is (line, column).
    var positions: [String: (line: Int, column: Int)] = [:]

    /// The kinds of value each key of the JSON form takes.
    enum Kind { case string, bool, number, size, retention }
    static let keys: [String: Kind] = [
        "store": .string, "inbox": .string, "processed": .string, "rejected": .string,
        "delete_processed": .bool, "lenient": .bool, "poll": .bool, "settle_seconds": .number,
        "processed_max_age": .string, "compact_every": .string, "retention": .retention,
        "max_bytes": .size, "max_clock_lead": .string, "min_free": .size, "compact_rate_mb_s": .number,
        "cold_after": .string, "cold_level": .number, "ledger_max_age": .string,
    ]

    /// `line:column: …` for each key the form does not know (with the nearest known one) and
    /// each value of the wrong kind: what makes `load` refuse the file.
    var mistakes: [String] {
        var out: [(Int, Int, String)] = []
        for (k, v) in values {
            let at = positions[k] ?? (0, 0)
            guard let kind = Self.keys[k] else {
                let near = suggestion(for: k, among: Array(Self.keys.keys)).map { "; did you mean '\($0)'?" } ?? ""
                out.append((at.line, at.column, "unknown key '\(k)'\(near)"))
                continue
            }
            let ok: Bool
            switch (kind, v) {
            case (.string, .string), (.bool, .bool), (.number, .number), (.size, .string), (.size, .number),
                 (.retention, .string), (.retention, .object):
                ok = true
            default:
                ok = false
            }
            if !ok {
                let want = switch kind {
                case .string: "a string"
                case .bool: "true or false"
                case .number: "a number"
                case .size: "a size (a string like \"2GiB\" or a number of bytes)"
                case .retention: "a string or an object of ages"
                }
                out.append((at.line, at.column, "\(k) must be \(want)"))
            }
        }
        return out.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { "\($0.0):\($0.1): \($0.2)" }
    }

    /// Parses the JSON `bytes` of `path`. Errors name the file, `line:column` and what was expected.
    static func parse(_ bytes: [UInt8], path: String) throws -> ConfigFile {
        do {
            let parser = ConfigParser(bytes: bytes)
            let values = try parser.document()
            return ConfigFile(values: values, positions: parser.topLevelPositions.value)
        } catch {
            throw ValidationError("config file \(path):\(error.line):\(error.column): \(error.message)")
        }
    }

    /// A string value (a number is not a string here).
    func string(_ k: String) -> String? {
        if case .string(let s) = values[k] { return s }
        return nil
    }

    func bool(_ k: String) -> Bool? {
        if case .bool(let b) = values[k] { return b }
        return nil
    }

    /// A number value.
    func double(_ k: String) -> Double? {
        if case .number(let t) = values[k] { return Double(t) }
        return nil
    }

    /// A string, or a number written as one (`"max_bytes": 1000000`).
    func text(_ k: String) -> String? {
        switch values[k] {
        case .string(let s): s
        case .number(let t): ConfigValue.plainNumber(t)
        default: nil
        }
    }

    /// A nested object (`"retention": {"detections": "30d"}`).
    func object(_ k: String) -> [String: ConfigValue]? {
        if case .object(let o) = values[k] { return o }
        return nil
    }
}

/// A syntax error at a position of the config file.
struct ConfigSyntaxError: Error {
    var line: Int
    var column: Int
    var message: String
}

/// Builds `ConfigValue`s from TachoJSON's token stream (strict RFC 8259).
private struct ConfigParser {
    let parser: JSONParser
    /// Where each top-level key was read.
    let topLevelPositions = Box<[String: (line: Int, column: Int)]>([:])

    final class Box<T> {
        var value: T
        init(_ value: T) { self.value = value }
    }

    init(bytes: [UInt8]) {
        // A config file is small and shallow: modest limits bound a hostile one.
        let limits = JSONLimits(maxDepth: 64, maxStringBytes: 1 << 16, maxNumberLength: 64)
        parser = JSONParser(source: BytesSource(bytes), options: JSONParserOptions(limits: limits, chunkSize: 64 * 1024))
    }

    /// The top-level object's members; anything after it but whitespace is an error.
    func document() throws(ConfigSyntaxError) -> [String: ConfigValue] {
        let first = try next()
        guard first == .beginObject else {
            throw error("expected a JSON object at the top level, found \(Self.describe(first))")
        }
        let members = try objectMembers(topLevel: true)
        let end = try next()
        guard end == .endOfDocument else { throw error("expected the end of the file after the top-level object") }
        return members
    }

    /// After `{`: members up to and including `}`.
    private func objectMembers(topLevel: Bool = false) throws(ConfigSyntaxError) -> [String: ConfigValue] {
        var out: [String: ConfigValue] = [:]
        while true {
            switch try next() {
            case .endObject:
                return out
            case .key:
                let key = parser.stringValue
                if topLevel { topLevelPositions.value[key] = (parser.position.line, parser.position.column) }
                out[key] = try value(try next())
            case let t:
                throw error("expected a key or '}', found \(Self.describe(t))")
            }
        }
    }

    /// The value starting with token `t` (recursion is bounded by the depth limit).
    private func value(_ t: JSONToken) throws(ConfigSyntaxError) -> ConfigValue {
        switch t {
        case .string: return .string(parser.stringValue)
        case .number:
            let text = parser.withNumberBytes { String(decoding: $0, as: UTF8.self) }
            // The parser leaves range to its reader: a setting is a sane number or an error.
            let integerLiteral = !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
            if integerLiteral && parser.int64Value == nil {
                throw error("integer \(text) is outside the Int64 range")
            }
            if !parser.doubleValue.isFinite { throw error("number \(text) is outside the Double range") }
            return .number(text: text)
        case .bool(let b): return .bool(b)
        case .null: return .null
        case .beginObject: return .object(try objectMembers())
        case .beginArray:
            var items: [ConfigValue] = []
            while true {
                let u = try next()
                if u == .endArray { return .array(items) }
                items.append(try value(u))
            }
        case .endObject, .endArray, .key, .endOfDocument:
            throw error("expected a value, found \(Self.describe(t))")
        }
    }

    private func next() throws(ConfigSyntaxError) -> JSONToken {
        do {
            return try parser.next()
        } catch {
            switch error.kind {
            case .truncated:
                throw ConfigSyntaxError(line: error.line, column: error.column, message: "unexpected end of file: \(error.message)")
            case .trailingContent:
                // The parser says "unexpected 'x' after the top-level value".
                let found = error.message.split(separator: " ").dropFirst().first.map { ", found \($0)" } ?? ""
                throw ConfigSyntaxError(
                    line: error.line, column: error.column,
                    message: "expected the end of the file after the top-level object\(found)")
            default:
                throw ConfigSyntaxError(line: error.line, column: error.column, message: error.message)
            }
        }
    }

    private func error(_ message: String) -> ConfigSyntaxError {
        ConfigSyntaxError(line: parser.position.line, column: parser.position.column, message: message)
    }

    private static func describe(_ t: JSONToken) -> String {
        switch t {
        case .beginObject: "an object"
        case .beginArray: "an array"
        case .endObject: "'}'"
        case .endArray: "']'"
        case .key: "a key"
        case .string: "a string"
        case .number: "a number"
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .endOfDocument: "the end of the file"
        }
    }
}

// MARK: - Small POSIX helpers (the CLI module imports no Foundation)

/// The environment variable `name`, or nil when unset or empty (`TACHO_STORE= tacho …` means
/// the default, as it does for `--store` in every command).
func environment(_ name: String) -> String? {
    guard let v = getenv(name), v.pointee != 0 else { return nil }
    return String(cString: v)
}

extension String {
    /// Without leading and trailing whitespace (newlines included).
    var trimmingWhitespace: Substring {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return self[first...last]
    }
}

/// Why a small file could not be opened: the errno text.
struct ReadFileError: Error, CustomStringConvertible {
    var operation: String
    var errno: Int32
    var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

/// The whole content of a small file (config, test fakes), following symbolic links (the
/// store's `readFile` refuses them); read by the store's `readAll`.
func readSmallFile(_ path: String, limit: Int = 16 << 20) throws -> [UInt8] {
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw ReadFileError(operation: "open", errno: errno) }
    defer { _ = close(fd) }
    return try readAll(FileDescriptor(rawValue: fd), path: path, limit: limit)
}
