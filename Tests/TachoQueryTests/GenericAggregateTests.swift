import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

/// Aggregates of any measurement (fields, string groupings, filters, labels, fills, energy)
/// against a model written independently of the engine.
@Suite struct GenericAggregateTests {
    /// The reference: groups of (window, vehicle?, strings) over the filtered rows, the
    /// function, then every window of the range for every group when filling.
    static func expected(_ all: [Row], _ m: Measurement, _ q: AggregateQuery) -> [AggregateRow] {
        let w = q.bucketWidth
        let byVehicle = q.groupBy.contains("vehicle")
        let cols = q.groupBy.filter { $0 != "vehicle" }.map { n in m.columns.firstIndex { $0.name == (n == "type" ? "object_type" : n) }! }
        let field = q.field.flatMap { n in m.columns.firstIndex { $0.name == n } }
            ?? m.columns.indices.first { m.columns[$0].type != .string }
        let units = m.columnIndex(named: "units")
        struct Key: Hashable { var v: ByteString?; var s: [ByteString] }
        var groups: [Int64: [Key: [Row]]] = [:]
        for r in all where r.time >= q.from && r.time < q.to && (q.vehicles?.contains(bytesOf: r.vehicle) ?? true)
            && q.filters.allSatisfy({ modelPasses($0, m, r) }) {
            let k = Key(v: byVehicle ? ByteString(r.vehicle) : nil, s: cols.map { c in
                if case .string(let s) = r.cells[c] { ByteString(s) } else { "" }
            })
            groups[AggregateQueryTests.bucket(r.time, w), default: [:]][k, default: []].append(r)
        }
        func value(_ rows: [Row]) -> AggregateValue {
            let ints = rows.compactMap { r -> Int64? in if case .int(let x) = r.cells[field!] { x } else { nil } }
            let dbls = rows.compactMap { r -> Double? in if case .double(let x) = r.cells[field!] { x } else { nil } }
            let isInt = !ints.isEmpty
            switch q.function {
            case .count: return .int(Int64(rows.count))
            case .sum: return isInt ? .int(ints.reduce(0, +)) : .double(dbls.reduce(0, +))
            case .min: return isInt ? .int(ints.min()!) : .double(dbls.min()!)
            case .max: return isInt ? .int(ints.max()!) : .double(dbls.max()!)
            case .avg: return .double(isInt ? Double(ints.reduce(0, +)) / Double(ints.count) : dbls.reduce(0, +) / Double(dbls.count))
            case .energy:
                var kw: [Double] = [], kwh = 0.0
                for r in rows {
                    guard case .double(let v) = r.cells[field!], case .string(let u) = r.cells[units!] else { continue }
                    if u == "kW" { kw.append(v) } else if u == "kWh" { kwh += v }
                }
                let hours = Double(w) / 3_600_000_000
                return .double((kw.isEmpty ? 0 : kw.reduce(0, +) / Double(kw.count) * hours) + kwh)
            }
        }
        let label: (Int64) -> Int64 = { q.label == .right ? $0 + w : $0 }
        func less(_ a: Key, _ b: Key) -> Bool {
            a.v != b.v ? (a.v ?? "") < (b.v ?? "") : a.s.lexicographicallyPrecedes(b.s)
        }
        func row(_ b: Int64, _ k: Key, _ v: AggregateValue) -> AggregateRow {
            AggregateRow(bucket: label(b), vehicle: k.v?.string, groups: k.s.map(\.string), value: v)
        }
        if q.fill == .none {
            return groups.keys.sorted().flatMap { b in groups[b]!.sorted { less($0.key, $1.key) }.map { row(b, $0.key, value($0.value)) } }
        }
        var keys = Set(groups.values.flatMap(\.keys))
        if !byVehicle && cols.isEmpty { keys.insert(Key(v: nil, s: [])) }
        let lo = q.from == .min ? groups.keys.min() : AggregateQueryTests.bucket(q.from, w)
        let hi = q.to == .max ? groups.keys.max() : AggregateQueryTests.bucket(q.to - 1, w)
        guard let lo, let hi else { return [] }
        let isInt = field.map { m.columns[$0].type == .int64 } ?? true
        let zero: AggregateValue = switch q.function {
        case .count: .int(0)
        case .sum, .min, .max: isInt ? .int(0) : .double(0)
        case .avg, .energy: .double(0)
        }
        var prev: [Key: AggregateValue] = [:]
        var out: [AggregateRow] = []
        var b = lo
        while b <= hi {
            for k in keys.sorted(by: less) {
                if let rows = groups[b]?[k] {
                    prev[k] = value(rows)
                    out.append(row(b, k, prev[k]!))
                } else {
                    out.append(row(b, k, q.fill == .zero ? zero : prev[k] ?? .null))
                }
            }
            b += w
        }
        return out
    }

    static let plans: [(Measurement, AggregateFunction, String?, [String])] = [
        (.locations, .count, nil, []), (.locations, .max, "speed_kmh", ["vehicle"]), (.locations, .avg, "speed_kmh", []),
        (.locations, .sum, "heading", ["vehicle"]), (.locations, .min, "heading", []), (.locations, .sum, "speed_kmh", []),
        (.power, .energy, nil, ["vehicle"]), (.power, .energy, nil, []), (.power, .sum, "value", ["units", "vehicle"]),
        (.power, .count, nil, ["units"]), (.detections, .sum, nil, ["type", "vehicle"]), (.detections, .avg, "value", ["object_type"]),
    ]

    @Test(arguments: [1, 2, 3] as [UInt64])
    func aggregatesMatchModel(seed: UInt64) throws {
        var f = try GenericFixture(seed: seed)
        var rng = SplitMix64(state: seed &* 7)
        var footer = 0
        for phase in 0..<2 {
            if phase == 1 { try f.setWatermark(f.randomTime(&rng)) }
            let snap = try f.snapshot()
            for (m, fn, field, by) in Self.plans {
                let all = f.rows(m)
                for _ in 0..<6 {
                    let w = [60 * second, 15 * 60 * second, hour, 86_400 * second, 7_777 * second].randomElement(using: &rng)!
                    var a = Int64.min, b = Int64.max
                    if Bool.random(using: &rng) {
                        a = f.randomTime(&rng)
                        b = a + Int64.random(in: 1...(3 * hour), using: &rng)
                    }
                    let filters = Int.random(in: 0..<3, using: &rng) == 0 ? [f.randomFilter(m, &rng)] : []
                    let q = AggregateQuery(m, fn, field: field, every: w, groupBy: by, vehicles: f.randomVehicles(&rng),
                                           from: a, to: b, filters: filters, label: BucketLabel.allCases.randomElement(using: &rng)!,
                                           fill: FillMode.allCases.randomElement(using: &rng)!)
                    let want = Self.expected(all, m, q)
                    let fast = try q.explain(on: snap)
                    footer += fast.footerChunks
                    #expect(fast.rows == want, "\(m) \(fn) \(by) \(q.fill) \(q.label) every \(w) [\(a), \(b)) \(filters)")
                    #expect(try q.run(on: snap, useFooterStats: false) == want)
                }
            }
        }
        #expect(footer > 0)
    }

    /// Energy by hand: three kW samples labelled with their window's right edge, a window
    /// mixing kW and kWh, a kWh-only window, and empty windows filled with 0.
    @Test func energyOfFifteenMinuteWindows() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quiet())
        let t0: Int64 = 1_735_700_400_000_000  // 2025-01-01T03:00:00Z
        let min: Int64 = 60 * second
        var b = RowBatch(.power)
        for (t, v, u) in [(60, 10.0, "kW"), (65, 20.0, "kW"), (70, 30.0, "kW"),  // 4:00-4:15: mean 20 kW → 5 kWh
                          (75, 8.0, "kW"), (80, 1.5, "kWh"), (85, 2.0, "kWh"),     // 4:15-4:30: 8 × 0.25 + 3.5 = 5.5
                          (120, 4.0, "kWh")] as [(Int64, Double, String)] {        // 5:00-5:15: 4
            b.append(vehicle: "ship-07", time: t0 + t * min, [.double(v), .string(u)])
        }
        b.append(vehicle: "ship-08", time: t0 + 60 * min, [.double(12), .string("kW")])  // 3 kWh in 4:00-4:15
        try w.append(b)
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: quiet())
        let q = AggregateQuery(.power, .energy, every: 15 * min, groupBy: ["vehicle"], from: t0 + 60 * min, to: t0 + 135 * min,
                               label: .right, fill: .zero)
        let got = try q.run(on: snap)
        let want: [(Int64, String, Double)] = [
            (75, "ship-07", 5), (75, "ship-08", 3), (90, "ship-07", 5.5), (90, "ship-08", 0), (105, "ship-07", 0), (105, "ship-08", 0),
            (120, "ship-07", 0), (120, "ship-08", 0), (135, "ship-07", 4), (135, "ship-08", 0),
        ]
        #expect(got == want.map { AggregateRow(bucket: t0 + $0.0 * min, vehicle: $0.1, value: .double($0.2)) })
        // Without --fill only windows with readings appear, labelled by their left edge.
        let sparse = try AggregateQuery(.power, .energy, every: 15 * min, groupBy: ["vehicle"]).run(on: snap)
        #expect(sparse.map(\.bucket) == [60, 60, 75, 120].map { t0 + $0 * min })
        // fill previous carries a group's last value; a group's windows before its first stay null.
        let prev = try AggregateQuery(.power, .energy, every: 15 * min, groupBy: ["vehicle"], from: t0 + 45 * min, to: t0 + 90 * min,
                                      fill: .previous).run(on: snap)
        #expect(prev.map(\.value) == [.null, .null, .double(5), .double(3), .double(5.5), .double(3)])
    }

    @Test func badAggregatesAreRefused() throws {
        let f = try GenericFixture(seed: 9)
        let snap = try f.snapshot()
        for q in [AggregateQuery(.locations, .sum, every: hour),                                  // which field?
                  AggregateQuery(.power, .sum, field: "units", every: hour),                     // not a number
                  AggregateQuery(.locations, .count, every: hour, groupBy: ["speed_kmh"]),      // not a string
                  AggregateQuery(.locations, .energy, field: "lat", every: hour),               // no units
                  AggregateQuery(.power, .count, every: second, from: 0, to: 1 << 62, fill: .zero)] {  // too many windows
            #expect(throws: QueryError.self) { try q.run(on: snap) }
        }
    }
}
