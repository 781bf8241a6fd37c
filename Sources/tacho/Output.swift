import ArgumentParser
import TachoIngest
import TachoJSON
#if canImport(Glibc)
import Glibc
#endif

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json, ndjson
    /// Only `agg` and `stats` draw charts (`ChartableFormatOptionGroup`).
    case chart

    init?(argument: String) {
        guard argument != "chart", let f = OutputFormat(rawValue: argument) else { return nil }
        self = f
    }

    static var allValueStrings: [String] { ["table", "csv", "json", "ndjson"] }
}

/// The formats of `agg` and `stats`: those of every query command, and `chart`.
enum ChartableFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json, ndjson, chart
}

struct FormatOptionGroup: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("format")], help: ArgumentHelp(
        "Output format: table (aligned, a row count at the end), csv (with a header row), json (one array), ndjson (one object per line). Default: table when stdout is a terminal, else csv.",
        valueName: "FORMAT"))
    var chosen: OutputFormat?

    /// --format, else table on a terminal and csv into a pipe or file (as duckdb and sqlite3 do).
    var format: OutputFormat { chosen ?? (isatty(1) != 0 ? .table : .csv) }
}

/// `--format` of `agg` and `stats`, which also draw a chart (`ChartWriter`).
struct ChartableFormatOptionGroup: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("format")], help: ArgumentHelp(
        "Output format: table (aligned, a row count at the end), csv (with a header row), json (one array), ndjson (one object per line), chart (bars or a sparkline per series, terminal width). Default: table when stdout is a terminal, else csv.",
        valueName: "FORMAT"))
    var chosen: ChartableFormat?

    var format: OutputFormat {
        guard let chosen else { return isatty(1) != 0 ? .table : .csv }
        return OutputFormat(rawValue: chosen.rawValue) ?? .csv
    }
}

/// A cell: text, or a number (unquoted in JSON).
enum Cell {
    case text(String)
    case int(Int64)
    case double(Double)
    case time(Int64)
    case null
    case bool(Bool)
    /// A string list: `a;b` in CSV and table, an array in JSON.
    case strings([String])
}

/// Streams rows to stdout in the chosen format through one buffer (no per-row syscalls).
/// `table` holds rows until `finish()` to align columns. A noncopyable struct, not a class:
/// the buffer is appended to byte by byte, and a class property would pay a dynamic
/// exclusivity check on every append.
struct RowPrinter: ~Copyable {
    let format: OutputFormat
    let columns: [String]
    /// `"column":` per column for json/ndjson, quoted once instead of once per cell.
    private let jsonKeys: [[UInt8]]
    private var out: [UInt8] = []
    private var table: TableWriter
    private var chart: ChartWriter?
    private var count = 0

    init(_ format: OutputFormat, columns: [String]) {
        self.format = format
        self.columns = columns
        jsonKeys = columns.map { Array((jsonQuoted($0) + ":").utf8) }
        table = TableWriter(columns: format == .table ? columns : [])
        chart = format == .chart ? ChartWriter(columns: columns) : nil
        out.reserveCapacity(1 << 16)
        switch format {
        case .csv: emit(columns.map(csvEscape).joined(separator: ",") + "\n")
        case .json: emit("[")
        case .table, .ndjson, .chart: break
        }
    }

    mutating func row(_ cells: [Cell]) {
        switch format {
        case .csv:
            for (i, c) in cells.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                switch c {
                case .text(let s): emit(csvEscape(s))
                case .int(let v): emit(String(v))
                case .double(let v): emit(formatDouble(v))
                case .time(let t): Timestamp.append(t, to: &out)
                case .null: break
                case .bool(let b): emit(b ? "true" : "false")
                case .strings(let a): emit(csvEscape(a.joined(separator: ";")))
                }
            }
            out.append(UInt8(ascii: "\n"))
        case .json, .ndjson:
            if format == .json { emit(count == 0 ? "\n" : ",\n") }
            out.append(UInt8(ascii: "{"))
            for (i, c) in cells.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: jsonKeys[i])
                switch c {
                case .text(let s): appendJSONString(s)
                case .int(let v): emit(String(v))
                case .double(let v): emit(v.isFinite ? formatDouble(v) : "null")
                case .time(let t):
                    out.append(UInt8(ascii: "\""))
                    Timestamp.append(t, to: &out)
                    out.append(UInt8(ascii: "\""))
                case .null: emit("null")
                case .bool(let b): emit(b ? "true" : "false")
                case .strings(let a):
                    out.append(UInt8(ascii: "["))
                    for (k, x) in a.enumerated() {
                        if k > 0 { out.append(UInt8(ascii: ",")) }
                        appendJSONString(x)
                    }
                    out.append(UInt8(ascii: "]"))
                }
            }
            out.append(UInt8(ascii: "}"))
            if format == .ndjson { out.append(UInt8(ascii: "\n")) }
        case .table:
            table.append(cells)
        case .chart:
            chart?.append(cells)
        }
        count += 1
        if out.count >= 1 << 16 { flush() }
    }

    mutating func finish() {
        switch format {
        case .json: emit(count == 0 ? "]\n" : "\n]\n")
        case .table:
            let t = table
            t.render { line in
                emit(line)
                if out.count >= 1 << 16 { flush() }
            }
        case .chart:
            if let c = chart {
                c.render { line in
                    emit(line)
                    if out.count >= 1 << 16 { flush() }
                }
            }
        case .csv, .ndjson: break
        }
        flush()
    }

    private mutating func emit(_ s: String) { out.append(contentsOf: s.utf8) }

    /// `jsonQuoted(s)` without building a String per cell: text that needs no escape (no
    /// quote, backslash or control byte; multi-byte UTF-8 never holds one) is copied as is.
    private mutating func appendJSONString(_ s: String) {
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") }) else {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: s.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        emit(jsonQuoted(s))
    }

    private mutating func flush() {
        var done = 0
        while done < out.count {
            let n = out.withUnsafeBytes { write(1, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                // stdout closed (e.g. `| head`): stop quietly.
                exit(0)
            }
            done += n
        }
        out.removeAll(keepingCapacity: true)
    }
}

func csvEscape(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) else { return s }
    return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
}

func formatDouble(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return String(v)
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    func replacingAll(_ a: Character, with b: String) -> String {
        var r = ""
        for c in self { if c == a { r += b } else { r.append(c) } }
        return r
    }
}
