// Query: SEMANTICS §7's query shapes, in-process through TachoQuery, against a store ingested from
// the standard generated set (100 vehicles × 3 h, ≈ 1.18 M detection rows; cached), in two
// shapes: one commit per file (as `tacho ingest` leaves it) and one commit for everything
// (about what compaction makes of it).
// DuckDB reference on the same shape of data: latest 1.7 ms, vehicle-hour 9.6 ms, 15-min agg 37 ms.
// Targets: latest < 0.1 ms, vehicle-hour < 5 ms, 15-min agg < 37 ms, full scan ≥ 50 M rows/s/core.
import Benchmark
import BenchSupport

let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    for shape in StoreShape.allCases {
        let tag = " [\(shape.rawValue)]"
        let workload: @Sendable () throws -> QueryWorkload = { try QueryWorkload(store: StoreFixture.standard(shape)) }

        Benchmark(
            "Query: latest status, one vehicle (open snapshot)" + tag,
            configuration: .init(timeUnits: .nanoseconds, scalingFactor: .kilo)
        ) { benchmark, w in
            for _ in benchmark.scaledIterations { blackHole(try w.latest()) }
        } setup: { try workload() }

        Benchmark("Query: latest status, one vehicle (fresh snapshot)" + tag) { _, w in
            blackHole(try w.latestCold())
        } setup: { try workload() }

        Benchmark("Query: one vehicle-hour of detections" + tag) { _, w in
            blackHole(try w.vehicleHour())
        } setup: { try workload() }

        Benchmark(
            "Query: full decode scan of all detections" + tag,
            configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [rowsPerSecond], maxIterations: 30)
        ) { benchmark, w in
            let t0 = nowNanos()
            let r = try w.fullScan()
            benchmark.measurement(rowsPerSecond, Int(Double(r.rows) / secondsSince(t0)))
        } setup: { try workload() }

        Benchmark(
            "Query: 15-minute sum by vehicle and type, everything" + tag,
            configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [rowsPerSecond], maxIterations: 30)
        ) { benchmark, w in
            let t0 = nowNanos()
            blackHole(try w.aggregate15m())
            benchmark.measurement(rowsPerSecond, Int(Double(w.detectionRows) / secondsSince(t0)))
        } setup: { try workload() }
    }
}
