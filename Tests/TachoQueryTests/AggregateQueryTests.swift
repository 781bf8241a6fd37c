import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

@Suite struct AggregateQueryTests {
    static let groupings: [[String]] = [[], ["vehicle"], ["type"], ["vehicle", "type"]]

    /// Reference floor division, written differently from the engine's.
    static func bucket(_ t: Int64, _ w: Int64) -> Int64 {
        (t >= 0 ? t / w : -((-t + w - 1) / w)) * w
    }

    /// The object types of a query's `object_type = …` filter (nil: none).
    static func types(_ q: AggregateQuery) -> Set<ByteString>? {
        q.filters.first { $0.column == "object_type" }.map { Set(bytesOf: $0.values) }
    }

    static func expected(_ rows: [DetectionRow], _ q: AggregateQuery) -> [AggregateRow] {
        struct Key: Hashable { var b: Int64; var v: ByteString?; var t: ByteString? }
        var groups: [Key: [Int64]] = [:]
        for r in rows where r.time >= q.from && r.time < q.to && (q.vehicles?.contains(bytesOf: r.vehicle) ?? true)
            && (types(q)?.contains(bytesOf: r.objectType) ?? true) {
            let k = Key(b: bucket(r.time, q.bucketWidth), v: q.groupBy.contains("vehicle") ? ByteString(r.vehicle) : nil,
                        t: q.groupBy.contains("type") ? ByteString(r.objectType) : nil)
            groups[k, default: []].append(r.value)
        }
        return groups.sorted { ($0.key.b, $0.key.v ?? "", $0.key.t ?? "") < ($1.key.b, $1.key.v ?? "", $1.key.t ?? "") }  // byte order
            .map { k, vals in
                let sum = vals.reduce(0, +)
                let value: AggregateValue = switch q.function {
                case .count: .int(Int64(vals.count))
                case .sum: .int(sum)
                case .min: .int(vals.min()!)
                case .max: .int(vals.max()!)
                case .avg: .double(Double(sum) / Double(vals.count))
                case .energy: .double(0)  // not asked of detections
                }
                return AggregateRow(bucket: k.b, vehicle: k.v?.string, groups: k.t.map { [$0.string] } ?? [], value: value)
            }
    }

    /// Every function and grouping with random widths, ranges (some on bucket edges, some
    /// empty), vehicle sets and type filters; with and without footer stats; again after a
    /// retention watermark.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func aggregatesMatchModel(seed: UInt64) throws {
        let widths: [Int64] = [second, 5 * second, 60 * second, 15 * 60 * second, hour, 86_400 * second,
                               7 * 86_400 * second, 1_234_567, AggregateQuery.bucketWidthRange.upperBound]
        try Fixture.twoPhases(seed: seed, negativeTimes: seed == 3, rngSeed: seed &* 7919) { f, snap, rng throws in
            let rows = f.model.detectionRows()
            for fn in AggregateFunction.allCases where fn != .energy {
                for g in Self.groupings {
                    for _ in 0..<2 {
                        let w = Bool.random(using: &rng)
                            ? widths.randomElement(using: &rng)!
                            : Int64.random(in: AggregateQuery.bucketWidthRange.lowerBound...(3 * hour), using: &rng)
                        var a = Int64.min, b = Int64.max
                        switch Int.random(in: 0..<4, using: &rng) {
                        case 0: break
                        case 1:  // bucket edges
                            a = Self.bucket(f.randomTime(&rng), w)
                            b = a + w * Int64.random(in: 1...5, using: &rng)
                        case 2:
                            a = f.randomTime(&rng)
                            b = a + Int64.random(in: 1...(2 * hour), using: &rng)
                        default:  // before any data: empty
                            a = f.base - 3 * hour
                            b = f.base - 2 * hour
                        }
                        let types: Set<ByteString>? = Bool.random(using: &rng)
                            ? nil : Set(bytesOf: Fixture.types.filter { _ in Bool.random(using: &rng) })
                        let q = AggregateQuery(.detections, fn, every: w, groupBy: g, vehicles: f.randomVehicles(&rng),
                                               from: a, to: b, filters: Self.typeFilter(types))
                        let want = Self.expected(rows, q)
                        #expect(try q.run(on: snap) == want, "\(fn) \(g) every \(w) [\(a), \(b))")
                        #expect(try q.run(on: snap, useFooterStats: false) == want)
                    }
                }
            }
        }
    }

    /// Day buckets let whole chunks be answered from footers; 1-second buckets force decoding.
    /// Both must agree with each other and the model, and the footer path must really run.
    @Test(arguments: [11, 12] as [UInt64])
    func footerFastPathAgreesWithDecoding(seed: UInt64) throws {
        let f = try Fixture(seed: seed)
        let snap = try f.snapshot()
        let rows = f.model.detectionRows()
        var used = 0
        for fn in AggregateFunction.allCases where fn != .energy {
            for g in Self.groupings {
                for types in [nil, ["cars"], ["cars", "signs"]] as [Set<ByteString>?] {
                    let day = AggregateQuery(.detections, fn, every: 86_400 * second, groupBy: g, filters: Self.typeFilter(types))
                    let fast = try day.explain(on: snap)
                    used += fast.footerChunks
                    let slow = try day.explain(on: snap, useFooterStats: false)
                    #expect(slow.footerChunks == 0)
                    #expect(fast.rows == slow.rows)
                    #expect(fast.rows == Self.expected(rows, day))
                    if types?.count == 1 {  // 1-second buckets: nearly every chunk is decoded
                        let sec = AggregateQuery(.detections, fn, every: second, groupBy: g, filters: Self.typeFilter(types))
                        #expect(try sec.run(on: snap) == Self.expected(rows, sec))
                    }
                }
            }
        }
        #expect(used > 0)
    }

    static func typeFilter(_ types: Set<ByteString>?) -> [ColumnFilter] {
        types.map { [ColumnFilter("object_type", .eq, $0.map(\.string).sorted())] } ?? []
    }

    @Test func sumIsExactAndOverflowIsAnError() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: quiet())
        var b = RowBatch(.detections)
        // Bucket 0: intermediate overflow that cancels out. Bucket 1: a sum beyond Int64.
        for (i, v) in [Int64.max, .max, -.max, -.max].enumerated() {
            b.append(vehicle: "a", time: Int64(i), [.string("t\(i)"), .int(v)])
        }
        b.append(vehicle: "a", time: 2 * second, [.string("x"), .int(.max)])
        b.append(vehicle: "a", time: 2 * second + 1, [.string("x"), .int(.max)])
        b.append(vehicle: "b", time: 10 * second, [.string("x"), .int(.max)])
        b.append(vehicle: "b", time: 10 * second + 1, [.string("x"), .int(.max)])
        try w.append(b)
        try w.commit()
        w.close()
        let snap = try Snapshot.open(path: dir.path)
        let q = AggregateQuery(.sum, every: second, vehicles: ["a"], from: 0, to: 2 * second)
        #expect(try q.run(on: snap) == [AggregateRow(bucket: 0, vehicle: nil, value: .int(0))])
        #expect(throws: QueryError.self) { try AggregateQuery(.sum, every: second, vehicles: ["a"]).run(on: snap) }
        let avg = try AggregateQuery(.avg, every: second, vehicles: ["a"], from: 2 * second).run(on: snap)
        #expect(avg == [AggregateRow(bucket: 2 * second, vehicle: nil, value: .double(Double(Int64.max)))])
        let mx = try AggregateQuery(.max, every: second, groupBy: ["type"], vehicles: ["a"]).run(on: snap)
        #expect(mx.map(\.value) == [.int(.max), .int(.max), .int(-.max), .int(-.max), .int(.max)])
        // Vehicle b's one chunk fits one bucket, but its footer sum overflowed: no fast path.
        let b10 = AggregateQuery(.sum, every: second, vehicles: ["b"])
        #expect(throws: QueryError.self) { try b10.run(on: snap) }
        let bAvg = try AggregateQuery(.avg, every: second, vehicles: ["b"]).run(on: snap)
        #expect(bAvg == [AggregateRow(bucket: 10 * second, vehicle: nil, value: .double(Double(Int64.max)))])
    }

    @Test func invalidAggregatesAreRefused() throws {
        let f = try Fixture(seed: 5)
        let snap = try f.snapshot()
        for w in [0, -1, 999_999, AggregateQuery.bucketWidthRange.upperBound + 1] as [Int64] {
            do {
                _ = try AggregateQuery(.count, every: w).run(on: snap)
                Issue.record("bucket width \(w) was accepted")
            } catch let e as QueryError {
                #expect(e.code == .bucketWidth)
            }
        }
        #expect(throws: QueryError.self) { try AggregateQuery(.count, every: second, from: 5, to: 5).run(on: snap) }
    }

    /// The integer group table agrees with a Dictionary through many resizes, negative
    /// buckets and the -1 "not grouped" vehicle/type included.
    @Test func groupTableMatchesDictionary() {
        var rng = SplitMix64(state: 99)
        var table = GroupTable()
        var ref: [[Int64]: Int] = [:]
        for _ in 0..<60_000 {
            let b = Int64.random(in: -3000...3000, using: &rng) * 1_000_000
            let v = Int32.random(in: -1...20, using: &rng), t = Int32.random(in: -1...4, using: &rng)
            let (i, isNew) = table.index(bucket: b, group: GroupTable.pack(vehicle: v, key: t))
            let key = [b, Int64(v), Int64(t)]
            if let j = ref[key] {
                #expect(!isNew && i == j)
            } else {
                #expect(isNew && i == ref.count)
                ref[key] = i
            }
        }
        #expect(table.count == ref.count)
    }
}
