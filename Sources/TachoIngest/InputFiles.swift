import TachoStore

/// Which files in an inbox are inputs, and listing them safely: regular files only (never
/// following symlinks, never opening FIFOs or devices), dot-files and partial uploads skipped.
public enum InputFiles {
    /// Names that are never inputs: dot-files and in-progress uploads.
    public static func isCandidateName(_ name: String) -> Bool {
        !(name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part"))
    }

    public enum Entry: Sendable, Equatable {
        case file(path: String, size: UInt64, mtimeNanos: Int64)
        /// Not a regular file (symlink, FIFO, device, directory): reported, never read.
        case skipped(path: String, why: String)
    }

    public static func stat(_ path: String, fs: any StoreFileSystem = PosixFileSystem()) -> Entry {
        let st: FileStatus
        do { st = try fs.fileStatus(path, followingLinks: false) } catch {
            return .skipped(path: path, why: (error as? StoreError).map(FileMover.reason) ?? "\(error)")
        }
        switch st.kind {
        case .regular: return .file(path: path, size: st.size, mtimeNanos: st.mtimeNanos)
        case .symbolicLink: return .skipped(path: path, why: "is a symbolic link (not followed)")
        case .fifo: return .skipped(path: path, why: "is a FIFO (not read)")
        case .directory: return .skipped(path: path, why: "is a directory (not descended)")
        case .device: return .skipped(path: path, why: "is a device (not read)")
        case .other: return .skipped(path: path, why: "is not a regular file")
        }
    }

    /// Entries of a directory (not recursive), names as raw bytes decoded lossily for display.
    public static func list(_ dir: String, fs: any StoreFileSystem = PosixFileSystem()) throws -> [Entry] {
        let entries: [DirectoryEntry]
        do {
            entries = try fs.directoryEntries(dir)
        } catch {
            throw InboxFileError(.listDirectory, path: dir, error)
        }
        var out: [Entry] = []
        for e in entries where isCandidateName(e.name) {
            guard e.isValidUTF8 else {
                // A lossy name would not reopen the file; report it instead of retrying forever.
                out.append(.skipped(path: dir + "/" + e.name, why: "file name is not valid UTF-8 (rename it to ingest it)"))
                continue
            }
            out.append(Self.stat(dir + "/" + e.name, fs: fs))
        }
        return out
    }

    /// Expands command-line paths: files as given (must be regular files), directories to
    /// their candidate regular files in name order. Non-regular entries inside directories
    /// are returned as `skipped` for the caller to report.
    public static func expand(_ paths: [String], fs: any StoreFileSystem = PosixFileSystem()) throws -> (files: [String], skipped: [(path: String, why: String)]) {
        var files: [String] = []
        var skipped: [(path: String, why: String)] = []
        for p in paths {
            switch Self.stat(p, fs: fs) {
            case .file(let path, _, _):
                files.append(path)
            case .skipped(_, let why) where why.hasPrefix("is a directory"):
                var inDir: [String] = []
                for e in try list(p, fs: fs) {
                    switch e {
                    case .file(let path, _, _): inDir.append(path)
                    case .skipped(let path, let why): skipped.append((path, why))
                    }
                }
                files.append(contentsOf: inDir.sorted())
            case .skipped(let path, let why):
                throw FileError(path: path, message: why)
            }
        }
        return (files, skipped)
    }
}
