import ArgumentParser
import TachoOutput
#if canImport(Glibc)
import Glibc
#endif

// The CLI's side of output: `--format`, stdout, the terminal's width. The encoding itself is
// TachoOutput's (`RowPrinter`), shared with every other front.

extension OutputFormat: ExpressibleByArgument {
    public init?(argument: String) {
        guard argument != "chart", let f = OutputFormat(rawValue: argument) else { return nil }
        self = f
    }

    public static var allValueStrings: [String] { ["table", "csv", "json", "ndjson"] }
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

extension RowPrinter {
    /// A printer onto stdout; a chart is as wide as the terminal (`terminalWidth()`).
    init(_ format: OutputFormat, columns: [String]) {
        self.init(format, columns: columns, chartWidth: format == .chart ? terminalWidth() : 80, sink: writeStandardOutput)
    }
}

/// $COLUMNS, else stdout's terminal width, else 80.
func terminalWidth() -> Int {
    if let c = environment("COLUMNS").flatMap({ Int($0) }), c > 0 { return c }
    var ws = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return Int(ws.ws_col) }
    return 80
}

/// All of `bytes` to fd 1; when stdout is closed (e.g. `| head`), stop quietly.
private func writeStandardOutput(_ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + done, $0.count - done) }
        if n < 0 {
            if errno == EINTR { continue }
            exit(0)
        }
        done += n
    }
}
