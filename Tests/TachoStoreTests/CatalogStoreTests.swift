import Foundation
import Testing
import TachoFormat
import TachoTestSupport
@testable import TachoStore

typealias Measurement = TachoFormat.Measurement

/// Declared measurements through the store (FORMAT.md §7): every column type from
/// `StoreWriter` to `ScanCursor`, a column added later, contradictions refused before anything
/// is written, a damaged catalog, the generic latest index, and compaction with nulls.
@Suite struct CatalogStoreTests {
    /// One column of each type, four of them nullable; `state` (int64) is the latest column.
    static let alarms = Measurement(id: 0, name: "alarms", columns: [
        ColumnSpec("kind", .string, identity: true),
        ColumnSpec("state", .int64),
        ColumnSpec("level", .float64, nullable: true),
        ColumnSpec("note", .string, nullable: true),
        ColumnSpec("acked", .bool, nullable: true),
        ColumnSpec("files", .stringList, nullable: true),
    ], latestColumn: 1)

    struct Row: Hashable {
        var vehicle: String
        var time: Int64
        var values: [ColumnValue?]
    }

    static func options(_ declared: [Measurement]) -> StoreOptions {
        var o = smallOptions()
        o.measurements = declared
        return o
    }

    static func randomRows(_ m: Measurement, count: Int, _ rng: inout SplitMix64) -> [Row] {
        (0..<count).map { _ in
            let values: [ColumnValue?] = m.columns.map { c in
                if c.isNullable && Bool.random(using: &rng) { return nil }
                switch c.type {
                case .int64: return .int(Int64.random(in: -5...5, using: &rng))
                case .float64: return .double(Double(Int.random(in: -4...4, using: &rng)) / 4)
                case .string: return .string(["fire", "door", "", "é"].randomElement(using: &rng)!)
                case .bool: return .bool(Bool.random(using: &rng))
                case .stringList: return .strings((0..<Int.random(in: 0...2, using: &rng)).map { "cam\($0).mp4" })
                }
            }
            return Row(vehicle: ["v1", "v2", "v3"].randomElement(using: &rng)!,
                       time: july1 + Int64.random(in: 0..<40, using: &rng) * 1_000_000, values: values)
        }
    }

    static func batch(_ m: Measurement, _ rows: [Row]) -> RowBatch {
        var b = RowBatch(m)
        for r in rows { b.append(vehicle: r.vehicle, time: r.time, r.values) }
        return b
    }

    static func scan(_ snap: Snapshot, _ m: Measurement) throws -> [Row] {
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(m))
        var out: [Row] = []
        while let b = try cursor.next() {
            for i in b.range {
                out.append(Row(vehicle: b.vehicle, time: b.chunk.times[i],
                               values: b.chunk.columns.map { ColumnValue.at(i, of: $0.values, dictionary: $0.dictionary) }))
            }
        }
        return out
    }

    /// The model: last appended row per identity (vehicle, time, kind), in scan order.
    static func model(_ rows: [Row]) -> [Row] {
        var last: [String: Row] = [:]
        for r in rows { last["\(r.vehicle)|\(r.time)|\(r.values[0]!)"] = r }
        return last.values.sorted {
            ($0.vehicle, $0.time, ByteString("\($0.values[0]!)")) < ($1.vehicle, $1.time, ByteString("\($1.values[0]!)"))
        }
    }

    /// Property: random rows of every type with random nulls, over several commits (so scans
    /// merge overlapping segments), read back as the model; compaction keeps them; the latest
    /// index holds the int64 latest column per vehicle and its rebuild from footers agrees.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func everyTypeThroughTheStore(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: Self.options([Self.alarms]))
        defer { w.close() }
        let m = try #require(w.catalog.measurement(named: "alarms"))
        #expect(m.id == 3)
        var all: [Row] = []
        for _ in 0..<3 {
            let rows = Self.randomRows(m, count: Int.random(in: 1...80, using: &rng), &rng)
            all += rows
            try w.append(Self.batch(m, rows))
            try w.commit()
        }
        let want = Self.model(all)
        #expect(try Self.scan(w.snapshot(), m) == want)

        // Latest: per vehicle the row with the greatest time (ties: the last appended).
        var latest: [String: (Int64, Int64)] = [:]
        for r in all {
            guard case .int(let s)? = r.values[1] else { continue }
            if let old = latest[r.vehicle], old.0 > r.time { continue }
            latest[r.vehicle] = (r.time, s)
        }
        let idx = try w.snapshot().latestIndex()
        for (v, (t, s)) in latest {
            #expect(idx.entry(v, measurement: m.id)?.time == t && idx.entry(v, measurement: m.id)?.value == .int(s))
        }
        let snap = try w.snapshot()
        let rebuilt = try rebuildLatestIndex(manifest: snap.manifest, catalog: snap.catalog) { try snap.reader($0) }
        #expect(rebuilt.entries(of: m.id).mapValues(\.time) == idx.entries(of: m.id).mapValues(\.time))
        #expect(LatestIndex.decode(idx.encode()) == idx)

        // Compaction merges the overlapping segments into one and changes no row.
        try w.compact(compactOptions())
        #expect(w.manifest.segments.filter { $0.measurementID == m.id }.count == 1)
        #expect(try Self.scan(w.snapshot(), m) == want)
        #expect(Verifier.verify(snapshot: try w.snapshot()).problems.isEmpty)

        // Reopened without declarations: the catalog file keeps the measurement.
        w.close()
        let snap2 = try Snapshot.open(path: dir.path)
        #expect(snap2.catalog.measurement(named: "alarms") == m)
        #expect(try Self.scan(snap2, m) == want)
    }

    /// A nullable column declared later: nothing is rewritten, segments written before it read
    /// it as null, new rows carry it, and compaction writes the merged schema.
    @Test func nullableColumnAddedLater() throws {
        let dir = TempDir()
        let v1 = Measurement(id: 0, name: "power", columns: [ColumnSpec("volts", .float64)])
        var w = try StoreWriter(path: dir.path, options: Self.options([v1]))
        let m1 = try #require(w.catalog.measurement(named: "power"))
        try w.append(Self.batch(m1, [Row(vehicle: "v", time: july1, values: [.double(12.5)])]))
        try w.commit()
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments").sorted()
        w.close()

        let v2 = Measurement(id: 0, name: "power", columns: [ColumnSpec("volts", .float64), ColumnSpec("charging", .bool, nullable: true)])
        w = try StoreWriter(path: dir.path, options: Self.options([v2]))
        defer { w.close() }
        let m2 = try #require(w.catalog.measurement(named: "power"))
        #expect(m2.id == m1.id && m2.columns.map(\.id) == [1, 2])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/segments").sorted() == before)
        try w.append(Self.batch(m2, [Row(vehicle: "v", time: july1 + 1, values: [.double(13), .bool(true)])]))
        try w.commit()
        let want = [Row(vehicle: "v", time: july1, values: [.double(12.5), nil]),
                    Row(vehicle: "v", time: july1 + 1, values: [.double(13), .bool(true)])]
        #expect(try Self.scan(w.snapshot(), m2) == want)
        try w.compact(compactOptions())
        #expect(try Self.scan(w.snapshot(), m2) == want)
        // Rows built for the old schema are refused now: they would lack the column's id.
        #expect(throws: StoreError.self) { try w.append(Self.batch(m1, [Row(vehicle: "v", time: july1 + 2, values: [.double(1)])])) }
    }

    /// A contradiction is refused with its typed error before anything is written: an existing
    /// store's files stay byte for byte, a new store's directory is not even created.
    @Test func contradictionsAreRefusedBeforeAnythingIsWritten() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: Self.options([Self.alarms]))
        let m = try #require(w.catalog.measurement(named: "alarms"))
        try w.append(Self.batch(m, [Row(vehicle: "v", time: july1, values: [.string("fire"), .int(1), nil, nil, nil, nil])]))
        try w.commit()
        w.close()
        func files() throws -> [String: Data] {
            var out: [String: Data] = [:]
            let names = ["MANIFEST"] + (try FileManager.default.contentsOfDirectory(atPath: dir.path + "/index")).map { "index/" + $0 }
            for name in names { out[name] = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/" + name)) }
            return out
        }
        let saved = try files()
        let cases: [(Measurement, CatalogError)] = [
            (Measurement(id: 0, name: "alarms", columns: [ColumnSpec("kind", .string, identity: true), ColumnSpec("state", .string)]),
             .typeChanged(measurement: "alarms", column: "state", from: .int64, to: .string)),
            (Measurement(id: 0, name: "alarms", columns: [ColumnSpec("kind", .string), ColumnSpec("state", .int64)]),
             .identityChanged(measurement: "alarms", column: "kind")),
            (Measurement(id: 0, name: "alarms", columns: [ColumnSpec("kind", .string, identity: true), ColumnSpec("state", .int64), ColumnSpec("zone", .int64)]),
             .nonNullableColumnAdded(measurement: "alarms", column: "zone")),
            (Measurement(id: 0, name: "alarms", columns: [ColumnSpec("kind", .string, identity: true), ColumnSpec("state", .int64)], latestColumn: 0),
             .latestColumnTypeChanged(measurement: "alarms", column: "kind", from: .int64, to: .string)),
        ]
        for (declared, expected) in cases {
            #expect(throws: expected) { _ = try StoreWriter(path: dir.path, options: Self.options([declared])) }
            #expect(try files() == saved)
        }
        let fresh = dir.path + "/new-store"
        #expect(throws: CatalogError.typeChanged(measurement: "status", column: "status", from: .string, to: .bool)) {
            _ = try StoreWriter(path: fresh, options: Self.options([Measurement(id: 0, name: "status", columns: [ColumnSpec("status", .bool)])]))
        }
        #expect(!FileManager.default.fileExists(atPath: fresh))
    }

    /// Built-ins only: no catalog is written, so a store stays as the previous release wrote
    /// it (MANIFEST version 1); a declared measurement without rows writes nothing either. Its
    /// first rows' commit stores its entry in a catalog generation the MANIFEST (version 2)
    /// names; a damaged generation stops writers and readers alike.
    @Test func catalogFileOnlyWhenNeededAndDamageIsDetected() throws {
        let plain = TempDir()
        let w0 = try StoreWriter(path: plain.path, options: Self.options([.detections, .status]))
        #expect(w0.catalog == .builtIn)
        try w0.append(Self.batch(.status, [Row(vehicle: "v", time: july1, values: [.string("parked")])]))
        try w0.commit()
        w0.close()
        #expect(!FileManager.default.fileExists(atPath: plain.path + "/CATALOG"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: plain.path + "/index").allSatisfy { !$0.hasPrefix("catalog-") })
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain.path + "/MANIFEST")))[4] == 1)

        let dir = TempDir()
        let declaredOnly = try StoreWriter(path: dir.path, options: Self.options([Self.alarms]))
        declaredOnly.close()
        #expect(try Snapshot.open(path: dir.path).catalog == .builtIn)
        let w = try StoreWriter(path: dir.path, options: Self.options([Self.alarms]))
        let m = try #require(w.catalog.measurement(named: "alarms"))
        try w.append(Self.batch(m, [Row(vehicle: "v", time: july1, values: [.string("fire"), .int(1), nil, nil, nil, nil])]))
        try w.commit()
        w.close()
        let manifest = try #require(try readManifest(StoreLayout(root: dir.path), fs: PosixFileSystem()))
        #expect(manifest.catalog.hasPrefix("catalog-") && manifest.catalog.hasSuffix(".cat"))
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path + "/MANIFEST")))[4] == 2)
        #expect(try Snapshot.open(path: dir.path).catalog.measurement(named: "alarms") == m)
        let path = dir.path + "/index/" + manifest.catalog
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for open in [{ _ = try StoreWriter(path: dir.path, options: smallOptions()) }, { _ = try Snapshot.open(path: dir.path) }] {
            do {
                try open()
                Issue.record("damaged catalog accepted")
            } catch let e as StoreError {
                #expect(e.code == .corrupt && e.path == path && e.detail.contains("checksum"))
            }
        }
    }

    /// Rows of one identity written in several commits with different nulls: the last written
    /// wins whole (its nulls included), in one segment, across segments and after compaction.
    @Test func dedupeKeepsTheLastRowsNulls() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: Self.options([Self.alarms]))
        defer { w.close() }
        let m = try #require(w.catalog.measurement(named: "alarms"))
        let full = Row(vehicle: "v", time: july1, values: [.string("fire"), .int(1), .double(2), .string("n"), .bool(true), .strings(["a", "b"])])
        let sparse = Row(vehicle: "v", time: july1, values: [.string("fire"), .int(2), nil, nil, nil, nil])
        try w.append(Self.batch(m, [full, sparse, full]))  // one batch: the last (full) wins in the seal
        try w.commit()
        #expect(try Self.scan(w.snapshot(), m) == [full])
        try w.append(Self.batch(m, [sparse]))  // another segment: the merge picks the newer
        try w.commit()
        #expect(try Self.scan(w.snapshot(), m) == [sparse])
        try w.compact(compactOptions())
        #expect(try Self.scan(w.snapshot(), m) == [sparse])
        #expect(try w.snapshot().latestIndex().entry("v", measurement: m.id)?.value == .int(2))
    }

    /// A lost MANIFEST is rebuilt with the catalog: segments of declared measurements (and of
    /// one with a column added later) are admitted, and the latest index is rebuilt for them.
    @Test func manifestRebuildAdmitsDeclaredMeasurements() throws {
        let dir = TempDir()
        var rng = SplitMix64(state: 9)
        var w = try StoreWriter(path: dir.path, options: Self.options([Self.alarms]))
        let m1 = try #require(w.catalog.measurement(named: "alarms"))
        try w.append(Self.batch(m1, Self.randomRows(m1, count: 30, &rng)))
        try w.commit()
        w.close()
        let more = Measurement(id: 0, name: "alarms", columns: Self.alarms.columns + [ColumnSpec("zone", .int64, nullable: true)], latestColumn: 1)
        w = try StoreWriter(path: dir.path, options: Self.options([more]))
        let m2 = try #require(w.catalog.measurement(named: "alarms"))
        try w.append(Self.batch(m2, Self.randomRows(m2, count: 30, &rng)))
        try w.commit()
        let want = try Self.scan(w.snapshot(), m2)
        let latest = try w.snapshot().latestIndex()
        w.close()
        try FileManager.default.removeItem(atPath: dir.path + "/MANIFEST")
        var quiet = smallOptions()
        quiet.logger.logLevel = .critical
        let r = try #require(try StoreWriter.rebuildManifest(path: dir.path, options: quiet))
        #expect(r.quarantined.isEmpty && r.segments.count == 2)
        let snap = try Snapshot.open(path: dir.path)
        #expect(try Self.scan(snap, m2) == want)
        // Times agree; at a tie of two identities the rebuild takes the greater identity's value
        // (the footer's `last`), the live index the one appended last (FORMAT.md §4).
        #expect(try snap.latestIndex().entries(of: m2.id).mapValues(\.time) == latest.entries(of: m2.id).mapValues(\.time))
        #expect(try !snap.latestIndex().entries(of: m2.id).isEmpty)
    }

    /// A version 1 latest index file (status only, written by the previous release) reads as
    /// the status entries.
    @Test func latestIndexVersion1IsRead() throws {
        var w = ByteWriter(capacity: 64)
        w.writeUInt32(FormatConstants.latestMagic)
        w.writeUInt16(1)
        w.writeUInt16(0)
        w.writeVarint(1)
        w.writeString("v1")
        w.writeSignedVarint(7)
        w.writeVarint(3)
        w.writeString("parking")
        w.writeUInt32(CRC32C.checksum(w.bytes))
        let idx = try #require(LatestIndex.decode(w.bytes))
        #expect(idx.measurements.keys.sorted() == [Measurement.status.id])
        #expect(idx.entry("v1") == LatestEntry(time: 7, seq: 3, status: "parking"))
    }
}
