import Foundation
import Logging
import Synchronization
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// `tacho verify` and `tacho latest` must not report the latest-status index missing while
/// a writer commits (issue 12, item 7).
@Suite struct LatestIndexRaceTests {
    /// Item 7: readers opening snapshots and loading the latest-status index while a writer
    /// commits in a loop never see "missing or damaged" (the old index stays for the grace
    /// period; a reader that still misses it under a changed MANIFEST rebuilds quietly), and
    /// verify finds nothing wrong.
    @Test(.timeLimit(.minutes(2))) func latestIndexNeverReportedDamagedWhileAWriterCommits() throws {
        let dir = TempDir()
        var opts = smallOptions()
        let w = try StoreWriter(path: dir.path, options: opts)
        var first = RowBatch(.status)
        first.append(vehicle: "v0", time: july1, [.string("s0")])
        try w.append(first)
        try w.commit()
        let done = Atomic<Bool>(false)
        nonisolated(unsafe) let writer = w
        nonisolated(unsafe) var writerError: Error?
        let thread = Thread {
            defer { done.store(true, ordering: .releasing) }
            do {
                for c in 1...300 {
                    var b = RowBatch(.status)
                    b.append(vehicle: "v\(c % 3)", time: july1 + Int64(c) * 1_000_000, [.string("s\(c)")])
                    try writer.append(b)
                    try writer.commit()  // a new latest-status index file in every commit
                }
            } catch {
                writerError = error
            }
        }
        thread.start()
        let log = LogCapture()
        opts.logger = log.logger()
        var reads = 0
        var problems: [String] = []
        while !done.load(ordering: .acquiring) {
            let snap = try Snapshot.open(path: dir.path, options: opts)
            let idx = try snap.latestIndex()
            #expect(!idx.entries.isEmpty)
            if reads % 10 == 0 {
                problems += Verifier.verify(snapshot: snap).problems.map(\.description)
            }
            reads += 1
        }
        #expect(writerError == nil)
        #expect(reads > 20)
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        let warnings = log.all.filter { $0.hasPrefix("warning") || $0.hasPrefix("error") }
        #expect(warnings.isEmpty, "\(warnings.prefix(3))")
        w.close()
    }
}
