/// How query results are encoded: `table` (aligned, a row-count footer), `csv` (a header
/// row), `json` (one array), `ndjson` (one object per line), `chart` (bars or sparklines,
/// only for rows shaped `time, series…, value`). The CLI's `--format` names these.
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, csv, json, ndjson
    /// Only `agg` and `stats` draw charts.
    case chart
}

/// A cell: text, or a number (unquoted in JSON).
public enum Cell: Equatable, Sendable {
    case text(String)
    case int(Int64)
    case double(Double)
    case time(Int64)
    case null
    case bool(Bool)
    /// A string list: `a;b` in CSV and table, an array in JSON.
    case strings([String])
}
