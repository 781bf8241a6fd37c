import Foundation
import Testing
import TachoFormat
import TachoFaults
@testable import TachoStore
#if canImport(Glibc)
import Glibc
import TachoTestSupport
#endif

/// Two commits' worth of rows: A is committed before the fault, B meets it.
struct FaultScenario {
    static let base: Int64 = 1_720_000_000_000_000
    static let day: Int64 = 86_400_000_000

    var detA = RowBatch(.detections)
    var detB = RowBatch(.detections)
    var stA = RowBatch(.status)
    var stB = RowBatch(.status)
    var rowsA: [DetRow] = []
    var rowsB: [DetRow] = []
    /// vehicle → (time, status) over A and B.
    var latestAB: [String: (Int64, String)] = [:]
    var latestA: [String: (Int64, String)] = [:]
    let ledgerA = LedgerEntry(name: "a.json", size: 100, hash: ContentHash(hi: 1, lo: 1), rows: 0, ingestedAt: 1)
    let ledgerB = LedgerEntry(name: "b.json", size: 200, hash: ContentHash(hi: 2, lo: 2), rows: 0, ingestedAt: 2)

    init() {
        let types = ["cars", "signs", "trucks"]
        // A: one partition. B: two partitions (one shared with A), so its commit writes several
        // segments, a new latest index and a ledger file.
        for i in 0..<40 {
            let v = "veh\(i % 4)"
            let t = Self.base + Int64(i) * 1_000_000
            let r = DetRow(vehicle: v, time: t, type: types[i % 3], value: Int64(i % 7))
            detA.append(vehicle: v, time: t, [.string(r.type), .int(r.value)])
            rowsA.append(r)
            if i % 5 == 0 {
                let s = ["driving", "parking"][i % 2]
                stA.append(vehicle: v, time: t, [.string(s)])
                latestA[v] = (t, s)
            }
        }
        latestAB = latestA
        for i in 0..<60 {
            let v = "veh\(i % 5)"
            let t = Self.base + Int64(i % 2) * Self.day + Int64(i) * 1_000_000 + 500
            let r = DetRow(vehicle: v, time: t, type: types[i % 3], value: Int64(i % 9))
            detB.append(vehicle: v, time: t, [.string(r.type), .int(r.value)])
            rowsB.append(r)
            if i % 4 == 0 {
                stB.append(vehicle: v, time: t, [.string("accident")])
                if let old = latestAB[v], old.0 > t { continue }
                latestAB[v] = (t, "accident")
            }
        }
    }

    func commitA(_ w: StoreWriter) throws {
        try w.append(detA)
        try w.append(stA)
        try w.commit(ledger: [ledgerA])
    }

    func appendB(_ w: StoreWriter) throws {
        try w.append(detB)
        try w.append(stB)
    }
}

func faultOptions(_ fs: FaultInjectingFileSystem, bufferBytes: Int = 1 << 20) -> StoreOptions {
    var o = smallOptions(bufferBytes: bufferBytes)
    o.fileSystem = fs
    return o
}

/// The operation name a `StoreError` carries for each kind of call.
func operationName(_ op: IOOp) -> String {
    switch op {
    case .mkdir: "create directory"
    case .create: "create file"
    case .write: "write"
    case .fsync: "fsync"
    case .close: "close"
    case .rename: "rename"
    case .unlink: "unlink"
    case .fsyncDir: "fsync directory"
    case .link: "link"
    case .rmdir: "remove directory"
    case .lock: "open lock"
    case .input: "open"
    }
}

/// Faults worth injecting at a call of `op`.
func faultKinds(for op: IOOp) -> [FaultKind] {
    switch op {
    case .write: [.error(ENOSPC), .error(EIO), .shortWrite]
    case .create: [.error(ENOSPC), .error(EIO)]
    case .fsync, .fsyncDir, .close, .rename, .unlink, .mkdir, .link, .rmdir, .lock, .input: [.error(EIO)]
    }
}

/// One injection: the call at `index` of the recorded commit trace fails with `kind`.
struct FaultSite: CustomStringConvertible, Sendable {
    var index: Int
    /// The call, its path relative to the store directory.
    var call: FaultInjectingFileSystem.Call
    var nth: Int
    var kind: FaultKind
    /// Calls of the commit after the manifest rename (the switch): the commit stands.
    var afterSwitch: Bool
    var description: String { "#\(index) \(call.op.rawValue)@\(nth) \(kind) on <store>\(call.path)" }
    var fault: Fault { Fault(call.op, nth: nth, kind) }
}

/// Records the calls of A's commit followed by B's append and commit on a fresh store, and turns
/// each call of B into one site per fault kind.
func commitSites(bufferBytes: Int) throws -> [FaultSite] {
    let dir = TempDir("tacho-fault-trace")
    let fs = FaultInjectingFileSystem()
    let sc = FaultScenario()
    let w = try StoreWriter(path: dir.path, options: faultOptions(fs, bufferBytes: bufferBytes))
    defer { w.close() }
    try sc.commitA(w)
    fs.startRecording()
    try sc.appendB(w)
    try w.commit(ledger: [sc.ledgerB])
    let calls = fs.stopRecording()
    let rename = calls.lastIndex { $0.op == .rename && $0.path.hasSuffix("MANIFEST.tmp") } ?? calls.count
    var sites: [FaultSite] = []
    var counts: [IOOp: Int] = [:]
    for (i, var c) in calls.enumerated() {
        c.path = String(c.path.dropFirst(dir.path.count))
        counts[c.op, default: 0] += 1
        for k in faultKinds(for: c.op) {
            sites.append(FaultSite(index: i, call: c, nth: counts[c.op]!, kind: k, afterSwitch: i > rename))
        }
    }
    return sites
}

func liveFiles(_ store: String) throws -> (segments: Set<String>, index: Set<String>, manifest: Manifest) {
    let snap = try Snapshot.open(path: store, options: smallOptions())
    let m = snap.manifest
    return (Set(m.segments.map(\.name)), Set(m.ledgers + (m.latestIndex.isEmpty ? [] : [m.latestIndex])), m)
}

func filesIn(_ dir: String) -> Set<String> {
    Set((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
}

/// Checks a store at rest (opened with the real file system): verifier clean, rows and latest
/// index as expected, no file left that the manifest does not reference (after a writer open).
func expectStore(_ store: String, rows: [DetRow], latest: [String: (Int64, String)], _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
    let snap = try Snapshot.open(path: store, options: smallOptions())
    let report = Verifier.verify(snapshot: snap)
    #expect(report.isClean, "\(what): verify: \(report.problems)", sourceLocation: sourceLocation)
    #expect(try scanDetections(snap) == rows.sorted(), "\(what): rows differ", sourceLocation: sourceLocation)
    let idx = try snap.latestIndex()
    #expect(idx.entries.count == latest.count, "\(what): latest index has \(idx.entries.count) vehicles", sourceLocation: sourceLocation)
    for (v, (t, s)) in latest {
        #expect(idx.entry(v)?.time == t && idx.entry(v)?.status == s,
                "\(what): latest of \(v) is \(String(describing: idx.entry(v))), expected \(t) \(s)", sourceLocation: sourceLocation)
    }
}

@Suite struct FaultInjectionTests {
    /// Every call of a commit, in turn, fails with every fault that fits it (ENOSPC, EIO, a
    /// short write on writes; EIO on creates, fsyncs, closes, renames, unlinks, directory
    /// fsyncs). The commit must throw that error unchanged (operation and file named), leave the
    /// store valid with A's rows and none of B's (or, when the failure comes after the
    /// manifest switch, all of B's and B not in the ledger, so its input is re-ingested),
    /// leave no stray files, and succeed when retried on the same writer after the fault clears.
    @Test(arguments: [1 << 20, 1_000])
    func everyCallSiteOfACommitFailsCleanly(bufferBytes: Int) throws {
        let sites = try commitSites(bufferBytes: bufferBytes)
        #expect(sites.count > 30)
        let ops = Set(sites.map(\.call.op))
        #expect(ops.isSuperset(of: [.create, .write, .fsync, .close, .rename, .unlink, .fsyncDir]), "\(ops)")
        let sc = FaultScenario()
        for site in sites {
            try runSite(site, sc, bufferBytes: bufferBytes)
        }
    }

    func runSite(_ site: FaultSite, _ sc: FaultScenario, bufferBytes: Int) throws {
        let dir = TempDir("tacho-fault")
        let fs = FaultInjectingFileSystem()
        let w = try StoreWriter(path: dir.path, options: faultOptions(fs, bufferBytes: bufferBytes))
        defer { w.close() }
        try sc.commitA(w)
        let before = try liveFiles(dir.path)
        fs.arm(site.fault)
        var thrown: (any Error)?
        do {
            try sc.appendB(w)
            try w.commit(ledger: [sc.ledgerB])
        } catch {
            thrown = error
            w.abort()  // as every caller does when append (which may spill) or commit throws
        }
        #expect(fs.injected.count == 1, "\(site): fault fired \(fs.injected)")
        #expect(fs.misuse.isEmpty, "\(site): \(fs.misuse)")
        fs.clearFaults()
        let published: Bool
        if let e = thrown {
            let se = e as? StoreError
            #expect(se?.code == .io, "\(site): \(e)")
            #expect(se?.operation == operationName(site.call.op), "\(site): error names \(se?.operation ?? "?"): \(e)")
            #expect(se?.path == dir.path + site.call.path, "\(site): error names \(se?.path ?? "?")")
            #expect("\(e)".contains(dir.path + site.call.path), "\(site): \(e)")
            published = site.afterSwitch
            #expect(w.ledgerEntry(for: sc.ledgerB.hash) == nil, "\(site): B recorded in the ledger after a failed commit")
        } else {
            // Only a cleanup after the switch may fail silently (the old latest index's unlink).
            #expect(site.afterSwitch && site.call.op == .unlink, "\(site): commit succeeded despite the fault")
            published = true
        }
        let rowsNow = published ? sc.rowsA + sc.rowsB : sc.rowsA
        let latestNow = published ? sc.latestAB : sc.latestA
        // In the writer's process: its own snapshot.
        #expect(try scanDetections(w.snapshot()) == rowsNow.sorted(), "\(site): writer snapshot rows")
        // On disk, for any reader: valid, and with exactly the right rows.
        try expectStore(dir.path, rows: rowsNow, latest: latestNow, "\(site) after the fault")
        if !published {
            let now = try liveFiles(dir.path)
            #expect(now.segments == before.segments && now.index == before.index, "\(site): manifest changed")
            if site.call.op != .unlink {
                // Nothing of the failed commit is left behind (an unlink fault may leave its file).
                #expect(filesIn(dir.path + "/segments") == before.segments, "\(site): stray segments \(filesIn(dir.path + "/segments").subtracting(before.segments))")
                #expect(filesIn(dir.path + "/index") == before.index, "\(site): stray index files \(filesIn(dir.path + "/index").subtracting(before.index))")
            }
        }
        // The fault clears: the same writer ingests B (again).
        try sc.appendB(w)
        try w.commit(ledger: [sc.ledgerB])
        #expect(w.ledgerEntry(for: sc.ledgerB.hash) != nil)
        try expectStore(dir.path, rows: sc.rowsA + sc.rowsB, latest: sc.latestAB, "\(site) after the retry")
        w.close()
        // Reopened with the real file system: orphans gone, everything still there.
        let w2 = try StoreWriter(path: dir.path, options: smallOptions())
        #expect(w2.ledgerEntry(for: sc.ledgerA.hash) != nil && w2.ledgerEntry(for: sc.ledgerB.hash) != nil, "\(site): ledger after reopen")
        w2.close()
        let live = try liveFiles(dir.path)
        #expect(filesIn(dir.path + "/segments") == live.segments, "\(site): orphan segments after reopen")
        #expect(filesIn(dir.path + "/index") == live.index, "\(site): orphan index files after reopen")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/MANIFEST.tmp"))
        try expectStore(dir.path, rows: sc.rowsA + sc.rowsB, latest: sc.latestAB, "\(site) after reopen")
    }

    /// A disk that stays full: every write from the first on fails until space is freed. Several
    /// commits fail in a row on one writer; then it recovers without reopening.
    @Test func diskFullForSeveralCommitsThenRecovers() throws {
        let dir = TempDir("tacho-fault")
        let fs = FaultInjectingFileSystem()
        let sc = FaultScenario()
        let w = try StoreWriter(path: dir.path, options: faultOptions(fs))
        defer { w.close() }
        try sc.commitA(w)
        fs.arm(Fault(.write, nth: 1, .error(ENOSPC), sticky: true))
        for _ in 0..<3 {
            #expect(throws: StoreError.self) {
                do {
                    try sc.appendB(w)
                    try w.commit(ledger: [sc.ledgerB])
                } catch {
                    w.abort()
                    throw error
                }
            }
        }
        #expect(fs.injected.count >= 3)
        try expectStore(dir.path, rows: sc.rowsA, latest: sc.latestA, "disk full")
        #expect(filesIn(dir.path + "/segments") == (try liveFiles(dir.path)).segments)
        fs.clearFaults()
        try sc.appendB(w)
        try w.commit(ledger: [sc.ledgerB])
        try expectStore(dir.path, rows: sc.rowsA + sc.rowsB, latest: sc.latestAB, "after space was freed")
    }

    /// Opening a store whose directories cannot be created, or on a read-only disk, fails with
    /// the operation and path; nothing half-made stops a later open.
    @Test func openFailsCleanlyWhenTheStoreCannotBeCreated() throws {
        let dir = TempDir("tacho-fault")
        for (fault, op) in [
            (Fault(.mkdir, nth: 2, .error(EROFS)), "create directory"),
            (Fault(.create, .error(ENOSPC)), "create file"),
            (Fault(.fsync, .error(EIO)), "fsync"),
            (Fault(.rename, .error(EIO)), "rename"),
            (Fault(.fsyncDir, .error(EIO)), "fsync directory"),
        ] {
            let store = dir.path + "/s-\(fault.op.rawValue)"
            let fs = FaultInjectingFileSystem(faults: [fault])
            do {
                _ = try StoreWriter(path: store, options: faultOptions(fs))
                Issue.record("\(fault): open succeeded")
            } catch let e as StoreError {
                #expect(e.operation == op && !e.path.isEmpty, "\(fault): \(e)")
            }
            #expect(fs.misuse.isEmpty)
            let w = try StoreWriter(path: store, options: smallOptions())
            try FaultScenario().commitA(w)
            w.close()
            try expectStore(store, rows: FaultScenario().rowsA, latest: FaultScenario().latestA, "\(fault) then reopen")
        }
    }

    @Test func faultSpecsParse() {
        let f = Fault(parsing: "fsync@3:EIO")
        #expect(f?.op == .fsync && f?.nth == 3 && f?.kind == .error(EIO) && f?.sticky == false)
        let g = Fault(parsing: "write@2+:short:segments/")
        #expect(g?.op == .write && g?.nth == 2 && g?.kind == .shortWrite && g?.sticky == true && g?.pathContains == "segments/")
        #expect(Fault(parsing: "rename:ENOSPC")?.nth == 1)
        #expect(Fault(parsing: "fsyncDir@1:5")?.kind == .error(5))
        #expect(Fault(parsing: "bogus@1:EIO") == nil)
        #expect(Fault(parsing: "write@0:EIO") == nil)
        #expect(Fault(parsing: "write@1:EWHAT") == nil)
        #expect(Fault(parsing: "write") == nil)
    }
}

@Suite struct FaultInjectionOpenTests {
    /// Leftovers that cannot be removed (an unlink that fails, a directory someone made in
    /// index/ or segments/) are logged and left; the writer still opens and commits.
    @Test func undeletableOrphansDoNotKeepTheStoreFromOpening() throws {
        let dir = TempDir("tacho-fault")
        let sc = FaultScenario()
        do {
            let w = try StoreWriter(path: dir.path, options: smallOptions())
            try sc.commitA(w)
            w.close()
        }
        try FileManager.default.createDirectory(atPath: dir.path + "/index/not-a-file", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/segments/not-a-file", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.path + "/index/ledger-000000ff.led"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.path + "/segments/detections-19700101T000000Z-000000ff.tseg"))
        let fs = FaultInjectingFileSystem(faults: [Fault(.unlink, .error(EIO), pathContains: "000000ff", sticky: true)])
        let w = try StoreWriter(path: dir.path, options: faultOptions(fs))
        defer { w.close() }
        #expect(fs.injected.count == 2, "\(fs.injected)")
        try sc.appendB(w)
        try w.commit(ledger: [sc.ledgerB])
        try expectStore(dir.path, rows: sc.rowsA + sc.rowsB, latest: sc.latestAB, "with undeletable orphans")
    }

    /// A manifest switch without new data (retention, repair) whose directory fsync fails after
    /// the rename: the writer follows the disk, so its next commit does not bring back the
    /// segments the switch dropped.
    @Test func switchWhoseDirectorySyncFailsIsNotUndoneByTheNextCommit() throws {
        let dir = TempDir("tacho-fault")
        let fs = FaultInjectingFileSystem()
        let sc = FaultScenario()
        let w = try StoreWriter(path: dir.path, options: faultOptions(fs))
        defer { w.close() }
        try sc.commitA(w)
        var next = w.manifest
        let dropped = next.segments.removeFirst()
        fs.arm(Fault(.fsyncDir, .error(EIO)))
        #expect(throws: StoreError.self) { try w.switchManifest(next) }
        #expect(!w.manifest.segments.contains(dropped))
        fs.clearFaults()
        var det = RowBatch(.detections)
        det.append(vehicle: "late", time: FaultScenario.base, [.string("cars"), .int(1)])
        try w.append(det)
        try w.commit()
        let snap = try Snapshot.open(path: dir.path, options: smallOptions())
        #expect(!snap.manifest.segments.contains { $0.name == dropped.name }, "the dropped segment came back")
        #expect(Verifier.verify(snapshot: snap).isClean)
    }
}
