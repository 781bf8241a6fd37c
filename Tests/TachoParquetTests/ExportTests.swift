import Foundation
import Testing
import TachoExport
import TachoFormat
import TachoParquet
import TachoQuery
import TachoStore
import TachoTestSupport

/// `Exporter` on a store with every kind of column: each file read back by pyarrow and DuckDB
/// holds exactly the rows the query API gives for its measurement and partition, in order.
@Suite(.serialized) struct ExportTests {
    static let day: Int64 = 86_400_000_000
    static let t0: Int64 = 1_654_387_200_000_000  // 2022-06-05T00:00:00Z
    static let longVehicle = String(repeating: "v", count: 120) + "-128byte"  // 128 bytes
    static let vehicles = ["356938035643809", "é", "e\u{301}", "🚚 truck", longVehicle]

    static let alarms = Measurement(id: 4, name: "alarms", columns: [
        ColumnSpec("alarm_type", .string, identity: true), ColumnSpec("severity", .int64, nullable: true),
        ColumnSpec("files", .stringList), ColumnSpec("acknowledged", .bool, nullable: true),
        ColumnSpec("note", .string, nullable: true), ColumnSpec("clips", .stringList, nullable: true),
    ])

    /// A store of detections, status, locations, power and alarms over three days (three
    /// partitions), a re-delivered identity included (the newer row wins).
    static func makeStore(_ dir: String) throws {
        var o = StoreOptions()
        o.measurements = [.locations, .power, alarms]
        o.logger.logLevel = .error
        let w = try StoreWriter(path: dir, options: o)
        var rng = SplitMix64(seed: 42)
        let types = ["cars", "people", "bikes", "trucks", "ünïcode ✓"]
        let alarmsM = w.catalog.measurement(named: "alarms") ?? alarms
        for round in 0..<2 {
            var det = RowBatch(.detections), st = RowBatch(.status), loc = RowBatch(.locations)
            var pw = RowBatch(.power), al = RowBatch(alarmsM)
            for v in vehicles {
                for i in 0..<300 {
                    let t = t0 + Int64(i) * 997_000_123 + Int64(round) * 3  // ~3.5 days of rows
                    det.append(vehicle: v, time: t, [.string(types[i % types.count]), .int(Int64.random(in: -3...40, using: &rng))])
                    if i % 3 == 0 { st.append(vehicle: v, time: t, [.string(["on", "off", "idle é"][i % 3 == 0 ? (i / 3) % 3 : 0])]) }
                    loc.append(vehicle: v, time: t, [.double(48 + Double(i) / 1e5), .double(Double(Int.random(in: -1000...1000, using: &rng)) / 7),
                                                     .double([0, -0.0, 88.5, Double.leastNormalMagnitude / 4][i % 4]), .int(Int64(i % 360))])
                    if i % 5 == 0 { pw.append(vehicle: v, time: t, [.double(Double(i) * 0.1), .string(i % 2 == 0 ? "kW" : "kWh")]) }
                    if i % 7 == 0 {
                        let files = (0..<(i % 3)).map { "\(v)/clip-\($0).mp4" }
                        al.append(vehicle: v, time: t, [
                            .string(i % 2 == 0 ? "harsh_braking" : "drowsy"), i % 4 == 0 ? nil : .int(Int64(i % 5)),
                            .strings(files), i % 3 == 0 ? nil : .bool(i % 2 == 0),
                            i % 5 == 0 ? nil : .string(i % 2 == 0 ? "" : "note \(i) ✓"),
                            i % 6 == 0 ? nil : .strings(i % 4 == 0 ? [] : ["", "b"]),
                        ])
                    }
                }
            }
            for b in [det, st, loc, pw] { try w.append(b) }
            try w.append(al)
            try w.commit()
        }
        w.close()
    }

    static func canonical(_ r: Row) -> String {
        ([ParquetReadBack.string(r.vehicle), ParquetReadBack.time(r.time)] + r.cells.map { c in
            switch c {
            case .null: "N"
            case .int(let v): ParquetReadBack.int(v)
            case .double(let v): ParquetReadBack.double(v)
            case .string(let s): ParquetReadBack.string(s)
            case .bool(let b): ParquetReadBack.bool(b)
            case .strings(let l): ParquetReadBack.list(l)
            }
        }).joined(separator: "\t")
    }

    /// The query API's rows of `q`, grouped by partition start, in query order.
    static func expected(_ snap: Snapshot, _ q: RangeQuery) throws -> [Int64: [String]] {
        let cursor = try RowCursor(snapshot: snap, query: q)
        var out: [Int64: [String]] = [:]
        let w = snap.manifest.partitionWidth
        while let r = try cursor.nextRow() {
            let p = (r.time >= 0 ? r.time / w : (r.time - w + 1) / w) * w
            out[p, default: []].append(canonical(r))
        }
        return out
    }

    /// Every exported file, read by both engines, equals the query rows of its partition.
    static func expectFilesMatch(_ files: [ExportedFile], _ snap: Snapshot, _ request: ExportRequest) throws {
        var seen = 0
        for m in try request.measurements.map({ try $0.map { try MeasurementLookup.named($0, in: snap) } }) ?? MeasurementLookup.all(in: snap) {
            let want = try expected(snap, RangeQuery(m, vehicles: request.vehicles, from: request.from, to: request.to))
            let mine = files.filter { $0.measurement == m.name }
            #expect(Set(mine.map(\.partitionStart)) == Set(want.keys), "\(m.name): files for partitions with rows, and only those")
            for f in mine {
                seen += 1
                let rel = Exporter.relativePath(measurement: m.name, partitionStart: f.partitionStart, seq: f.seq, boxID: request.boxID)
                #expect(f.path == request.directory + "/" + rel)
                #expect(f.rows == want[f.partitionStart]?.count)
                for engine in ParquetReadBack.Engine.allCases {
                    let r = try ParquetReadBack.read([f.path], engine: engine)
                    let got = r.files.first?.rows ?? []
                    let exp = want[f.partitionStart] ?? []
                    #expect(got.count == exp.count, "\(engine) \(rel)")
                    if let i = (0..<min(got.count, exp.count)).first(where: { got[$0] != exp[$0] }) {
                        Issue.record("\(engine) \(rel): row \(i) is\n\(got[i])\nexpected\n\(exp[i])")
                    }
                    let statsOK = r.statisticsOK
                    #expect(statsOK, "\(engine) \(rel): \(r.statistics)")
                }
            }
        }
        #expect(seen == files.count)
    }

    @Test func everyMeasurementExportsAsTheQueryReadsIt() throws {
        let store = TempDir("export-store"), out = TempDir("export-out")
        try Self.makeStore(store.path)
        let snap = try Snapshot.open(path: store.path)
        #expect(MeasurementLookup.all(in: snap).count == 5)
        var request = ExportRequest(directory: out.path, boxID: "box-1")
        request.parquet.rowGroupRows = 333  // row groups end inside query blocks
        let files = try Exporter.run(request, on: snap)
        #expect(files.count == 5 * 4)  // rows on 4 days (2022-06-05 … 08)
        #expect(files.allSatisfy { $0.path.contains("/date=2022-06-0") && $0.path.hasSuffix(".parquet") })
        try Self.expectFilesMatch(files, snap, request)
    }

    @Test func vehicleAndTimeRangeSelectRows() throws {
        let store = TempDir("export-store"), out = TempDir("export-out")
        try Self.makeStore(store.path)
        let snap = try Snapshot.open(path: store.path)
        let request = ExportRequest(directory: out.path, boxID: "b", measurements: ["alarms", "detections"],
                                    vehicles: [ByteString(Self.longVehicle), ByteString("é")],
                                    from: Self.t0 + Self.day / 2, to: Self.t0 + 2 * Self.day + 5)
        let files = try Exporter.run(request, on: snap)
        #expect(Set(files.map(\.measurement)) == ["alarms", "detections"])
        try Self.expectFilesMatch(files, snap, request)
        let none = try Exporter.run(ExportRequest(directory: out.path + "/none", boxID: "b", vehicles: ["nobody"]), on: snap)
        #expect(none.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: out.path + "/none"))
    }

    /// The same store exports to the same bytes (a file's name and content are a function of
    /// the store), so a shipper can upload a file once.
    @Test func exportsAreDeterministic() throws {
        let store = TempDir("export-store"), a = TempDir("export-a"), b = TempDir("export-b")
        try Self.makeStore(store.path)
        let snap = try Snapshot.open(path: store.path)
        let fa = try Exporter.run(ExportRequest(directory: a.path, boxID: "x"), on: snap)
        let fb = try Exporter.run(ExportRequest(directory: b.path, boxID: "x"), on: snap)
        #expect(fa.count == fb.count && !fa.isEmpty)
        for (x, y) in zip(fa, fb) {
            #expect(x.path.dropFirst(a.path.count) == y.path.dropFirst(b.path.count))
            #expect(FileManager.default.contents(atPath: x.path) == FileManager.default.contents(atPath: y.path))
        }
    }

    @Test func aBoxIDMustBeAFileNamePart() throws {
        let store = TempDir("export-store")
        try Self.makeStore(store.path)
        let snap = try Snapshot.open(path: store.path)
        for bad in ["", "a/b", ".hidden", "-x", "sp ace", String(repeating: "b", count: 129)] {
            #expect(throws: ExportError.invalidBoxID(bad)) { try Exporter.run(ExportRequest(directory: store.path + "/x", boxID: bad), on: snap) }
        }
    }

    @Test func relativePathsFollowTheHiveLayout() {
        #expect(Exporter.relativePath(measurement: "locations", partitionStart: Self.t0, seq: 12, boxID: "box-7")
            == "locations/date=2022-06-05/box-7-20220605T000000Z-12.parquet")
        #expect(Exporter.relativePath(measurement: "status", partitionStart: -Self.day, seq: 1, boxID: "b")
            == "status/date=1969-12-31/b-19691231T000000Z-1.parquet")
    }
}
