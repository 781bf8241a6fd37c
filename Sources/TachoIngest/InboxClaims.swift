import SystemPackage
import TachoStore

/// The daemon's claim on an inbox file (docs/ARCHITECTURE.md "Claiming a file").
///
/// Before a file is parsed it is renamed from `<inbox>/NAME` to `<inbox>/.tacho-claimed/NAME`
/// — one directory tree, so one file system, so one atomic rename. From then on the daemon
/// parses, commits and finally moves exactly that inode: a producer that renames a new version
/// onto `<inbox>/NAME` meanwhile creates a new inbox file, taken in its turn, instead of having
/// its version moved to processed/ unread.
///
/// The claim directory exists only while something is claimed; it is the daemon's alone (one writer per store), so nothing else creates
/// names in it. A claimed file that is not finished — the commit failed, the daemon stops —
/// goes back to `<inbox>/NAME` if that name is free (`link` fails atomically when it is not),
/// else stays claimed; files left claimed by a crash are taken first at the next start. Either
/// way the ledger (content hashes) makes every one count once.
struct InboxClaims {
    static let directoryName = ".tacho-claimed"
    let inbox: String
    let directory: String
    let fs: any StoreFileSystem

    init(inbox: String, fs: any StoreFileSystem) {
        self.inbox = inbox
        self.fs = fs
        directory = inbox + "/" + Self.directoryName
    }

    /// Removes the claim directory when nothing is claimed, so an idle inbox holds only what
    /// producers put there (made again by the next claim).
    func removeIfEmpty() { try? fs.removeDirectory(directory) }

    /// Files claimed and not finished, oldest first (left by a crash, or not released).
    func leftovers() -> [String] {
        var files: [(String, Int64)] = []
        for case .file(let path, _, let mtime) in (try? InputFiles.list(directory, fs: fs)) ?? [] { files.append((path, mtime)) }
        return files.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }

    enum Outcome: Equatable {
        case claimed(String)
        /// A claimed file of that name is still in flight: the inbox file waits its turn.
        case busy
        /// The file is gone (moved away by someone else): nothing to do.
        case vanished
        case failed(String)
    }

    /// Creates the claim directory (once per batch of claims); nil, or why it cannot.
    func ensureDirectory() -> String? {
        do {
            try fs.createDirectory(directory)
            return nil
        } catch let e as StoreError {
            return "create \(directory): \(FileMover.reason(e))"
        } catch {
            return "create \(directory): \(error)"
        }
    }

    /// Claims the inbox file at `path` (renames it into the claim directory, which
    /// `ensureDirectory` made).
    func claim(_ path: String) -> Outcome {
        let target = directory + "/" + baseName(path)
        if fs.exists(target) { return .busy }
        do {
            try fs.rename(path, to: target)
            return .claimed(target)
        } catch let e as StoreError {
            if e.cause == Errno.noSuchFileOrDirectory.rawValue { return .vanished }
            return .failed(FileMover.reason(e))
        } catch {
            return .failed("\(error)")
        }
    }

    /// Puts a claimed file back at its inbox name, unless the name was taken meanwhile (then it
    /// stays claimed and is retried from here). True when it went back.
    @discardableResult
    func release(_ claimed: String) -> Bool {
        let back = inbox + "/" + baseName(claimed)
        // link fails with EEXIST instead of replacing a producer's new file of the same name.
        guard (try? fs.link(claimed, to: back)) != nil else { return false }
        do { try fs.unlink(claimed) } catch { try? fs.unlink(back) }  // never leave two names for one file
        return true
    }

    func isClaimed(_ path: String) -> Bool { path.hasPrefix(directory + "/") }
}
