import Foundation
import Testing
import TachoFormat
import TachoFaults
@testable import TachoStore
#if canImport(Glibc)
import Glibc
import TachoTestSupport
#endif

/// Compaction is a commit too: each of its calls fails in turn. Whatever fails, the store
/// stays valid with exactly the same visible rows, latest statuses and ledger, nothing it
/// wrote is left behind after a reopen, and compaction succeeds once the fault clears.
@Suite struct FaultInjectionCompactionTests {
    static let base: Int64 = 1_719_792_000_000_000  // 2024-07-01

    /// Eight commits over two days, identities rewritten across commits.
    func fill(_ w: StoreWriter) throws {
        for c in 0..<8 {
            var det = RowBatch(.detections)
            var st = RowBatch(.status)
            for i in 0..<50 {
                let v = "veh\(i % 6)"
                let t = Self.base + Int64((i + c * 7) % 2) * 86_400_000_000 + Int64(i % 25) * 60_000_000
                det.append(vehicle: v, time: t, [.string(["cars", "signs"][i % 2]), .int(Int64(c * 100 + i))])
                if i % 5 == 0 { st.append(vehicle: v, time: t + Int64(c), [.string(["driving", "parking"][c % 2])]) }
            }
            try w.append(det)
            try w.append(st)
            try w.commit(ledger: [LedgerEntry(name: "f\(c).json", size: UInt64(c + 1), hash: ContentHash(hi: 9, lo: UInt64(c)), rows: 60, ingestedAt: Int64(c))])
        }
    }

    func options() -> CompactionOptions {
        var o = CompactionOptions()
        o.now = Self.base + 60 * 86_400_000_000  // every partition closed and cold
        return o
    }

    struct State: Equatable {
        var rows: [DetRow]
        var latest: [ByteString: String]
        var ledger: Int
    }

    func state(_ store: String) throws -> State {
        let snap = try Snapshot.open(path: store, options: smallOptions())
        let report = Verifier.verify(snapshot: snap)
        #expect(report.isClean, "verify: \(report.problems)")
        let idx = try snap.latestIndex()
        return State(rows: try scanDetections(snap), latest: idx.entries.mapValues { "\($0.time) \($0.status)" },
                     ledger: snap.manifest.ledgers.count)
    }

    @Test func everyCallSiteOfACompactionFailsCleanly() throws {
        // Trace one compaction.
        var calls: [FaultInjectingFileSystem.Call] = []
        let before: State
        do {
            let dir = TempDir("tacho-fault-compact-trace")
            let fs = FaultInjectingFileSystem()
            let w = try StoreWriter(path: dir.path, options: faultOptions(fs))
            try fill(w)
            before = try state(dir.path)
            fs.startRecording()
            let out = try w.compact(options())
            calls = fs.stopRecording().map { var c = $0; c.path = String(c.path.dropFirst(dir.path.count)); return c }
            #expect(out.tasks.contains { $0.applied }, "nothing compacted: the sweep would test nothing")
            w.close()
            let after = try state(dir.path)
            #expect(after.rows == before.rows && after.latest == before.latest)
        }
        #expect(calls.contains { $0.op == .rename } && calls.contains { $0.op == .fsync })
        var counts: [IOOp: Int] = [:]
        for c in calls {
            counts[c.op, default: 0] += 1
            for kind in faultKinds(for: c.op) {
                let fault = Fault(c.op, nth: counts[c.op]!, kind)
                let what = "\(fault) on <store>\(c.path)"
                let dir = TempDir("tacho-fault-compact")
                let fs = FaultInjectingFileSystem()
                let w = try StoreWriter(path: dir.path, options: faultOptions(fs))
                try fill(w)
                fs.arm(fault)
                // It may fail (naming a file of the store) or, for a cleanup after the switch,
                // log and succeed.
                do {
                    try w.compact(options())
                } catch let e as StoreError {
                    #expect(e.path.hasPrefix(dir.path), "\(what): \(e)")
                } catch {
                    Issue.record("\(what): not a StoreError: \(error)")
                }
                #expect(fs.injected.count == 1, "\(what): \(fs.injected)")
                #expect(fs.misuse.isEmpty, "\(what): \(fs.misuse)")
                fs.clearFaults()
                // Readers see the same rows, statuses and ledger whatever happened.
                let during = try state(dir.path)
                #expect(during.rows == before.rows, "\(what): rows changed")
                #expect(during.latest == before.latest, "\(what): latest changed")
                // The writer goes on: compaction and a commit succeed.
                try w.compact(options())
                var det = RowBatch(.detections)
                det.append(vehicle: "late", time: Self.base, [.string("cars"), .int(1)])
                try w.append(det)
                try w.commit()
                w.close()
                let w2 = try StoreWriter(path: dir.path, options: smallOptions())
                #expect(w2.ledger.count == 8, "\(what): ledger after reopen")
                w2.close()
                let after = try state(dir.path)
                #expect(after.rows.filter { $0.vehicle != "late" } == before.rows, "\(what): rows after retry")
                let live = try liveFiles(dir.path)
                #expect(filesIn(dir.path + "/segments") == live.segments, "\(what): orphan segments after reopen")
                #expect(filesIn(dir.path + "/index") == live.index, "\(what): orphan index files after reopen")
            }
        }
    }
}
