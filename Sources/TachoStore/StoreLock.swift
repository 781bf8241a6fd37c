import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// One writer per store: an exclusive flock on `LOCK`, which holds the owner's pid so a second
/// writer can say who has it. The kernel drops the lock when the process dies, so a crash
/// never leaves a stale lock. Taken through the store's environment (`StoreFileSystem`).
final class StoreLock {
    private var fd: FileDescriptor?
    private let path: String
    private let fs: any StoreFileSystem

    /// Takes the lock, retrying for up to `waitSeconds` while another writer holds it
    /// (`waiting` is called once, with the holder's pid, when it has to wait). A lock just
    /// released can also still be held for a moment by a forked child that has not exec'd
    /// yet (the descriptor is close-on-exec).
    init(path: String, environment: StoreEnvironment, waitSeconds: Double = 0.2, waiting: ((String) -> Void)? = nil) throws {
        self.path = path
        fs = environment.files
        let fd = try fs.openLockFile(path, create: true)
        var taken: Bool
        do {
            taken = try fs.tryLock(fd, exclusive: true, path: path)
            var waited = 0.0
            var pause = 0.02
            while !taken && waited < waitSeconds {
                if waited == 0, let waiting { waiting(Self.holder(fd, path, fs)) }
                let step = min(pause, waitSeconds - waited)
                environment.clock.sleep(seconds: step)
                waited += step
                pause = min(pause * 2, 0.5)
                taken = try fs.tryLock(fd, exclusive: true, path: path)
            }
        } catch {
            try? fs.close(fd, path: path)
            throw StoreError(.io, "lock store", path: path, (error as? StoreError)?.detail ?? "\(error)", cause: (error as? StoreError)?.cause)
        }
        guard taken else {
            let who = Self.holder(fd, path, fs)
            try? fs.close(fd, path: path)
            let after = waitSeconds >= 1 ? " after waiting \(Int(waitSeconds)) s" : ""
            throw StoreError(.locked, "lock store", path: path, "another writer holds it (pid \(who))\(after)")
        }
        self.fd = fd
        try? fs.replaceContents(fd, Array("\(getpid())\n".utf8), sync: false, path: path)
    }

    /// The pid the current holder wrote into the lock file.
    private static func holder(_ fd: FileDescriptor, _ path: String, _ fs: any StoreFileSystem) -> String {
        let b = fs.readPrefix(fd, count: 31, path: path)
        return b.isEmpty ? "unknown" : String(decoding: b, as: UTF8.self).trimmingSpaces()
    }

    func release() {
        guard let fd else { return }
        try? fs.replaceContents(fd, [], sync: false, path: path)
        try? fs.close(fd, path: path)  // closing drops the flock
        self.fd = nil
    }

    deinit { release() }
}
