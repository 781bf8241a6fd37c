import Foundation
import Testing
import TachoFormat
@testable import TachoIngest
import TachoJSON
import TachoFaults
import TachoStore
#if canImport(Glibc)
import Glibc
import TachoTestSupport
#endif

/// Writes a detections file and a status file with rows unique to `tag`; returns the paths and
/// the detection rows (vehicle, µs, type, value) they hold.
func writeTelemetry(_ dir: String, tag: Int) -> (paths: [String], rows: Set<Row>) {
    var rows = Set<Row>()
    var events: [String] = []
    let base: Int64 = 1_719_792_000_000_000 + Int64(tag) * 3_600_000_000
    for e in 0..<30 {
        let v = "veh\(e % 4)"
        // Two days, so the commit writes segments of two partitions.
        let t = base + Int64(e % 2) * 86_400_000_000 + Int64(e) * 1_000_000
        rows.insert(Row(vehicle: v, time: t, label: "cars", value: Int64(e % 10)))
        rows.insert(Row(vehicle: v, time: t, label: "signs", value: 1))
        events.append(#"{"vehicle_id":"\#(v)","detection_time":"\#(Timestamp.format(t))","detections":[{"object_type":"cars","object_value":\#(e % 10)},{"object_type":"signs","object_value":1}]}"#)
    }
    let det = dir + "/objects_detection_\(tag).json"
    _ = FileManager.default.createFile(atPath: det, contents: Data(#"{"objects_detection_events":[\#(events.joined(separator: ",\n"))]}"#.utf8))
    var st: [String] = []
    for e in 0..<5 {
        st.append(#"{"vehicle_id":"veh\#(e)","report_time":"\#(Timestamp.format(base + Int64(e) * 1_000_000))","status":"driving"}"#)
    }
    let status = dir + "/vehicles_status_\(tag).json"
    _ = FileManager.default.createFile(atPath: status, contents: Data(#"{"vehicle_status":[\#(st.joined(separator: ","))]}"#.utf8))
    return ([det, status], rows)
}

func faultStoreOptions(_ fs: FaultInjectingFileSystem) -> StoreOptions {
    var o = quietOptions()
    o.fileSystem = fs
    return o
}

func storeIsClean(_ store: String) throws -> Bool {
    let snap = try Snapshot.open(path: store, options: quietOptions())
    let r = Verifier.verify(snapshot: snap)
    if !r.isClean { Issue.record("verify: \(r.problems)") }
    return r.isClean
}

@Suite struct IngestFaultInjectionTests {
    /// `tacho ingest`'s path (Ingestor): each call of the commit of a file, in turn, fails. The
    /// error names the operation and file, the input is untouched, the store keeps exactly the
    /// earlier file's rows and verifies clean, and ingesting the file again succeeds.
    @Test func ingestorFailsCleanlyAtEveryCallSiteAndRetrySucceeds() throws {
        let inputs = TempDir("tacho-fault-inputs")
        let first = writeTelemetry(inputs.path, tag: 1)
        let second = writeTelemetry(inputs.path, tag: 2)
        let secondBytes = try second.paths.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        // Record the calls of the second detections file's ingest.
        var calls: [FaultInjectingFileSystem.Call] = []
        do {
            let dir = TempDir("tacho-fault-trace")
            let fs = FaultInjectingFileSystem()
            let w = try StoreWriter(path: dir.path, options: faultStoreOptions(fs))
            let ing = Ingestor(writer: w, logger: quietLogger())
            for p in first.paths { _ = try ing.ingest(path: p) }
            fs.startRecording()
            _ = try ing.ingest(path: second.paths[0])
            calls = fs.stopRecording().map { var c = $0; c.path = String(c.path.dropFirst(dir.path.count)); return c }
            w.close()
        }
        #expect(calls.count > 20)
        // The input is opened through the environment too; its failure is the input's
        // (`inputThatCannotBeOpened…`), not the store's: the sites below are the store's calls.
        #expect(calls.filter { $0.op == .input }.count == 1)
        var counts: [IOOp: Int] = [:]
        var sites = 0
        for c in calls where c.op != .input {
            counts[c.op, default: 0] += 1
            let kinds: [FaultKind] = c.op == .write ? [.error(ENOSPC), .shortWrite] : [.error(EIO)]
            for kind in kinds {
                sites += 1
                let fault = Fault(c.op, nth: counts[c.op]!, kind)
                let dir = TempDir("tacho-fault")
                let fs = FaultInjectingFileSystem()
                let w = try StoreWriter(path: dir.path, options: faultStoreOptions(fs))
                defer { w.close() }
                let ing = Ingestor(writer: w, logger: quietLogger())
                for p in first.paths { _ = try ing.ingest(path: p) }
                fs.arm(fault)
                var failed = false
                do {
                    _ = try ing.ingest(path: second.paths[0])
                } catch let e as StoreError {
                    failed = true
                    #expect(e.operation == operationName(c.op) && e.path == dir.path + c.path, "\(fault) on \(c.path): \(e)")
                }
                if !failed {
                    // Only the old latest index's removal after the switch may fail silently.
                    #expect(c.op == .unlink && c.path.hasPrefix("/index/latest"), "\(fault) on \(c.path): ingest succeeded")
                }
                fs.clearFaults()
                #expect(try second.paths.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == secondBytes)
                #expect(try storeIsClean(dir.path), "\(fault) on \(c.path)")
                let rows = try allRows(dir.path, .detections)
                #expect(rows.count == Set(rows).count, "\(fault) on \(c.path): duplicates")
                if failed && c.path != "" {
                    // Failed before the switch: none of the second file's rows.
                    #expect(Set(rows) == first.rows, "\(fault) on \(c.path): rows")
                }
                // The fault cleared: the file goes in (again), exactly once.
                let r = try ing.ingest(path: second.paths[0])
                if case .ingested = r.outcome {} else if failed {
                    Issue.record("\(fault) on \(c.path): retry gave \(r.outcome)")
                }
                let after = try allRows(dir.path, .detections)
                #expect(after.count == Set(after).count && Set(after) == first.rows.union(second.rows), "\(fault) on \(c.path): rows after retry")
                #expect(try storeIsClean(dir.path))
                #expect(fs.misuse.isEmpty, "\(fault) on \(c.path): \(fs.misuse)")
            }
        }
        #expect(sites >= 20)
    }

    /// An input the environment cannot open (EIO) is not the input's fault: `tacho ingest` stops
    /// at it with the path and the reason, writes nothing of it, and ingests it once it opens.
    @Test func inputThatCannotBeOpenedIsNotIngestedUntilItOpens() throws {
        let inputs = TempDir("tacho-fault-input")
        let first = writeTelemetry(inputs.path, tag: 1)
        let dir = TempDir("tacho-fault-input-store")
        let fs = FaultInjectingFileSystem()
        let w = try StoreWriter(path: dir.path, options: faultStoreOptions(fs))
        defer { w.close() }
        let ing = Ingestor(writer: w, logger: quietLogger())
        let target = first.paths[0]
        fs.arm(Fault(.input, nth: 1, .error(EIO), pathContains: (target as NSString).lastPathComponent))
        #expect {
            _ = try ing.ingest(path: target)
        } throws: { e in
            guard let e = e as? InputReadError else { return false }
            return e.path == target && e.message.contains("errno \(EIO)")
        }
        #expect(fs.injected.count == 1)
        #expect(try allRows(dir.path, .detections).isEmpty)
        #expect(try storeIsClean(dir.path))
        for p in first.paths {
            let r = try ing.ingest(path: p)
            guard case .ingested = r.outcome else { Issue.record("\(p): \(r.outcome)"); continue }
        }
        let rows = try allRows(dir.path, .detections)
        #expect(rows.count == Set(rows).count && Set(rows) == first.rows)
    }

    /// `tacho run`'s path (InboxDaemon) with a disk that keeps failing one kind of call: the
    /// files stay in the inbox (retried, never moved, never rejected), the store keeps serving
    /// the earlier rows and verifies clean; once the fault clears they are ingested exactly once.
    @Test(arguments: [
        "write@1+:ENOSPC", "write@1+:short:segments/", "fsync@1+:EIO:segments/", "fsync@1+:EIO:MANIFEST",
        "create@1+:ENOSPC:index/", "fsyncDir@1+:EIO:index", "rename@1+:EIO", "close@1+:EIO:ledger",
        "input@1+:EIO",
    ])
    func daemonKeepsFilesInTheInboxUntilTheFaultClears(spec: String) throws {
        let dir = TempDir("tacho-fault-daemon")
        let inbox = dir.path + "/inbox", store = dir.path + "/store"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let fs = FaultInjectingFileSystem()
        let w = try StoreWriter(path: store, options: faultStoreOptions(fs))
        defer { w.close() }
        var config = InboxConfig()
        config.inbox = inbox
        config.settleSeconds = 0.05
        config.parseThreads = 1
        let daemon = try InboxDaemon(config: config, writer: w, logger: quietLogger())
        let stop = StopFlag()
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let d = daemon
        nonisolated(unsafe) var runError: (any Error)?
        Thread.detachNewThread {
            do { try d.run(until: stop) } catch { runError = error }
            done.signal()
        }
        defer {
            stop.stop()
            done.wait()
        }
        func names(_ sub: String) -> Set<String> {
            func list(_ d: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).filter { !$0.hasPrefix(".") } }
            // A file the daemon has claimed (inbox/.tacho-claimed/) is still in the inbox.
            return Set(list(dir.path + "/" + sub) + (sub == "inbox" ? list(inbox + "/.tacho-claimed") : []))
        }
        // A healthy first file.
        let staging = TempDir("tacho-fault-staging")
        let first = writeTelemetry(staging.path, tag: 1)
        for p in first.paths { try FileManager.default.moveItem(atPath: p, toPath: inbox + "/" + (p as NSString).lastPathComponent) }
        #expect(waitUntil(10) { names("processed").count == 2 }, "first files not processed: \(names("inbox"))")
        // The disk goes bad; the second pair arrives.
        guard let fault = Fault(parsing: Substring(spec)) else { Issue.record("bad spec"); return }
        fs.arm(fault)
        let second = writeTelemetry(staging.path, tag: 2)
        for p in second.paths { try FileManager.default.moveItem(atPath: p, toPath: inbox + "/" + (p as NSString).lastPathComponent) }
        #expect(waitUntil(10) { fs.injected.count >= 2 }, "\(spec): the fault did not fire twice: \(fs.injected)")
        #expect(names("inbox") == ["objects_detection_2.json", "vehicles_status_2.json"], "\(spec): inbox \(names("inbox"))")
        #expect(names("processed").count == 2 && names("rejected").isEmpty, "\(spec): \(names("processed")) \(names("rejected"))")
        #expect(Set(try allRows(store, .detections)) == first.rows, "\(spec): rows while failing")
        #expect(try storeIsClean(store), "\(spec)")
        // Space is freed / the device recovers.
        fs.clearFaults()
        #expect(waitUntil(15) { names("inbox").isEmpty }, "\(spec): inbox after recovery \(names("inbox"))")
        #expect(names("processed").count == 4 && names("rejected").isEmpty)
        let rows = try allRows(store, .detections)
        #expect(rows.count == Set(rows).count && Set(rows) == first.rows.union(second.rows), "\(spec): rows after recovery")
        #expect(try storeIsClean(store), "\(spec)")
        #expect(runError == nil, "\(spec): daemon stopped: \(String(describing: runError))")
        #expect(fs.misuse.isEmpty, "\(spec): \(fs.misuse)")
    }
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
