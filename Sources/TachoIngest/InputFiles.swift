#if canImport(Glibc)
import Glibc
#endif

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

    public static func stat(_ path: String) -> Entry {
        var st = Glibc.stat()
        guard lstat(path, &st) == 0 else {
            return .skipped(path: path, why: String(cString: strerror(errno)))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
            return .file(path: path, size: UInt64(st.st_size), mtimeNanos: mtime)
        case S_IFLNK: return .skipped(path: path, why: "is a symbolic link (not followed)")
        case S_IFIFO: return .skipped(path: path, why: "is a FIFO (not read)")
        case S_IFDIR: return .skipped(path: path, why: "is a directory (not descended)")
        case S_IFCHR, S_IFBLK: return .skipped(path: path, why: "is a device (not read)")
        default: return .skipped(path: path, why: "is not a regular file")
        }
    }

    /// Entries of a directory (not recursive), names as raw bytes decoded lossily for display.
    public static func list(_ dir: String) throws -> [Entry] {
        guard let d = opendir(dir) else {
            throw FileError(path: dir, message: "cannot list directory: \(String(cString: strerror(errno)))")
        }
        defer { closedir(d) }
        var out: [Entry] = []
        while let ent = readdir(d) {
            let (name, valid) = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { p in
                    (String(cString: p), String(validatingCString: p) != nil)
                }
            }
            guard name != ".", name != "..", isCandidateName(name) else { continue }
            guard valid else {
                // A lossy name would not reopen the file; report it instead of retrying forever.
                out.append(.skipped(path: dir + "/" + name, why: "file name is not valid UTF-8 (rename it to ingest it)"))
                continue
            }
            out.append(stat(dir + "/" + name))
        }
        return out
    }

    /// Expands command-line paths: files as given (must be regular files), directories to
    /// their candidate regular files in name order. Non-regular entries inside directories
    /// are returned as `skipped` for the caller to report.
    public static func expand(_ paths: [String]) throws -> (files: [String], skipped: [(path: String, why: String)]) {
        var files: [String] = []
        var skipped: [(path: String, why: String)] = []
        for p in paths {
            switch stat(p) {
            case .file(let path, _, _):
                files.append(path)
            case .skipped(_, let why) where why.hasPrefix("is a directory"):
                var inDir: [String] = []
                for e in try list(p) {
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
