import TachoJSON

/// Encodes rows in the chosen format into one buffer and hands it to `sink` in pieces of
/// about 64 KiB (no per-row syscalls when the sink writes a descriptor): the one encoder of
/// the CLI's output, an HTTP response body and any other front. `table` and `chart` hold
/// rows until `finish()` to align columns. A noncopyable struct, not a class: the buffer is
/// appended to byte by byte, and a class property would pay a dynamic exclusivity check on
/// every append.
public struct RowPrinter: ~Copyable {
    /// Receives the encoded bytes, in order; each call's bytes follow the previous call's.
    public typealias Sink = ([UInt8]) -> Void

    public let format: OutputFormat
    public let columns: [String]
    private let sink: Sink
    /// `"column":` per column for json/ndjson, quoted once instead of once per cell.
    private let jsonKeys: [[UInt8]]
    private var out: [UInt8] = []
    private var table: TableWriter
    private var chart: ChartWriter?
    private var count = 0

    /// `chartWidth`: the terminal columns a `chart` fills (at least 40).
    public init(_ format: OutputFormat, columns: [String], chartWidth: Int = 80, sink: @escaping Sink) {
        self.format = format
        self.columns = columns
        self.sink = sink
        jsonKeys = columns.map { Array((jsonQuoted($0) + ":").utf8) }
        table = TableWriter(columns: format == .table ? columns : [])
        chart = format == .chart ? ChartWriter(columns: columns, width: chartWidth) : nil
        out.reserveCapacity(1 << 16)
        switch format {
        case .csv: emit(columns.map(csvEscape).joined(separator: ",") + "\n")
        case .json: emit("[")
        case .table, .ndjson, .chart: break
        }
    }

    public mutating func row(_ cells: [Cell]) {
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

    /// Ends the output (json's `]`, the table, the chart) and hands every byte left to the sink.
    public mutating func finish() {
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
        guard !out.isEmpty else { return }
        sink(out)
        out.removeAll(keepingCapacity: true)
    }
}

extension RowPrinter {
    /// `rows` encoded whole: what a `RowPrinter` over `columns` hands its sink for them.
    public static func encode(_ format: OutputFormat, columns: [String], rows: [[Cell]], chartWidth: Int = 80) -> [UInt8] {
        let collected = ByteCollector()
        var p = RowPrinter(format, columns: columns, chartWidth: chartWidth) { collected.bytes += $0 }
        for r in rows { p.row(r) }
        p.finish()
        return collected.bytes
    }
}

/// The sink of `RowPrinter.encode`: a box the escaping closure appends to.
private final class ByteCollector {
    var bytes: [UInt8] = []
}

/// A CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line break.
public func csvEscape(_ s: String) -> String {
    guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) else { return s }
    return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
}

/// A double as csv/json print it: integral values without a fraction, else Swift's shortest
/// round-trip form.
public func formatDouble(_ v: Double) -> String {
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
