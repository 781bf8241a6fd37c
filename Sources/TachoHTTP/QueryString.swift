import Hummingbird
import TachoOutput

/// A request's query parameters, read as the CLI reads its options: a list parameter may
/// repeat and take `a,b` lists; a single one may be given once; a name the endpoint does not
/// take is refused (a typo such as `vehicel` must not widen a query to every vehicle).
struct QueryString: Sendable {
    private var pairs: [(name: String, value: String)]

    init(_ request: Request) {
        pairs = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    /// Refuses any parameter not in `allowed`, naming the ones that are.
    func check(allowed: [String]) throws(APIError) {
        for p in pairs where !allowed.contains(p.name) {
            throw APIError.badParameter(
                p.name, "unknown parameter; this endpoint takes \(allowed.map { "'\($0)'" }.joined(separator: ", "))")
        }
    }

    /// Every value of `name`, `a,b` lists split, each once in order (`ArgumentSyntax.commaList`).
    func list(_ name: String) -> [String] {
        ArgumentSyntax.commaList(pairs.filter { $0.name == name }.map(\.value))
    }

    /// Every value of `name` as given (`where` filters hold commas of their own).
    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// The value of `name`, nil when absent; given twice or empty is refused.
    func single(_ name: String) throws(APIError) -> String? {
        let values = all(name)
        guard values.count <= 1 else { throw APIError.badParameter(name, "given \(values.count) times; expected once") }
        guard let v = values.first else { return nil }
        guard !v.isEmpty else { throw APIError.badParameter(name, "empty; expected a value") }
        return v
    }

    /// A time (`from`, `to`, `at`): RFC 3339, a date, `now`, or relative (`-2h`).
    func time(_ name: String, now: Int64) throws(APIError) -> Int64? {
        guard let s = try single(name) else { return nil }
        guard let t = ArgumentSyntax.time(s, now: now) else { throw APIError.badParameter(name, ArgumentSyntax.notATime(s)) }
        return t
    }

    /// A count of 0 or more (`limit`).
    func count(_ name: String) throws(APIError) -> Int? {
        guard let s = try single(name) else { return nil }
        guard let n = Int(s), n >= 0 else { throw APIError.badParameter(name, "\"\(s)\": expected a row count of 0 or more") }
        return n
    }

    /// One of `T`'s raw values (`fn`, `label`, `fill`).
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _: T.Type) throws(APIError) -> T? where T.RawValue == String {
        guard let s = try single(name) else { return nil }
        guard let v = T(rawValue: s) else {
            throw APIError.badParameter(name, "\"\(s)\": expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }
}
