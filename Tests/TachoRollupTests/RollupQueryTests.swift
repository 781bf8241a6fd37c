import Testing
import TachoFaults
import TachoFormat
import TachoQuery
import TachoSchema
import TachoStore
import TachoTestSupport
@testable import TachoRollup

/// `AggregateQuery` with the declared rollups as tiers answers exactly what it answers from
/// the raw rows alone: random rows (late, re-delivered, replaced) in random commit groups,
/// then random aggregates — widths that are and are not multiples of a rollup's, groupings
/// and filters on and off the rollups' columns, unaligned and open ranges, `fill`.
@Suite struct RollupQueryTests {
    typealias P = RollupPropertyTests

    static func tiers(_ fx: P.Fixture, _ snap: Snapshot) -> [RollupTier] {
        fx.declaration.rollups.compactMap { $0.tier(of: "m", in: snap.catalog) }
    }

    static func randomQuery(_ rng: inout SplitMix64, _ m: Measurement, base: Int64) -> AggregateQuery {
        let minute: Int64 = 60_000_000
        let widths: [Int64] = [15, 30, 45, 60, 120, 1440, 2880, 7, 20].map { $0 * minute }
        let fns: [(AggregateFunction, String?)] = [
            (.count, nil), (.sum, "v"), (.min, "v"), (.max, "v"), (.avg, "v"), (.min, "f"), (.max, "f"), (.sum, "f"), (.avg, "f"),
            (.count, "f"),
        ]
        let (fn, field) = fns.randomElement(using: &rng) ?? (.count, nil)
        let groupings: [[String]] = [[], ["vehicle"], ["kind"], ["vehicle", "kind"], ["kind", "vehicle"]]
        var from: Int64 = .min, to: Int64 = .max
        if Int.random(in: 0..<4, using: &rng) != 0 {
            from = base - Int64.random(in: -600...3000, using: &rng) * minute + Int64.random(in: 0..<60, using: &rng) * 1_000_000
        }
        if Int.random(in: 0..<4, using: &rng) != 0 {
            to = max(from == .min ? base : from, base) + Int64.random(in: 1...1800, using: &rng) * minute + Int64.random(in: 0..<60, using: &rng) * 1_000_000
        }
        var filters: [ColumnFilter] = []
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: filters = [ColumnFilter("kind", .eq, ["car", "bike"].shuffled(using: &rng).prefix(Int.random(in: 1...2, using: &rng)).map { $0 })]
        case 1: filters = [ColumnFilter("kind", .ne, "bus")]
        case 2: filters = [ColumnFilter("v", .gt, "50")]  // not a grouping column: raw rows only
        default: break
        }
        let vehicles: Set<ByteString>? = Bool.random(using: &rng) ? nil : Set((0..<4).filter { _ in Bool.random(using: &rng) }.map { ByteString("veh\($0)") })
        let fill: FillMode = Int.random(in: 0..<5, using: &rng) == 0 && from != .min && to != .max ? .zero : .none
        return AggregateQuery(m, fn, field: field, every: widths.randomElement(using: &rng) ?? 15 * minute,
                              groupBy: groupings.randomElement(using: &rng) ?? [], vehicles: vehicles, from: from, to: to,
                              filters: filters, label: Bool.random(using: &rng) ? .left : .right, fill: fill)
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func rollupAnswersEqualRawAnswers(seed: UInt64) throws {
        let dir = TempDir("rollup-query")
        let fx = try P.Fixture(fs: FaultInjectingFileSystem())
        var rng = SplitMix64(seed: seed)
        let writer = try StoreWriter(path: dir.path, options: fx.options)
        let base: Int64 = 1_700_000_000_000_000
        var delivered: [[P.Row]] = []
        for step in 0..<12 {
            var rows = P.randomRows(&rng, count: Int.random(in: 1...400, using: &rng), base: base + Int64(step) * 3_600_000_000)
            if let old = delivered.randomElement(using: &rng), Bool.random(using: &rng) {
                rows += old.prefix(Int.random(in: 0...old.count, using: &rng)).map { r in
                    var c = r
                    if Bool.random(using: &rng) { c.v += 7; c.kind = "bike" }
                    return c
                }
            }
            rows.shuffle(using: &rng)
            let m = try #require(writer.catalog.measurement(named: "m"))
            try writer.append(P.batch(rows, m))
            try writer.commit()
            delivered.append(rows)
        }
        writer.close()
        let snap = try Snapshot.open(path: dir.path)
        let m = try #require(snap.catalog.measurement(named: "m"))
        let tiers = Self.tiers(fx, snap)
        #expect(tiers.count == 3)
        var fromRollup = 0
        for n in 0..<300 {
            let q = Self.randomQuery(&rng, m, base: base)
            var t = q
            t.rollups = tiers
            let raw = try q.answer(on: snap)
            let tiered = try t.answer(on: snap)
            #expect(raw.tiers.allSatisfy { $0.rollup == nil })
            if tiered.tiers.contains(where: { $0.rollup != nil }) { fromRollup += 1 }
            #expect(tiered.rows == raw.rows, "seed \(seed) query \(n): \(q) via \(tiered.tiers)")
            if tiered.rows != raw.rows { return }
        }
        // Most queries can read a rollup; the test is empty if none does.
        #expect(fromRollup > 60, "only \(fromRollup) of 300 queries read a rollup")
    }

    /// The tier plan: whole rollup windows from the rollup, partial edges from raw rows, the
    /// widest rollup that answers; float sums from raw rows while raw rows exist.
    @Test func tierPlanReadsWholeWindowsOfTheWidestRollup() throws {
        let dir = TempDir("rollup-plan")
        let fx = try P.Fixture(fs: FaultInjectingFileSystem())
        let writer = try StoreWriter(path: dir.path, options: fx.options)
        let m0 = try #require(writer.catalog.measurement(named: "m"))
        let day: Int64 = 86_400_000_000, minute: Int64 = 60_000_000
        let base: Int64 = 19_000 * day
        try writer.append(P.batch((0..<200).map { P.Row(vehicle: "veh\($0 % 3)", time: base + Int64($0) * 37 * minute, kind: $0 % 2 == 0 ? "car" : "bus", v: Int64($0), f: 1.5) }, m0))
        try writer.commit()
        writer.close()
        let snap = try Snapshot.open(path: dir.path)
        let m = try #require(snap.catalog.measurement(named: "m"))
        var q = AggregateQuery(m, .sum, field: "v", every: day, groupBy: ["kind"], from: base + 7 * minute, to: base + 4 * day + 5 * minute)
        q.rollups = Self.tiers(fx, snap)
        let a = try q.answer(on: snap)
        #expect(a.tiers.map(\.rollup) == [nil, "m:15m", nil])
        #expect(a.tiers.map(\.from) == [base + 7 * minute, base + 15 * minute, base + 4 * day])
        // Daily buckets by kind with a count: the 1d rollup (the widest) answers the whole days.
        var c = q
        c.function = .count
        c.field = nil
        c.from = base
        let b = try c.answer(on: snap)
        #expect(b.tiers.map(\.rollup) == ["m:1d", nil])
        #expect(b.tiers.first?.to == base + 4 * day)
        // A float sum: raw rows are all there, so the raw rows answer it all.
        var f = q
        f.field = "f"
        #expect(try f.answer(on: snap).tiers.map(\.rollup) == [nil])
        // A grouping the rollups lack, a width no rollup divides: raw rows.
        var g = q
        g.bucketWidth = 7 * minute
        #expect(try g.answer(on: snap).tiers.map(\.rollup) == [nil])
        var h = q
        h.filters = [ColumnFilter("v", .gt, "3")]
        #expect(try h.answer(on: snap).tiers.map(\.rollup) == [nil])
        let rawRows = try AggregateQuery(m, .sum, field: "v", every: day, groupBy: ["kind"], from: q.from, to: q.to).run(on: snap)
        #expect(a.rows == rawRows)
    }
}
