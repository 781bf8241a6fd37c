import TachoFormat

/// Every failure of the store says what it was doing, on which file, and why.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case io, locked, corrupt, invalidArgument, notFound, closed
        /// A file or name that had to be new already exists (create, link).
        case exists
        /// A snapshot outlived a file of its commit: a later commit removed it after its grace
        /// period. Not damage; the read must be run again on a newer snapshot.
        case stale
    }

    public var code: Code
    /// Short context: "open segment", "switch manifest", never "failed to…".
    public var operation: String
    public var path: String
    public var detail: String
    /// Byte offset of the damage in `path`, for corruption found at a known place.
    public var offset: UInt64?
    /// The segment damage found, when a segment read failed (`.corrupt`): match on it.
    public var segmentProblem: SegmentError.Kind?
    /// Not damage: a segment written by a newer tacho (`SegmentError.newerFormat`).
    public var newerFormat: Bool {
        if case .newerVersion? = segmentProblem { true } else { false }
    }

    /// The errno of the system call that failed, when one did (`Errno(rawValue:)` names it).
    public var cause: Int32?

    public init(_ code: Code, _ operation: String, path: String = "", _ detail: String = "", cause: Int32? = nil) {
        self.code = code
        self.operation = operation
        self.path = path
        self.detail = detail
        self.cause = cause
    }

    public var description: String {
        var s = "\(operation)"
        if !path.isEmpty { s += " \(path)" }
        if let offset { s += " at offset \(offset)" }
        if !detail.isEmpty { s += ": \(detail)" }
        return s
    }

    /// A segment read that found damage (or a newer format): its path, offset and kind kept.
    public static func corrupt(_ e: SegmentError) -> StoreError {
        var s = StoreError(.corrupt, "read segment", path: e.path, e.problem)
        s.offset = e.offset
        s.segmentProblem = e.kind
        return s
    }
}
