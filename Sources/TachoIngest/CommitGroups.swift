/// How input files are batched into commits, for `tacho ingest` (`Ingestor`) and `tacho run`
/// (`InboxDaemon`) alike.
///
/// Every file stays all-or-nothing: a commit publishes only files that parsed completely,
/// each with its ledger entry. Grouping small files makes one segment per partition out of
/// many files, so vehicles get long chunks (fewer bytes per row, faster scans) and one
/// fsync'd manifest switch serves many files. A file too large to hold parsed in memory is
/// streamed through the writer in a commit of its own.
public struct CommitGrouping: Sendable, Equatable {
    /// Most files in one commit. 1 = one commit per file.
    public var maxFiles: Int
    /// Most input bytes in one commit (a single larger file still makes its own commit).
    public var maxBytes: UInt64
    /// Files larger than this are streamed alone, never parsed whole in memory.
    public var streamAbove: UInt64

    /// Defaults: 64 files and 16 MiB of input per commit (about 200,000 detection rows: chunks
    /// of thousands of rows per vehicle, and a few tens of MiB of parsed rows in memory);
    /// files above 32 MiB streamed.
    public init(maxFiles: Int = 64, maxBytes: UInt64 = 16 << 20, streamAbove: UInt64 = 32 << 20) {
        self.maxFiles = max(1, maxFiles)
        self.maxBytes = maxBytes
        self.streamAbove = streamAbove
    }

    /// One commit per file (files up to `streamAbove` still parsed whole).
    public static func perFile(streamAbove: UInt64 = 32 << 20) -> CommitGrouping {
        CommitGrouping(maxFiles: 1, maxBytes: 0, streamAbove: streamAbove)
    }

    /// One commit's worth of consecutive files (indices into the planned list).
    public enum Unit: Sendable, Equatable {
        /// A file larger than `streamAbove`, streamed through the writer alone.
        case stream(Int)
        /// Files parsed whole and published by one commit.
        case group(Range<Int>)

        public var files: Range<Int> {
            switch self {
            case .stream(let i): i..<(i + 1)
            case .group(let r): r
            }
        }
    }

    /// Splits files, in order, into commits: consecutive files up to `maxFiles` and
    /// `maxBytes` per group; a file above `streamAbove` alone. Order is kept, so results can
    /// be reported in input order.
    public func plan(sizes: [UInt64]) -> [Unit] {
        var units: [Unit] = []
        var i = 0
        while i < sizes.count {
            if sizes[i] > streamAbove {
                units.append(.stream(i))
                i += 1
                continue
            }
            let start = i
            var bytes: UInt64 = 0
            while i < sizes.count, i - start < maxFiles, sizes[i] <= streamAbove {
                let (sum, overflow) = bytes.addingReportingOverflow(sizes[i])
                if i > start && (overflow || sum > maxBytes) { break }
                bytes = sum
                i += 1
            }
            units.append(.group(start..<i))
        }
        return units
    }

    /// The size of `path` for planning; 0 when it cannot be stat'ed (its read reports why).
    public static func size(of path: String) -> UInt64 {
        if case .file(_, let size, _) = InputFiles.stat(path) { return size }
        return 0
    }
}
