import Foundation
import Testing
import TachoFaults
import TachoFormat
import TachoSchema
import TachoStore
import TachoTestSupport
@testable import TachoRollup

/// Ingest throughput of raw detections with detections rollups (15m and 1d by
/// object_type) maintained at commit, against none. Runs when TACHO_BENCH_ROLLUPS=1 (it takes
/// a while); prints rows/s of both and the drop (issue 14's target: < 15 %).
@Suite struct RollupIngestBenchmark {
    static var enabled: Bool { ProcessInfo.processInfo.environment["TACHO_BENCH_ROLLUPS"] == "1" }

    static func run(rollups: Bool, vehicles: Int, days: Int, perCommit: Int) throws -> (seconds: Double, rows: Int, rollupRows: Int) {
        let dir = TempDir("rollup-bench")
        var d = try #require(DefaultDeclarations.declarations.first { $0.name == "detections" })
        let all: [RollupDeclaration.Function] = [.count, .sum, .min, .max, .first, .last]
        d.rollups = [
            RollupDeclaration(every: try #require(Retention("15m")), by: ["object_type"], of: ["value"], fns: all),
            RollupDeclaration(every: try #require(Retention("1d")), by: ["object_type"], of: ["value"], fns: all),
        ]
        var o = StoreOptions()
        o.logger.logLevel = .critical
        o.measurements = [Measurement.detections] + (rollups ? try RollupMaintainer.measurements([d]) : [])
        if rollups { o.commitParticipant = RollupMaintainer(declarations: [d]) }
        let w = try StoreWriter(path: dir.path, options: o)
        let m = try #require(w.catalog.measurement(named: "detections"))
        var rng = SplitMix64(seed: 7)
        let types = ["car", "bus", "truck", "bike", "person"]
        let start: Int64 = 1_700_006_400_000_000
        var rows = 0
        let clock = ContinuousClock()
        let t0 = clock.now
        // Files as a box writes them: a vehicle's detections of one hour (≈ one a minute).
        for hour in 0..<(days * 24) {
            var batch = RowBatch(m, capacity: perCommit)
            for v in 0..<vehicles {
                for k in 0..<60 {
                    let t = start + Int64(hour) * 3_600_000_000 + Int64(k) * 60_000_000 + Int64.random(in: 0..<59_000_000, using: &rng)
                    batch.append(vehicle: "vehicle-\(v)", time: t, [.string(types[Int.random(in: 0..<5, using: &rng)]), .int(Int64.random(in: 0...100, using: &rng))])
                    rows += 1
                }
                if batch.count >= perCommit {
                    try w.append(batch)
                    try w.commit()
                    batch.removeAll()
                }
            }
            if !batch.isEmpty { try w.append(batch); try w.commit() }
        }
        let elapsed = clock.now - t0
        let snap = try w.snapshot()
        let rollupRows = snap.manifest.segments.filter { $0.measurementID != m.id }.reduce(0) { $0 + $1.rowCount }
        w.close()
        let s = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (s, rows, rollupRows)
    }

    @Test(.enabled(if: RollupIngestBenchmark.enabled))
    func ingestThroughputWithAndWithoutRollups() throws {
        let vehicles = 100, days = 2, perCommit = 6000
        _ = try Self.run(rollups: false, vehicles: 10, days: 1, perCommit: perCommit)  // warm up
        let off = try Self.run(rollups: false, vehicles: vehicles, days: days, perCommit: perCommit)
        let on = try Self.run(rollups: true, vehicles: vehicles, days: days, perCommit: perCommit)
        let rOff = Double(off.rows) / off.seconds, rOn = Double(on.rows) / on.seconds
        print("bench-rollups: \(off.rows) detections, \(vehicles) vehicles × \(days) d, commits of \(perCommit) rows")
        print("bench-rollups: rollups off \(Int(rOff)) rows/s (\(off.seconds) s); on \(Int(rOn)) rows/s (\(on.seconds) s, \(on.rollupRows) rollup rows stored incl. replaced); drop \(String(format: "%.1f", (1 - rOn / rOff) * 100)) %")
    }
}
