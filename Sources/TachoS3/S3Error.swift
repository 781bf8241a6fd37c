/// What went wrong talking to the object store, with its facts.
public enum S3Error: Error, CustomStringConvertible, Sendable {
    /// The store answered with an error status (`code`/`message` from its XML body, if any).
    case status(operation: String, key: String, status: Int, code: String?, message: String?)
    /// The request did not complete (connection refused or reset, timeout).
    case transport(operation: String, key: String, underlying: String)
    /// The answer lacked what the operation needs (e.g. no `UploadId`).
    case malformedResponse(operation: String, key: String, expected: String)
    /// A local file to upload could not be read.
    case unreadableFile(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .status(let op, let key, let status, let code, let message):
            let what = [code, message].compactMap { $0 }.joined(separator: ": ")
            return "\(op) \(key): HTTP \(status)\(what.isEmpty ? "" : " (\(what))")"
        case .transport(let op, let key, let why):
            return "\(op) \(key): \(why)"
        case .malformedResponse(let op, let key, let expected):
            return "\(op) \(key): the response has no \(expected)"
        case .unreadableFile(let path, let errno):
            return "read \(path): errno \(errno)"
        }
    }

    /// Worth another attempt: transport failures, 5xx, 429 and S3's throttling codes.
    public var isRetryable: Bool {
        switch self {
        case .transport: return true
        case .status(_, _, let status, let code, _):
            return status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout"
        case .malformedResponse, .unreadableFile: return false
        }
    }
}
