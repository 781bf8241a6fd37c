// tacho-bench-rollups — the rollup benchmark of issue 14 (tools/bench-rollups runs it from a
// release build; not shipped, not a unit test). Two parts, each printing one JSON line:
//
//   tacho-bench-rollups query DIR [--vehicles 100] [--days 365] [--store-width]
//     writes a year of 15-minute detection rollups by object_type (count, sum, min, max of
//     value) for every vehicle — plus the daily rollup of the same rows — into a new store DIR
//     through StoreWriter (the rollup rows themselves: generating and maintaining a year of
//     raw rows would take hours and is not what is measured), one commit per day, compacts it
//     as `tacho compact` would (cold rewrites off: the layout is measured, not the zstd
//     level), then times in-process year-long
//     1-day aggregates (sum of value) for one vehicle and for the fleet, answered by the tier
//     `tacho agg` would pick (the 1d rollup) and by the 15m rollup alone, and reports the
//     rollups' bytes on disk per stored bucket (row). `--store-width` declares the rollups without
//     their own partition width (the store's one day, as stores written before widths).
//
//   tacho-bench-rollups ingest DIR [--vehicles 100] [--days 2] [--recompute]
//     ingest throughput of raw detections with the 15m and 1d rollups maintained at commit
//     against none (issue 14: the drop must stay under 15 %). Moved here from the test target.
//     `--recompute` also times the maintainer with merging off (every touched window
//     recomputed from the raw rows: the behaviour before merging), for a before/after.

import Foundation
import TachoFormat
import TachoQuery
import TachoRollup
import TachoSchema
import TachoStore

struct Failure: Error, CustomStringConvertible { let description: String }

struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

let day: Int64 = 86_400_000_000
let quarter: Int64 = 900_000_000
let start: Int64 = 19_723 * day  // 2024-01-01
let types = ["cars", "pedestrians", "signs", "trucks", "obstacles"]

func detections() throws -> MeasurementDeclaration {
    guard let d = DefaultDeclarations.declarations.first(where: { $0.name == "detections" }) else { throw Failure(description: "no built-in detections") }
    return d
}

func rollups(_ fns: [RollupDeclaration.Function]) throws -> [RollupDeclaration] {
    guard let q = Retention("15m"), let d = Retention("1d") else { throw Failure(description: "durations") }
    return [RollupDeclaration(every: q, by: ["object_type"], of: ["value"], fns: fns),
            RollupDeclaration(every: d, by: ["object_type"], of: ["value"], fns: fns)]
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

func argument(_ name: String, _ def: Int) -> Int {
    let a = CommandLine.arguments
    guard let i = a.firstIndex(of: name), i + 1 < a.count, let v = Int(a[i + 1]) else { return def }
    return v
}

func queryBench(_ dir: String) throws {
    let vehicles = argument("--vehicles", 100), days = argument("--days", 365)
    var decl = try detections()
    decl.rollups = try rollups([.count, .sum, .min, .max])
    var o = StoreOptions()
    o.logger.logLevel = .critical
    let storeWidth = CommandLine.arguments.contains("--store-width")
    o.measurements = [TachoFormat.Measurement.detections]
        + (try RollupMaintainer.measurements([decl])).map { storeWidth ? $0.withPartitionWidth(nil) : $0 }
    let w = try StoreWriter(path: dir, options: o)
    guard let q15 = w.catalog.measurement(named: decl.rollups[0].storedName(of: "detections")),
          let q1d = w.catalog.measurement(named: decl.rollups[1].storedName(of: "detections")) else { throw Failure(description: "rollups not in the catalog") }
    // Column order as the catalog has it.
    func cells(_ m: TachoFormat.Measurement, type: String, count: Int64, sum: Int64, min: Int64, max: Int64) -> [ColumnValue?] {
        m.columns.map { c -> ColumnValue? in
            switch c.name {
            case "object_type": .string(type)
            case "count": .int(count)
            case "value_sum": .int(sum)
            case "value_min": .int(min)
            case "value_max": .int(max)
            default: nil
            }
        }
    }
    var rng = SplitMix(state: 14)
    let clock = ContinuousClock()
    let t0 = clock.now
    var buckets15 = 0, buckets1d = 0
    for d in 0..<days {
        var b15 = RowBatch(q15, capacity: vehicles * 96 * types.count)
        var b1d = RowBatch(q1d, capacity: vehicles * types.count)
        let dayStart = start + Int64(d) * day
        for v in 0..<vehicles {
            let vehicle = String(format: "%032x", v * 7919 + 1)
            var daily = [(count: Int64, sum: Int64, min: Int64, max: Int64)](repeating: (0, 0, .max, .min), count: types.count)
            for k in 0..<96 {
                for (ti, t) in types.enumerated() {
                    let n = Int64(rng.below(6))
                    guard n > 0 else { continue }
                    let lo = Int64(rng.below(5)), hi = lo + Int64(rng.below(20))
                    let sum = lo + hi + (n - 2 > 0 ? (n - 2) * lo : 0)
                    b15.append(vehicle: vehicle, time: dayStart + Int64(k) * quarter, cells(q15, type: t, count: n, sum: sum, min: lo, max: hi))
                    buckets15 += 1
                    daily[ti].count += n
                    daily[ti].sum += sum
                    daily[ti].min = Swift.min(daily[ti].min, lo)
                    daily[ti].max = Swift.max(daily[ti].max, hi)
                }
            }
            for (ti, t) in types.enumerated() where daily[ti].count > 0 {
                let a = daily[ti]
                b1d.append(vehicle: vehicle, time: dayStart, cells(q1d, type: t, count: a.count, sum: a.sum, min: a.min, max: a.max))
                buckets1d += 1
            }
        }
        try w.append(b15)
        try w.append(b1d)
        _ = try w.commit()
    }
    let writeSeconds = seconds(clock.now - t0)
    var compaction = CompactionOptions()
    compaction.coldAfter = nil
    let t1 = clock.now
    _ = try w.compact(compaction)
    let compactSeconds = seconds(clock.now - t1)
    let snap = try w.snapshot()
    w.close()
    func segments(_ m: TachoFormat.Measurement) -> Int { snap.manifest.segments.filter { $0.measurementID == m.id }.count }
    func bytes(_ m: TachoFormat.Measurement) -> (UInt64, Int) {
        snap.manifest.segments.filter { $0.measurementID == m.id }.reduce((0, 0)) { ($0.0 + $1.fileSize, $0.1 + Int($1.rowCount)) }
    }
    let (bytes15, rows15) = bytes(q15), (bytes1d, rows1d) = bytes(q1d)
    guard let m = snap.catalog.measurement(named: "detections") else { throw Failure(description: "no detections") }
    let tiers = decl.rollups.compactMap { $0.tier(of: "detections", in: snap.catalog) }
    let one = Set([ByteString(String(format: "%032x", 1))])
    func time(_ name: String, tiers: [RollupTier], vehicles: Set<ByteString>?, by: [String]) throws -> [String: Any] {
        var q = AggregateQuery(m, .sum, field: "value", every: day, groupBy: by, vehicles: vehicles, from: start, to: start + Int64(days) * day)
        q.rollups = tiers
        var times: [Double] = []
        var rows = 0
        var tier = ""
        for _ in 0..<7 {
            let t = clock.now
            let a = try q.answer(on: snap)
            times.append(seconds(clock.now - t) * 1000)
            rows = a.rows.count
            tier = a.tiers.map { $0.rollup ?? "raw" }.joined(separator: "+")
        }
        times.sort()
        return ["query": name, "tier": tier, "rows": rows, "median_ms": times[times.count / 2], "min_ms": times[0]]
    }
    let results = [
        try time("one vehicle, 1d by type", tiers: tiers, vehicles: one, by: ["vehicle", "type"]),
        try time("fleet, 1d by type", tiers: tiers, vehicles: nil, by: ["type"]),
        try time("fleet, 1d by vehicle and type", tiers: tiers, vehicles: nil, by: ["vehicle", "type"]),
        try time("one vehicle, 1d by type, 15m rollup only", tiers: [tiers[0]], vehicles: one, by: ["vehicle", "type"]),
        try time("fleet, 1d by type, 15m rollup only", tiers: [tiers[0]], vehicles: nil, by: ["type"]),
    ]
    let out: [String: Any] = [
        "vehicles": vehicles, "days": days, "write_seconds": writeSeconds, "compact_seconds": compactSeconds,
        "rollup_15m": ["buckets": rows15, "bytes": bytes15, "bytes_per_bucket": Double(bytes15) / Double(max(1, rows15)),
                       "segments": segments(q15), "partition_width_us": snap.manifest.partitionWidth(of: q15)],
        "rollup_1d": ["buckets": rows1d, "bytes": bytes1d, "bytes_per_bucket": Double(bytes1d) / Double(max(1, rows1d)),
                      "segments": segments(q1d), "partition_width_us": snap.manifest.partitionWidth(of: q1d)],
        "queries": results,
    ]
    precondition(rows15 == buckets15 && rows1d == buckets1d)
    let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func ingestRun(_ dir: String, rollups on: Bool, incremental: Bool = true, vehicles: Int, days: Int, perCommit: Int) throws
    -> (seconds: Double, rows: Int, rollupRows: Int, stats: RollupMaintainer.Statistics)
{
    var d = try detections()
    d.rollups = try rollups([.count, .sum, .min, .max, .first, .last])
    var o = StoreOptions()
    o.logger.logLevel = .critical
    o.measurements = [TachoFormat.Measurement.detections] + (on ? try RollupMaintainer.measurements([d]) : [])
    let maintainer = RollupMaintainer(declarations: [d], incremental: incremental)
    if on { o.commitParticipant = maintainer }
    let w = try StoreWriter(path: dir, options: o)
    guard let m = w.catalog.measurement(named: "detections") else { throw Failure(description: "no detections") }
    var rng = SplitMix(state: 7)
    var rows = 0
    let clock = ContinuousClock()
    let t0 = clock.now
    // Files as a box writes them: a vehicle's detections of one hour (≈ one a minute).
    for hour in 0..<(days * 24) {
        var batch = RowBatch(m, capacity: perCommit)
        for v in 0..<vehicles {
            for k in 0..<60 {
                let t = start + Int64(hour) * 3_600_000_000 + Int64(k) * 60_000_000 + Int64(rng.below(59_000_000))
                batch.append(vehicle: "vehicle-\(v)", time: t, [.string(types[rng.below(5)]), .int(Int64(rng.below(101)))])
                rows += 1
            }
            if batch.count >= perCommit {
                try w.append(batch)
                _ = try w.commit()
                batch.removeAll()
            }
        }
        if !batch.isEmpty { try w.append(batch); _ = try w.commit() }
    }
    let elapsed = seconds(clock.now - t0)
    let snap = try w.snapshot()
    let rollupRows = snap.manifest.segments.filter { $0.measurementID != m.id }.reduce(0) { $0 + Int($1.rowCount) }
    w.close()
    return (elapsed, rows, rollupRows, maintainer.statistics)
}

func ingestBench(_ dir: String) throws {
    let vehicles = argument("--vehicles", 100), days = argument("--days", 2), perCommit = 6000
    var n = 0
    func fresh() -> String { n += 1; return "\(dir)/run\(n)" }
    _ = try ingestRun(fresh(), rollups: false, vehicles: 10, days: 1, perCommit: perCommit)  // warm up
    // Interleaved: off, on (, recompute), off, on (, recompute); the better of each.
    let recompute = CommandLine.arguments.contains("--recompute")
    var off: [Double] = [], on: [Double] = [], re: [Double] = []
    var rows = 0, rollupRows = 0
    var stats = RollupMaintainer.Statistics()
    for _ in 0..<2 {
        let a = try ingestRun(fresh(), rollups: false, vehicles: vehicles, days: days, perCommit: perCommit)
        let b = try ingestRun(fresh(), rollups: true, vehicles: vehicles, days: days, perCommit: perCommit)
        off.append(Double(a.rows) / a.seconds)
        on.append(Double(b.rows) / b.seconds)
        rows = a.rows
        rollupRows = b.rollupRows
        stats = b.stats
        if recompute {
            let c = try ingestRun(fresh(), rollups: true, incremental: false, vehicles: vehicles, days: days, perCommit: perCommit)
            re.append(Double(c.rows) / c.seconds)
        }
    }
    let rOff = off.max() ?? 0, rOn = on.max() ?? 0
    var out: [String: Any] = ["rows": rows, "vehicles": vehicles, "days": days, "rows_per_commit": perCommit,
                              "off_rows_per_s": off, "on_rows_per_s": on, "rollup_rows_stored": rollupRows,
                              "windows_merged": stats.merged, "windows_recomputed": stats.recomputed, "windows_read_from_store": stats.loaded,
                              "drop_percent": (1 - rOn / rOff) * 100]
    if recompute {
        out["recompute_rows_per_s"] = re
        out["recompute_drop_percent"] = (1 - (re.max() ?? 0) / rOff) * 100
    }
    let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

let args = CommandLine.arguments
guard args.count >= 3, ["query", "ingest"].contains(args[1]) else {
    FileHandle.standardError.write(Data("usage: tacho-bench-rollups query|ingest DIR [--vehicles N] [--days D]\n".utf8))
    exit(2)
}
do {
    if FileManager.default.fileExists(atPath: args[2]) {
        throw Failure(description: "\(args[2]) exists: give a new directory")
    }
    try FileManager.default.createDirectory(atPath: args[2], withIntermediateDirectories: true)
    if args[1] == "query" { try queryBench(args[2]) } else { try ingestBench(args[2]) }
} catch {
    FileHandle.standardError.write(Data("tacho-bench-rollups: \(error)\n".utf8))
    exit(1)
}
