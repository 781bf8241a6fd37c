import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// Readers in other processes take no lock and always see whole commits.
@Suite struct ConcurrentReadTests {
    @Test func queriesFromAnotherProcessNeverSeeAPartialCommit() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        var opts = quietOptions()
        opts.bufferBytes = 4096  // force spills inside each commit: several segments per commit
        let writer = try StoreWriter(path: store, options: opts)
        let rowsPerCommit = 600
        let commits = 100
        nonisolated(unsafe) var writerError: Error?
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let w = writer  // used only by the writing thread until `done`
        DispatchQueue.global().async {
            defer { done.signal() }
            do {
                for c in 0..<commits {
                    var b = RowBatch(.detections)
                    for i in 0..<rowsPerCommit {
                        let t = Int64(c) * 10_000_000_000 + Int64(i) * 1_000_000
                        b.append(vehicle: "v\(i % 9)", time: t, [.string(i % 2 == 0 ? "cars" : "signs"), .int(Int64(i % 7))])
                    }
                    try w.append(b)
                    try w.commit()
                    usleep(30_000)  // let readers interleave with many commits
                }
            } catch {
                writerError = error
            }
        }
        var observed: [Int] = []
        var finished = false
        while !finished {
            finished = done.wait(timeout: .now()) == .success
            let r = try tacho(["query", "detections", "--store", store, "--format", "csv"])
            #expect(r.status == 0, "reader failed: \(r.stderr)")
            let rows = r.stdout.split(separator: "\n").count - 1
            #expect(rows % rowsPerCommit == 0, "saw \(rows) rows: a partial commit")
            if let last = observed.last { #expect(rows >= last, "went back in time: \(last) → \(rows)") }
            observed.append(rows)
            let latest = try tacho(["stats", "--store", store, "--format", "csv"])
            #expect(latest.status == 0, "stats failed: \(latest.stderr)")
        }
        #expect(writerError == nil)
        #expect(observed.last == rowsPerCommit * commits)
        #expect(observed.count >= 3)
        writer.close()
    }
}
