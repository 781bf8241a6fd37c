/// A query that cannot run as asked: the message names the argument and the problem, ready
/// to show to an operator. Errors of the store itself (I/O, corruption) come through as
/// `StoreError` unchanged.
public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// `from` is not before `to`.
        case emptyRange
        /// The aggregate bucket width is outside `AggregateQuery.bucketWidthRange`.
        case bucketWidth
        /// A negative limit, a filter on a non-string column, and the like.
        case invalidArgument
        /// A `sum` whose exact value does not fit in Int64.
        case sumOverflow
        /// No measurement has the asked name (the message lists those that exist).
        case unknownMeasurement
        /// The measurement has no column of the asked name (the message lists its columns).
        case unknownColumn
        /// A `--where` filter that is malformed or does not fit its column's type.
        case badFilter
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func checkRange(from: Int64, to: Int64) throws {
        guard from < to else {
            throw QueryError(.emptyRange, "empty time range: from (\(from) µs) must be before to (\(to) µs); ranges are [from, to)")
        }
    }
}
