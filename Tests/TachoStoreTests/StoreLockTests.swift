import Dispatch
import Foundation
import Testing
import TachoStore
import TachoTestSupport

/// One writer per store (SEMANTICS §3): a second writer fails with `.locked` naming the holder's
/// pid, or, given `lockWaitSeconds`, waits for the first to finish.
@Suite struct StoreLockTests {
    @Test func aSecondWriterFailsNamingTheHolder() throws {
        let dir = TempDir()
        let a = try StoreWriter(path: dir.path, options: smallOptions())
        defer { a.close() }
        var opts = smallOptions()
        opts.lockWaitSeconds = 0.1
        let start = DispatchTime.now()
        do {
            _ = try StoreWriter(path: dir.path, options: opts)
            Issue.record("a second writer opened a locked store")
        } catch let e as StoreError {
            #expect(e.code == .locked)
            #expect(e.description.contains("pid \(getpid())"), "\(e)")
        }
        let waited = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        #expect(waited >= 0.09 && waited < 2, "waited \(waited) s")
    }

    @Test func aWaitingWriterOpensOnceTheHolderCloses() throws {
        let dir = TempDir()
        try StoreWriter(path: dir.path, options: smallOptions()).close()
        // Another process's writer, as far as flock can tell: a separate open file description.
        let fd = open(dir.path + "/LOCK", O_RDWR)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        let released = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.6) {
            close(fd)
            released.signal()
        }
        var opts = smallOptions()
        opts.lockWaitSeconds = 10
        let start = DispatchTime.now()
        let b = try StoreWriter(path: dir.path, options: opts)
        let waited = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        b.close()
        released.wait()
        #expect(waited >= 0.5 && waited < 9, "waited \(waited) s")
    }
}
