import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

/// Queries over measurements other than detections and status, by name, against the model.
@Suite struct GenericQueryTests {
    /// Every measurement with 0–3 random `--where` filters, random ranges, vehicles and
    /// limits: the rows are the model's, and numeric footer stats skip chunks.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func filteredRowsMatchModel(seed: UInt64) throws {
        var f = try GenericFixture(seed: seed)
        var rng = SplitMix64(state: seed &* 131)
        var skips = 0
        for phase in 0..<2 {
            if phase == 1 { try f.setWatermark(f.randomTime(&rng)) }
            let snap = try f.snapshot()
            for m in GenericFixture.measurements {
                let all = f.rows(m)
                let c = try RowCursor(snapshot: snap, query: RangeQuery(m))
                var got: [Row] = []
                while let r = try c.nextRow() { got.append(r) }
                #expect(got == all)
                for _ in 0..<40 {
                    let a = Bool.random(using: &rng) ? Int64.min : f.randomTime(&rng)
                    let b = Bool.random(using: &rng) ? Int64.max : max(a, f.randomTime(&rng)) + Int64.random(in: 1...hour, using: &rng)
                    let vs = f.randomVehicles(&rng)
                    let filters = (0..<Int.random(in: 0...3, using: &rng)).map { _ in f.randomFilter(m, &rng) }
                    let limit: Int? = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 0...100, using: &rng) : nil
                    var want = all.filter { r in
                        r.time >= a && r.time < b && (vs?.contains(bytesOf: r.vehicle) ?? true)
                            && filters.allSatisfy { modelPasses($0, m, r) }
                    }
                    if let limit { want = Array(want.prefix(limit)) }
                    let cursor = try RowCursor(snapshot: snap, query: RangeQuery(m, vehicles: vs, from: a, to: b, filters: filters, limit: limit))
                    var rows: [Row] = []
                    while let blk = try cursor.nextBatch() { for i in 0..<blk.count { rows.append(blk.row(i)) } }
                    #expect(rows == want, "\(m) \(filters) [\(a), \(b)) \(String(describing: vs))")
                    skips += cursor.footerSkips
                }
                // v0 stands still: a speed filter rules out its stored chunks from the footer.
                if m.id == Measurement.locations.id {
                    let c = try RowCursor(snapshot: snap, query: RangeQuery(m, vehicles: ["v0"], filters: [ColumnFilter("speed_kmh", .gt, "0")]))
                    #expect(try c.nextRow() == nil)
                    skips += c.footerSkips
                }
            }
        }
        #expect(skips > 0)
    }

    /// The newest row per vehicle of every measurement, as of random times.
    @Test(arguments: [4, 5] as [UInt64])
    func latestRowMatchesModel(seed: UInt64) throws {
        var f = try GenericFixture(seed: seed)
        var rng = SplitMix64(state: seed &* 17)
        for phase in 0..<2 {
            if phase == 1 { try f.setWatermark(f.randomTime(&rng)) }
            let snap = try f.snapshot()
            for m in GenericFixture.measurements {
                let all = f.rows(m)
                var ats: [Int64?] = [nil, .min, .max]
                for _ in 0..<15 { ats.append(Bool.random(using: &rng) ? all.randomElement(using: &rng)?.time : f.randomTime(&rng)) }
                for at in ats {
                    let vs = f.randomVehicles(&rng)
                    var best: [ByteString: Row] = [:]
                    for r in all where r.time <= (at ?? .max) && (vs?.contains(bytesOf: r.vehicle) ?? true) {
                        best[ByteString(r.vehicle)] = r  // rows are in (vehicle, time, identity) order: the last wins
                    }
                    let want = best.sorted { $0.key < $1.key }.map(\.value)
                    #expect(try LatestRowQuery(m, vehicles: vs, at: at).run(on: snap) == want, "\(m) at \(String(describing: at))")
                }
            }
        }
    }

    /// One vehicle, many chunks in one segment: the newest row costs one chunk.
    @Test func latestRowReadsOnlyTheNewestChunk() throws {
        let dir = TempDir()
        var o = quiet()
        o.segment.chunkRows = 16
        let w = try StoreWriter(path: dir.path, options: o)
        var b = RowBatch(.locations)
        for i in 0..<1000 { b.append(vehicle: "imei-1", time: Int64(i) * second, [.double(48), .double(11), .double(Double(i)), .int(90)]) }
        try w.append(b)
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: o)
        let (rows, decoded) = try LatestRowQuery(.locations).explain(on: snap)
        #expect(rows == [Row(vehicle: "imei-1", time: 999 * second, cells: [.double(48), .double(11), .double(999), .int(90)])])
        #expect(decoded == 1)
        let (at, decodedAt) = try LatestRowQuery(.locations, at: 500 * second + 1).explain(on: snap)
        #expect(at.first?.time == 500 * second)
        #expect(decodedAt <= 2)
    }

    /// Chunks holding two object types each (undecidable from the footer), two of them a
    /// third: a filter on the third decodes the type column alone for the others.
    @Test func stringFiltersSkipChunksByTheirDictionary() throws {
        let dir = TempDir()
        var o = quiet()
        o.segment.chunkRows = 16
        let w = try StoreWriter(path: dir.path, options: o)
        var b = RowBatch(.detections)
        var want: [Row] = []
        for i in 0..<(50 * 16) {
            let ty = (i / 16 == 10 || i / 16 == 40) && i % 16 == 5 ? "signs" : (i % 2 == 0 ? "cars" : "trucks")
            b.append(vehicle: "v", time: Int64(i) * second, [.string(ty), .int(Int64(i))])
            if ty == "signs" { want.append(Row(vehicle: "v", time: Int64(i) * second, cells: [.string(ty), .int(Int64(i))])) }
        }
        try w.append(b)
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: o)
        let c = try RowCursor(snapshot: snap, query: RangeQuery(.detections, filters: [ColumnFilter("object_type", .eq, "signs")]))
        var got: [Row] = []
        while let r = try c.nextRow() { got.append(r) }
        #expect(got == want)
        #expect(c.footerSkips == 0)
        #expect(c.dictionarySkips == 48)
        // A filter most chunks pass stops probing after a few chunks.
        let cars = try RowCursor(snapshot: snap, query: RangeQuery(.detections, filters: [ColumnFilter("object_type", .ne, "signs")]))
        var n = 0
        while let blk = try cars.nextBatch() { n += blk.count }
        #expect(n == 50 * 16 - 2)
        #expect(cars.dictionarySkips == 0)
        #expect(cars.probes == 8 + 1)  // the first 8 chunks, then every 32nd (chunk 32 of 50)
    }

    @Test func namesAreResolvedWithClearErrors() throws {
        let snap = try GenericFixture(seed: 9).snapshot()
        #expect(try MeasurementLookup.named("locations", in: snap).id == 3)
        #expect(throws: QueryError.self) { try MeasurementLookup.named("locations") }  // not a built-in: declared
        do {
            _ = try MeasurementLookup.named("nope", in: snap)
            Issue.record("unknown measurement accepted")
        } catch let e as QueryError {
            #expect(e.code == .unknownMeasurement)
            #expect(e.message.contains("detections, status, locations, power"))
        }
        do {
            _ = try MeasurementLookup.column("speed", of: .locations)
            Issue.record("unknown column accepted")
        } catch let e as QueryError {
            #expect(e.code == .unknownColumn && e.message.contains("speed_kmh (float64)"))
        }
        #expect(try MeasurementLookup.column("type", of: .detections) == 0)
    }

    @Test func filtersParseAndCheckTypes() throws {
        #expect(try ColumnFilter.parse("severity>=2") == ColumnFilter("severity", .ge, "2"))
        #expect(try ColumnFilter.parse(" units != kWh ") == ColumnFilter("units", .ne, "kWh"))
        #expect(try ColumnFilter.parse("a<b") == ColumnFilter("a", .lt, "b"))
        #expect(try ColumnFilter.parse("a=x=y") == ColumnFilter("a", .eq, "x=y"))
        #expect(try ColumnFilter.parse("speed_kmh>-1.5") == ColumnFilter("speed_kmh", .gt, "-1.5"))
        for bad in ["severity", "=2", "a!b", ""] {
            #expect(throws: QueryError.self, "\(bad)") { try ColumnFilter.parse(bad) }
        }
        for (m, f) in [(Measurement.power, ColumnFilter("units", .lt, "kW")), (.power, ColumnFilter("value", .eq, "ten")),
                       (.locations, ColumnFilter("heading", .ne, ["1", "2"])), (.power, ColumnFilter("volts", .eq, "1"))] {
            #expect(throws: QueryError.self, "\(f)") { try RowPredicate([f], in: m) }
        }
    }
}
