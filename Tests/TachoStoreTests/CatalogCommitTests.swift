import Foundation
import Testing
import TachoFaults
import TachoFormat
import TachoTestSupport
@testable import TachoStore

/// A measurement's catalog entry is published by the manifest switch of the commit that
/// stores its first rows (FORMAT.md §7 "When the catalog is written"): never before (a failed
/// commit leaves no schema), never after (no rows without a schema); stores that keep the
/// legacy root CATALOG open unchanged and move to generations with their next such commit.
@Suite struct CatalogCommitTests {
    typealias Row = CatalogStoreTests.Row
    static let probe = Measurement(id: 0, name: "probe", columns: [
        ColumnSpec("tag", .string, identity: true), ColumnSpec("x", .int64, nullable: true),
    ])
    static let probeAsFloat = Measurement(id: 0, name: "probe", columns: [
        ColumnSpec("tag", .string, identity: true), ColumnSpec("x", .float64, nullable: true),
    ])

    func manifest(_ dir: String) throws -> Manifest {
        try #require(try readManifest(StoreLayout(root: dir), fs: PosixFileSystem()))
    }

    func indexFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/index").sorted()
    }

    /// The commit fails at its switch after the catalog generation was written: the store
    /// keeps the old catalog (no entry for rows that are not there), the generation is an
    /// orphan the next writer removes, and the same measurement can then be declared with
    /// another type, which the failed commit's entry would have refused.
    @Test func failedSwitchLeavesNoCatalogEntry() throws {
        let dir = TempDir()
        let fs = FaultInjectingFileSystem()
        let w = try StoreWriter(path: dir.path, options: faultOptions(fs))
        let m = try #require(try w.declare([Self.probe]).measurement(named: "probe"))
        try w.append(CatalogStoreTests.batch(m, [Row(vehicle: "v", time: july1, values: [.string("a"), .int(1)])]))
        fs.arm(Fault(.rename, .error(EIO), pathContains: "MANIFEST"))
        #expect(throws: StoreError.self) { try w.commit() }
        fs.clearFaults()
        w.close()
        #expect(try manifest(dir.path).catalog.isEmpty)
        #expect(try Snapshot.open(path: dir.path).catalog == .builtIn)

        let w2 = try StoreWriter(path: dir.path, options: smallOptions())
        let left = try indexFiles(dir.path)
        #expect(left.allSatisfy { !$0.hasPrefix("catalog-") }, "\(left)")
        let f = try #require(try w2.declare([Self.probeAsFloat]).measurement(named: "probe"))
        try w2.append(CatalogStoreTests.batch(f, [Row(vehicle: "v", time: july1, values: [.string("a"), .double(1.5)])]))
        try w2.commit()
        w2.close()
        let snap = try Snapshot.open(path: dir.path)
        #expect(snap.catalog.measurement(named: "probe")?.columns[1].type == .float64)
        #expect(try CatalogStoreTests.scan(snap, f) == [Row(vehicle: "v", time: july1, values: [.string("a"), .double(1.5)])])
    }

    /// Only measurements with rows in a commit are stored by it; `forgetUnstoredDeclarations`
    /// takes back the others, so a later declaration of the same name with other types works.
    @Test func onlyMeasurementsWithRowsAreStored() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: smallOptions())
        defer { w.close() }
        try w.declare([Self.probe, CatalogStoreTests.alarms])
        let alarms = try #require(w.catalog.measurement(named: "alarms"))
        try w.append(CatalogStoreTests.batch(alarms, [Row(vehicle: "v", time: july1, values: [.string("fire"), .int(1), nil, nil, nil, nil])]))
        try w.commit()
        #expect(w.storedCatalog.measurement(named: "alarms") == alarms)
        #expect(w.storedCatalog.measurement(named: "probe") == nil)
        #expect(try Snapshot.open(path: dir.path).catalog == w.storedCatalog)
        #expect(throws: CatalogError.self) { try w.declare([Self.probeAsFloat]) }
        w.forgetUnstoredDeclarations()
        #expect(w.catalog.measurement(named: "probe") == nil && w.catalog.measurement(named: "alarms") == alarms)
        let f = try #require(try w.declare([Self.probeAsFloat]).measurement(named: "probe"))
        try w.append(CatalogStoreTests.batch(f, [Row(vehicle: "v", time: july1, values: [.string("a"), nil])]))
        try w.commit()
        #expect(try Snapshot.open(path: dir.path).catalog.measurement(named: "probe") == f)
        // One generation is named; the one it replaced goes when the writer closes.
        w.close()
        #expect(try indexFiles(dir.path).filter { $0.hasPrefix("catalog-") } == [try manifest(dir.path).catalog])
    }

    /// A store of the previous release (MANIFEST version 1, root CATALOG) reads unchanged;
    /// the next commit that adds to its catalog writes a generation, and the root file goes.
    @Test func legacyRootCatalogIsReadThenReplaced() throws {
        let dir = TempDir()
        var w = try StoreWriter(path: dir.path, options: CatalogStoreTests.options([CatalogStoreTests.alarms]))
        let alarms = try #require(w.catalog.measurement(named: "alarms"))
        let rows = [Row(vehicle: "v", time: july1, values: [.string("fire"), .int(1), .double(2), nil, .bool(true), .strings(["a"])])]
        try w.append(CatalogStoreTests.batch(alarms, rows))
        try w.commit()
        w.close()
        // Rewrite it as the previous release left it.
        var m = try manifest(dir.path)
        let generation = dir.path + "/index/" + m.catalog
        try FileManager.default.moveItem(atPath: generation, toPath: dir.path + "/CATALOG")
        m.catalog = ""
        m.catalogCRC = 0
        try Data(m.encode()).write(to: URL(fileURLWithPath: dir.path + "/MANIFEST"))
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path + "/MANIFEST")))[4] == 1)
        #expect(try CatalogStoreTests.scan(Snapshot.open(path: dir.path), alarms) == rows)

        w = try StoreWriter(path: dir.path, options: smallOptions())
        #expect(w.catalog.measurement(named: "alarms") == alarms)
        let p = try #require(try w.declare([Self.probe]).measurement(named: "probe"))
        try w.append(CatalogStoreTests.batch(p, [Row(vehicle: "v", time: july1, values: [.string("a"), .int(Int64.min)])]))
        try w.commit()
        w.close()
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/CATALOG"))
        let snap = try Snapshot.open(path: dir.path)
        #expect(snap.catalog.measurement(named: "alarms") == alarms && snap.catalog.measurement(named: "probe") == p)
        #expect(try CatalogStoreTests.scan(snap, alarms) == rows)
    }

    /// MANIFEST lost after commits that stored generations: the rebuild takes the newest
    /// intact generation and names it.
    @Test func rebuildNamesTheNewestGeneration() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: smallOptions())
        for (k, m) in [Self.probe, CatalogStoreTests.alarms].enumerated() {
            let built = try #require(try w.declare([m]).measurement(named: m.name))
            let values: [ColumnValue?] = built.columns.map { $0.isNullable ? nil : ($0.type == .string ? .string("s\(k)") : .int(1)) }
            try w.append(CatalogStoreTests.batch(built, [Row(vehicle: "v", time: july1, values: values)]))
            try w.commit()
        }
        let stored = w.storedCatalog
        w.close()
        let named = try manifest(dir.path).catalog
        try FileManager.default.removeItem(atPath: dir.path + "/MANIFEST")
        var quiet = smallOptions()
        quiet.logger.logLevel = .critical
        let r = try #require(try StoreWriter.rebuildManifest(path: dir.path, options: quiet))
        #expect(r.quarantined.isEmpty && r.segments.count == 2)
        #expect(try manifest(dir.path).catalog == named)
        #expect(try Snapshot.open(path: dir.path).catalog == stored)
    }
}
