import SystemPackage
import TachoJSON
import TachoStore

/// A file operation on the inbox, processed/ or rejected/ that failed: which, on which path,
/// and the environment's error (with its errno in `cause.cause`). Its text is the one the
/// daemon has always logged: `<path>: move to <dir>: <strerror>`.
public struct InboxFileError: Error, Sendable, CustomStringConvertible {
    public enum Operation: Sendable, Equatable {
        case move(into: String)
        case delete
        case createDirectory
        case listDirectory
        case open
        case create
        case copy
        case write
    }

    public var operation: Operation
    public var path: String
    public var cause: StoreError

    public init(_ operation: Operation, path: String, cause: StoreError) {
        self.operation = operation
        self.path = path
        self.cause = cause
    }

    /// Wraps `error` (a `StoreError` from the environment, else its text) for `operation`.
    init(_ operation: Operation, path: String, _ error: any Error) {
        let cause = error as? StoreError ?? StoreError(.io, "\(operation)", path: path, "\(error)")
        self.init(operation, path: path, cause: cause)
    }

    /// The errno of the failed call, when there was one.
    public var errno: Errno? { cause.cause.map(Errno.init(rawValue:)) }

    /// What the system said: strerror text, else the environment's detail.
    public var reason: String { errno?.description ?? cause.detail }

    public var description: String {
        let what: String
        switch operation {
        case .move(let dir): what = "move to \(dir)"
        case .delete: what = "delete"
        case .createDirectory: what = "create directory"
        case .listDirectory: what = "cannot list directory"
        case .open: what = "open"
        case .create: what = "create"
        case .copy: what = "copy"
        case .write: what = "write"
        }
        return "\(escapedForLog(path)): \(what): \(reason)"
    }
}
