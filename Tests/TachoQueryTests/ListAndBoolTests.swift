import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

/// Alarms: a string-list column (files), a nullable bool (acknowledged) and a nullable int
/// (severity), read through `ChunkCells`; filters, latest row and aggregates against the model.
@Suite struct ListAndBoolTests {
    static let alarms = Measurement(id: 4, name: "alarms", columns: [
        ColumnSpec("alarm_type", .string, identity: true), ColumnSpec("severity", .int64, nullable: true),
        ColumnSpec("files", .stringList), ColumnSpec("acknowledged", .bool, nullable: true),
    ])

    @Test(arguments: [1, 2] as [UInt64])
    func alarmsMatchModel(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        let dir = TempDir()
        var o = quiet()
        o.measurements = [Self.alarms]
        o.segment.chunkRows = 16
        let w = try StoreWriter(path: dir.path, options: o)
        let m = try #require(w.catalog.measurement(named: "alarms"))
        var model: [GenericFixture.Key: Row] = [:]
        for _ in 0..<3 {
            var b = RowBatch(m)
            for _ in 0..<400 {
                let v = ["a", "b", "c"].randomElement(using: &rng)!
                let t = Int64.random(in: 0..<200, using: &rng) * second
                let ty = ["harsh_braking", "collision", "drowsy"].randomElement(using: &rng)!
                let sev: Int64? = Int.random(in: 0..<4, using: &rng) == 0 ? nil : Int64.random(in: 1...3, using: &rng)
                let files = (0..<Int.random(in: 0...2, using: &rng)).map { _ in ["front.mp4", "cabin.mp4", "rear.mp4"].randomElement(using: &rng)! }
                let ack: Bool? = Int.random(in: 0..<3, using: &rng) == 0 ? nil : Bool.random(using: &rng)
                b.append(vehicle: v, time: t, [.string(ty), sev.map { .int($0) }, .strings(files), ack.map { .bool($0) }])
                model[GenericFixture.Key(vehicle: ByteString(v), time: t, ident: [ByteString(ty)])] = Row(
                    vehicle: v, time: t, cells: [.string(ty), sev.map { .int($0) } ?? .null, .strings(files), ack.map { .bool($0) } ?? .null])
            }
            try w.append(b)
            try w.commit()
        }
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: o)
        let all = model.sorted { a, b in
            (a.key.vehicle, a.key.time) != (b.key.vehicle, b.key.time)
                ? (a.key.vehicle, a.key.time) < (b.key.vehicle, b.key.time) : a.key.ident.lexicographicallyPrecedes(b.key.ident)
        }.map(\.value)
        func rows(_ filters: [ColumnFilter]) throws -> [Row] {
            let c = try RowCursor(snapshot: snap, query: RangeQuery(m, filters: filters))
            var out: [Row] = []
            while let r = try c.nextRow() { out.append(r) }
            return out
        }
        #expect(try rows([]) == all)
        let cases: [[ColumnFilter]] = [
            [ColumnFilter("files", .eq, "cabin.mp4")], [ColumnFilter("files", .ne, "front.mp4")],
            [ColumnFilter("acknowledged", .eq, "true")], [ColumnFilter("acknowledged", .ne, "true")],
            [ColumnFilter("severity", .ge, "2")], [ColumnFilter("severity", .ne, "2"), ColumnFilter("alarm_type", .eq, "collision")],
        ]
        for f in cases {
            #expect(try rows(f) == all.filter { r in f.allSatisfy { modelPasses($0, m, r) } }, "\(f)")
        }
        // Nulls match no filter, != included.
        #expect(try rows([ColumnFilter("severity", .ne, "2")]).allSatisfy { $0.cells[1] != .null })
        var latest: [ByteString: Row] = [:]
        for r in all { latest[ByteString(r.vehicle)] = r }
        #expect(try LatestRowQuery(m).run(on: snap) == latest.sorted { $0.key < $1.key }.map(\.value))
        // count of severity counts rows with a value; max ignores nulls.
        let q = AggregateQuery(m, .max, field: "severity", every: 60 * second, groupBy: ["alarm_type"])
        #expect(try q.run(on: snap) == GenericAggregateTests.expected(all.filter { $0.cells[1] != .null }, m, q))
        #expect(try q.run(on: snap, useFooterStats: false) == q.run(on: snap))
    }

    /// A chunk inside one window whose field is null throughout: answered from the footer,
    /// it adds no group, as decoding it would not.
    @Test func allNullChunkAddsNoGroup() throws {
        let dir = TempDir()
        var o = quiet()
        o.measurements = [Self.alarms]
        let w = try StoreWriter(path: dir.path, options: o)
        let m = try #require(w.catalog.measurement(named: "alarms"))
        var b = RowBatch(m)
        for i in 0..<5 { b.append(vehicle: "a", time: Int64(i) * second, [.string("collision"), nil, .strings([]), nil]) }
        try w.append(b)
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: o)
        let q = AggregateQuery(m, .max, field: "severity", every: hour, groupBy: ["alarm_type"])
        let fast = try q.explain(on: snap)
        #expect(fast.footerChunks == 1 && fast.rows.isEmpty)
        #expect(try q.run(on: snap, useFooterStats: false).isEmpty)
        let count = AggregateQuery(m, .count, every: hour)
        #expect(try count.run(on: snap) == [AggregateRow(bucket: 0, vehicle: nil, value: .int(5))])
    }
}
