// Parse: JSON bytes → tokens, and telemetry file → validated rows, on one generated 256 MiB
// object-detection file (read from the page cache, like the ingest path reads an inbox file).
import Benchmark
import BenchSupport
import TachoIngest
import TachoJSON
import TachoStore

let mbPerSecond = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)
let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)

struct ParseInput {
    let path: String
    let bytes: Int
    let rows: Int
}

func parseInput() throws -> ParseInput {
    let data = try DataSet.single256MiB()
    guard let path = data.objectFiles.first else { throw BenchError(message: "no objects file in \(data.directory)") }
    // Warm the page cache once.
    let src = try FileDescriptorSource(path: path)
    var buf = [UInt8](repeating: 0, count: 1 << 20)
    while try buf.withUnsafeMutableBytes({ try src.read(into: $0) }) > 0 {}
    return ParseInput(path: path, bytes: data.objectsBytes, rows: data.detectionRows)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(5),
        maxIterations: 8
    )

    Benchmark(
        "Parse: JSON tokenize 256 MiB file",
        configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [mbPerSecond])
    ) { benchmark, input in
        let t0 = nowNanos()
        let parser = try JSONParser(path: input.path)
        var tokens = 0
        while try parser.next() != .endOfDocument { tokens += 1 }
        let s = secondsSince(t0)
        benchmark.measurement(mbPerSecond, Int(Double(input.bytes) / s / 1e6))
        blackHole(tokens)
    } setup: {
        try parseInput()
    }

    Benchmark(
        "Parse: file → rows (TelemetryReader, counting sink) 256 MiB",
        configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [rowsPerSecond, mbPerSecond])
    ) { benchmark, input in
        let t0 = nowNanos()
        var rows = 0
        let report = try TelemetryReader().read(path: input.path) { (batch: RowBatch) in rows += batch.count }
        let s = secondsSince(t0)
        precondition(report.rows == rows && report.rejectCount == 0, "unexpected read: \(report.rows) rows, \(report.rejectCount) rejects")
        benchmark.measurement(rowsPerSecond, Int(Double(rows) / s))
        benchmark.measurement(mbPerSecond, Int(Double(input.bytes) / s / 1e6))
    } setup: {
        try parseInput()
    }
}
