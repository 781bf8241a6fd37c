import Hummingbird
import TachoOutput

/// How an answer is encoded: `format=json|ndjson|csv`, else the first of the `Accept` header's
/// types that names one (`application/json`, `application/x-ndjson` or `application/ndjson`,
/// `text/csv`), else JSON. Rows are printed by TachoOutput's `RowPrinter`, as the CLI prints them.
enum ResponseFormat {
    static let parameter = "format"
    static let choices: [OutputFormat] = [.json, .ndjson, .csv]

    static func negotiate(_ request: Request, _ query: QueryString) throws(APIError) -> OutputFormat {
        if let f = try query.single(parameter) {
            guard let format = OutputFormat(rawValue: f), choices.contains(format) else {
                throw APIError.badParameter(parameter, "\"\(f)\": expected json, ndjson or csv")
            }
            return format
        }
        guard let accept = request.headers[.accept] else { return .json }
        var anything = false
        for item in accept.split(separator: ",") {
            let type = item.split(separator: ";").first.map { String($0).trimmingSpaces().lowercased() } ?? ""
            switch type {
            case "application/json": return .json
            case "application/x-ndjson", "application/ndjson", "application/jsonl": return .ndjson
            case "text/csv": return .csv
            case "text/*": return .csv
            case "*/*", "application/*", "": anything = true
            default: continue
            }
        }
        guard anything else {
            throw APIError(.notAcceptable, "Accept: \(accept): expected application/json, application/x-ndjson or text/csv (or format=json|ndjson|csv)")
        }
        return .json
    }

    static func contentType(_ f: OutputFormat) -> String {
        switch f {
        case .csv: "text/csv; charset=utf-8"
        case .ndjson: "application/x-ndjson"
        case .json, .table, .chart: "application/json"
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}
