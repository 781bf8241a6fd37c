import HTTPTypes
import TachoOutput
import TachoQuery
import TachoStore

/// A request the API refuses: its status, a message for an operator that names what was
/// expected, and the query parameter (or body position) it is about. Sent as the JSON object
/// `{"error": …, "parameter": …}` (docs/HTTP.md "Errors").
struct APIError: Error, Sendable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String
    var parameter: String?
    /// Extra response headers (`Retry-After`).
    var headers: HTTPFields = [:]
    /// Extra members of the JSON object after `error` and `parameter` (counts, rejects).
    var extra: [(name: String, value: Cell)] = []

    init(_ status: HTTPResponse.Status, _ message: String, parameter: String? = nil) {
        (self.status, self.message, self.parameter) = (status, message, parameter)
    }

    var description: String { message }

    static func badParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, "\(name): \(message)", parameter: name)
    }

    /// A query library or store error as the API answers it: an unknown measurement is 404,
    /// other query errors 400 (naming `parameter` when the caller knows which one caused
    /// it), a snapshot whose files went meanwhile 503 (ask again), other store errors 500.
    static func from(_ error: any Error, parameter: String? = nil) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as QueryError:
            switch e.code {
            case .unknownMeasurement: return APIError(.notFound, e.message)
            case .sumOverflow: return APIError(.unprocessableContent, e.message, parameter: parameter)
            default: return APIError(.badRequest, e.message, parameter: parameter)
            }
        case let e as StoreError where e.code == .stale:
            var a = APIError(.serviceUnavailable, "the store changed under this query; ask again (\(e.description))")
            a.headers[.retryAfter] = "1"
            return a
        default:
            return APIError(.internalServerError, "\(error)")
        }
    }

    /// The body: one JSON object and a newline, printed by TachoOutput's encoder.
    var body: [UInt8] {
        RowPrinter.encode(.ndjson, columns: ["error", "parameter"] + extra.map(\.name),
                          rows: [[.text(message), parameter.map(Cell.text) ?? .null] + extra.map(\.value)])
    }
}
