import NIOPosix
import Synchronization
import TachoStore

/// Group commit of write bodies into the inbox (docs/HTTP.md "Group commit"). Every body a
/// request has validated is handed here; one flush at a time writes what is waiting, and the
/// bodies that arrive while it runs wait for the next one: N concurrent writers share one
/// round of fsyncs instead of paying N.
///
/// A flush, on the thread pool:
/// 1. writes every file of the group into `<inbox>/.tacho-http/`: the line-protocol bodies
///    that are `Body.joinable` go into one file, one after another (the daemon reads them as
///    it would have read each alone: see `joinable`); every other body is a file of its own;
/// 2. fsyncs each file (the first fsync's journal commit carries the others' metadata);
/// 3. renames them into the inbox and fsyncs the inbox and the staging directory once;
/// 4. only then answers every request of the group, each with the name of its file.
/// A failure at 1 or 2 fails the bodies of that file; at 3 (a directory fsync), every body of
/// the group (none is known durable). A crash anywhere before 4 acknowledged nothing: what is
/// staged is removed at the next start, what was renamed is ingested (rows that were never
/// acknowledged and are stored anyway: the client's retry replaces them by identity).
final class InboxCommitter: Sendable {
    /// A validated body waiting for its flush.
    struct Body: Sendable {
        /// Its file name in the inbox if it is a file of its own.
        var name: String
        var bytes: [UInt8]
        /// Whether it may share a file with other line-protocol bodies: line protocol whose
        /// lines declare nothing the store lacks (every measurement and field is in the
        /// catalog as the lines have it), so that the joined file is read with the same
        /// declarations as each body alone. A body that creates a measurement or adds a
        /// field is a file of its own, as the daemon's schema discovery reads a file's first
        /// line of each measurement.
        var joinable: Bool
    }

    private struct Waiting {
        var body: Body
        var done: CheckedContinuation<String, any Error>
    }

    private struct State {
        var waiting: [Waiting] = []
        var flushing = false
    }

    let inbox: String
    let files: any StoreFileSystem
    let names: InboxNames
    let pool: NIOThreadPool
    let onPublished: (@Sendable (String) -> Void)?
    /// The most bytes one flush takes (the rest wait for the next): bounds a flush's latency.
    let maxGroupBytes: Int
    private let state = Mutex(State())

    init(inbox: String, files: any StoreFileSystem, names: InboxNames, pool: NIOThreadPool,
         maxGroupBytes: Int = 64 << 20, onPublished: (@Sendable (String) -> Void)?) {
        self.inbox = inbox
        self.files = files
        self.names = names
        self.pool = pool
        self.maxGroupBytes = maxGroupBytes
        self.onPublished = onPublished
    }

    /// Returns once `body` is durable in the inbox: the name of the file that holds it.
    func commit(_ body: Body) async throws -> String {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<String, any Error>) in
            let lead = state.withLock { s -> Bool in
                s.waiting.append(Waiting(body: body, done: done))
                if s.flushing { return false }
                s.flushing = true
                return true
            }
            if lead {
                pool.submit { work in
                    if case .active = work { self.drain() } else { self.failWaiting() }
                }
            }
        }
    }

    /// Flushes groups until nothing waits. Runs on one pool thread at a time (`flushing`).
    private func drain() {
        while true {
            let group = state.withLock { s -> [Waiting] in
                guard !s.waiting.isEmpty else {
                    s.flushing = false
                    return []
                }
                var n = 0
                var bytes = 0
                while n < s.waiting.count && (n == 0 || bytes + s.waiting[n].body.bytes.count <= maxGroupBytes) {
                    bytes += s.waiting[n].body.bytes.count
                    n += 1
                }
                let taken = Array(s.waiting[..<n])
                s.waiting.removeFirst(n)
                return taken
            }
            guard !group.isEmpty else { return }
            flush(group)
        }
    }

    /// The thread pool is shutting down (only ever in tests): nothing waiting is written.
    private func failWaiting() {
        let waiting = state.withLock { s in
            defer { s.waiting = []; s.flushing = false }
            return s.waiting
        }
        for w in waiting { w.done.resume(throwing: APIError(.serviceUnavailable, "the server is stopping; nothing was written")) }
    }

    /// One file of a flush and the bodies it holds (indices into the group).
    private struct GroupFile {
        var name: String
        var members: [Int]
        var file: InboxFile?
        var failure: (any Error)?
    }

    private func flush(_ group: [Waiting]) {
        var out: [GroupFile] = []
        var joined: [Int] = []
        for (i, w) in group.enumerated() {
            if w.body.joinable { joined.append(i) } else { out.append(GroupFile(name: w.body.name, members: [i])) }
        }
        if joined.count == 1 {
            out.append(GroupFile(name: group[joined[0]].body.name, members: joined))
        } else if !joined.isEmpty {
            out.append(GroupFile(name: names.next(prefix: "", receivedMicros: StoreClock.system.wallMicros(), ext: "lp"), members: joined))
        }
        // 1. Write each file; 2. fsync each.
        for k in out.indices {
            let file = InboxFile(inbox: inbox, name: out[k].name, files: files)
            do {
                if out[k].members.count == 1 {
                    try file.stage(group[out[k].members[0]].body.bytes)
                } else {
                    try file.stage(out[k].members.map { group[$0].body.bytes })
                }
                out[k].file = file
            } catch {
                file.discard()
                out[k].failure = error
            }
        }
        // 3. Rename every staged file, then one fsync of each directory.
        var renamed: [Int] = []
        for k in out.indices {
            guard let file = out[k].file else { continue }
            do {
                try file.moveIntoInbox()
                renamed.append(k)
            } catch {
                file.discard()
                out[k].failure = error
            }
        }
        if !renamed.isEmpty {
            do {
                try InboxFile.syncDirectories(inbox: inbox, files: files)
            } catch {
                // Renamed but not known durable: not acknowledged. The files stay in the inbox
                // (removing them could fail the same way) and are ingested; a retry replaces
                // their rows by identity.
                for k in renamed { out[k].failure = error }
            }
        }
        // 4. Answer.
        for f in out {
            for i in f.members {
                if let e = f.failure {
                    group[i].done.resume(throwing: APIError(.internalServerError, "the body could not be written into the inbox: \(e)"))
                } else {
                    group[i].done.resume(returning: f.name)
                }
            }
            if f.failure == nil { onPublished?(f.name) }
        }
    }
}
