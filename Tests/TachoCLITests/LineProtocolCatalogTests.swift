import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// Line protocol's schema on write through `tacho run` as through `tacho ingest`
/// (docs/SEMANTICS.md "Line protocol input"), and the catalog entry of a created measurement
/// made durable by the same manifest switch as its first rows (FORMAT.md §7): a kill between
/// the catalog generation's write and the switch leaves neither.
@Suite(.serialized) struct LineProtocolCatalogTests {
    static let engineLines = """
        engine,vehicle_id=V3,bank=A temp_c=90.5,rpm=2100i 1719792000000000000
        engine,vehicle_id=V3,bank=A temp_c=91.5 1719792060000000000
        engine,vehicle_id=V3,bank=A temp_c=91i 1719792090000000000
        engine,bank=B temp_c=1.5 1719792090000000000
        cabin,bank=B temp_c=1.5 1719792090000000000

        """

    static let engineRows = """
        vehicle_id,time,bank,temp_c,rpm
        V3,2024-07-01T00:00:00.000Z,A,90.5,2100
        V3,2024-07-01T00:01:00.000Z,A,91.5,

        """

    func drain(_ root: String, extra: [String] = [], env: [String: String] = [:]) throws -> Process {
        let p = try startProcess(
            ["run", "--store", root + "/store", "--inbox", root + "/inbox", "--settle", "0.2", "--log-level", "warning"] + extra, env: env)
        return p
    }

    func stop(_ p: Process) {
        p.terminate()
        p.waitUntilExit()
    }

    /// An undeclared measurement is created from its lines by the daemon; a type contradiction
    /// and a missing vehicle tag reject their lines with the reason (also for a measurement no
    /// line could create); later files of it, after a restart, go to the stored measurement.
    @Test func runCreatesMeasurementsFromLines() throws {
        let dir = TempDir("tacho-lp-run")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try Self.engineLines.write(toFile: inbox + "/e.lp", atomically: true, encoding: .utf8)
        var daemon = try drain(dir.path)
        #expect(waitUntil(20) { files(in: inbox).isEmpty }, "inbox still holds \(files(in: inbox))")
        stop(daemon)
        #expect(daemon.terminationStatus == 0)
        #expect(files(in: dir.path + "/processed") == ["e.lp"])
        let rejects = try String(contentsOfFile: dir.path + "/rejected/e.lp.rejects.ndjson", encoding: .utf8)
        #expect(rejects.contains("field 'temp_c' is int64, but the column is declared float64"), "\(rejects)")
        #expect(rejects.contains(#""measurement":"engine","field":"temp_c""#), "\(rejects)")
        #expect(rejects.contains("no 'vehicle_id' tag"), "\(rejects)")
        #expect(rejects.contains(#""measurement":"cabin","field":"vehicle_id""#), "\(rejects)")
        let q = try tacho(["query", "engine", "--store", dir.path + "/store"])
        #expect(q.status == 0 && q.stdout == Self.engineRows, "\(q.stdout)\(q.stderr)")

        // After a restart: a first line without rpm does not take rpm away from the store's
        // engine, and a new field joins it as a nullable column.
        try """
            engine,vehicle_id=V4,bank=A temp_c=80.25,oil=3.5 1719792000000000000
            engine,vehicle_id=V4,bank=A temp_c=81.5,rpm=900i 1719792060000000000

            """.write(toFile: inbox + "/f.lp", atomically: true, encoding: .utf8)
        daemon = try drain(dir.path)
        #expect(waitUntil(20) { files(in: inbox).isEmpty }, "inbox still holds \(files(in: inbox))")
        stop(daemon)
        let q2 = try tacho(["query", "engine", "--store", dir.path + "/store", "--vehicle", "V4"])
        #expect(q2.stdout == """
            vehicle_id,time,bank,temp_c,rpm,oil
            V4,2024-07-01T00:00:00.000Z,A,80.25,,3.5
            V4,2024-07-01T00:01:00.000Z,A,81.5,900,

            """, "\(q2.stdout)\(q2.stderr)")
    }

    /// A measurement created by earlier lines whose new first line has other tags (another
    /// identity) is not changed: its lines are rejected with the reason, the other lines of
    /// the same files are stored, by `tacho ingest` and `tacho run` alike.
    @Test(arguments: [false, true])
    func contradictedMeasurementRejectsOnlyItsLines(daemon: Bool) throws {
        let dir = TempDir("tacho-lp-run")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let store = dir.path + "/store"
        try Self.engineLines.write(toFile: dir.path + "/e.lp", atomically: true, encoding: .utf8)
        #expect(try tacho(["ingest", "--store", store, dir.path + "/e.lp"]).status == 1)
        try """
            engine,vehicle_id=V5,bank=A,cyl=2 temp_c=70.5 1719792000000000000
            gearbox,vehicle_id=V5 oil_c=55.5 1719792000000000000

            """.write(toFile: inbox + "/g.lp", atomically: true, encoding: .utf8)
        let rejects: String
        if daemon {
            let p = try drain(dir.path)
            #expect(waitUntil(20) { files(in: inbox).isEmpty }, "inbox still holds \(files(in: inbox))")
            stop(p)
            rejects = try String(contentsOfFile: dir.path + "/rejected/g.lp.rejects.ndjson", encoding: .utf8)
        } else {
            let r = try tacho(["ingest", "--store", store, "--rejected", dir.path + "/rej", inbox])
            #expect(r.status == 1, "\(r.stderr)")
            rejects = try String(contentsOfFile: dir.path + "/rej/g.lp.rejects.ndjson", encoding: .utf8)
        }
        #expect(rejects.contains("measurement 'engine' cannot be created from its lines: measurement engine: column cyl changes the identity of stored rows"), "\(rejects)")
        let q = try tacho(["query", "engine", "--store", store])
        #expect(q.stdout == Self.engineRows, "\(q.stdout)\(q.stderr)")
        let g = try tacho(["query", "gearbox", "--store", store])
        #expect(g.stdout == "vehicle_id,time,oil_c\nV5,2024-07-01T00:00:00.000Z,55.5\n", "\(g.stdout)\(g.stderr)")
    }

    /// `auto_create = false`: the daemon rejects lines of undeclared measurements, creates nothing.
    @Test func runWithAutoCreateOffRejectsUndeclaredLines() throws {
        let dir = TempDir("tacho-lp-run")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let cfg = dir.path + "/off.toml"
        try "[line_protocol]\nauto_create = false\n".write(toFile: cfg, atomically: true, encoding: .utf8)
        try Self.engineLines.write(toFile: inbox + "/e.lp", atomically: true, encoding: .utf8)
        let daemon = try drain(dir.path, extra: ["--config", cfg])
        #expect(waitUntil(20) { files(in: inbox).isEmpty }, "inbox still holds \(files(in: inbox))")
        stop(daemon)
        let rejects = try String(contentsOfFile: dir.path + "/rejected/e.lp.rejects.ndjson", encoding: .utf8)
        #expect(rejects.contains("measurement 'engine' is not declared (auto_create = false)"), "\(rejects)")
        let m = try tacho(["measurements", "--store", dir.path + "/store"])
        #expect(!m.stdout.contains("engine"), "\(m.stdout)")
    }

    /// `tacho ingest` killed after the catalog generation of a created measurement was written
    /// and before the manifest switch: the store shows neither the rows nor the entry, the next
    /// writer removes the generation, and the file, corrected to another field type before it
    /// is ingested again, creates the measurement with that type.
    @Test func killBetweenCatalogWriteAndSwitchLeavesNeither() throws {
        let dir = TempDir("tacho-lp-crash")
        let input = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        let store = dir.path + "/store"
        try "engine,vehicle_id=V3,bank=A temp_c=90.5 1719792000000000000\n".write(toFile: input + "/e.lp", atomically: true, encoding: .utf8)
        let r = try tacho(["ingest", "--store", store, input], env: ["TACHO_CRASH_POINT": CrashPoint.catalogWritten])
        #expect(r.killedBySignal == SIGKILL, "\(r.stderr)")
        let index = files(in: store + "/index")
        #expect(index.contains { $0.hasPrefix("catalog-") }, "\(index)")
        let snap = try Snapshot.open(path: store, options: quietOptions())
        #expect(snap.catalog.measurement(named: "engine") == nil)
        #expect(snap.manifest.segments.isEmpty && snap.manifest.catalog.isEmpty)
        let m = try tacho(["measurements", "--store", store])
        #expect(!m.stdout.contains("engine"), "\(m.stdout)")
        StoreWriter.closeAfterOpening(store)
        #expect(!files(in: store + "/index").contains { $0.hasPrefix("catalog-") }, "\(files(in: store + "/index"))")

        try "engine,vehicle_id=V3,bank=A temp_c=90i 1719792000000000000\n".write(toFile: input + "/e.lp", atomically: true, encoding: .utf8)
        let again = try tacho(["ingest", "--store", store, input])
        #expect(again.status == 0, "\(again.stderr)")
        let q = try tacho(["query", "engine", "--store", store])
        #expect(q.stdout == "vehicle_id,time,bank,temp_c\nV3,2024-07-01T00:00:00.000Z,A,90\n", "\(q.stdout)\(q.stderr)")
        #expect(try Snapshot.open(path: store, options: quietOptions()).catalog.measurement(named: "engine")?.columns.map(\.type) == [.string, .int64])
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }

    /// The daemon killed at the same point: after a restart the claimed file is ingested once,
    /// its measurement and rows together.
    @Test func daemonKilledBetweenCatalogWriteAndSwitchRecovers() throws {
        let dir = TempDir("tacho-lp-crash")
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try Self.engineLines.write(toFile: inbox + "/e.lp", atomically: true, encoding: .utf8)
        let killed = try drain(dir.path, env: ["TACHO_CRASH_POINT": CrashPoint.catalogWritten])
        killed.waitUntilExit()
        #expect(killed.terminationReason == .uncaughtSignal && killed.terminationStatus == SIGKILL)
        #expect(try Snapshot.open(path: dir.path + "/store", options: quietOptions()).catalog.measurement(named: "engine") == nil)
        let daemon = try drain(dir.path)
        #expect(waitUntil(20) { files(in: inbox).isEmpty }, "inbox still holds \(files(in: inbox))")
        stop(daemon)
        let q = try tacho(["query", "engine", "--store", dir.path + "/store"])
        #expect(q.stdout == Self.engineRows, "\(q.stdout)\(q.stderr)")
        #expect(try tacho(["verify", "--store", dir.path + "/store"]).status == 0)
    }
}

extension StoreWriter {
    /// Opens and closes a writer on `path` (removing what an interrupted commit left).
    static func closeAfterOpening(_ path: String) {
        (try? StoreWriter(path: path, options: quietOptions()))?.close()
    }
}
