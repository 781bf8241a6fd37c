// Format: column codecs and segment building on 1 M in-memory detection rows (100 vehicles,
// an event per vehicle every 0.5–5 s, 1–5 detections per event, small counts), chunked the
// way the store chunks them (per vehicle, 8192 rows), and the bytes per row that result.
import Benchmark
import BenchSupport
import TachoFormat

let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
/// Bytes per row × 1000 (custom metrics are integers).
let milliBytesPerRow = BenchmarkMetric.custom("bytes/row ×1000", polarity: .prefersSmaller, useScalingFactor: false)

/// The rows plus, per column, every chunk pre-encoded (the decode benchmarks' input).
final class FormatInput: @unchecked Sendable {
    let rows: SyntheticDetections
    var encodedTimes: [[UInt8]] = []
    var encodedTypes: [[UInt8]] = []
    var encodedValues: [[UInt8]] = []
    var segment: [UInt8] = []

    init() throws {
        rows = SyntheticDetections(vehicles: 100, rowsPerVehicle: 10_000)
        var scratch = StringCodec.Scratch()
        rows.times.withUnsafeBufferPointer { times in
            rows.columns[0].ids.withUnsafeBufferPointer { ids in
                rows.columns[1].ints.withUnsafeBufferPointer { ints in
                    for c in rows.chunks {
                        var w = ByteWriter()
                        TimeCodec.encode(UnsafeBufferPointer(rebasing: times[c]), into: &w)
                        encodedTimes.append(w.bytes)
                        w = ByteWriter()
                        StringCodec.encode(UnsafeBufferPointer(rebasing: ids[c]), dictionary: rows.dictionary, scratch: &scratch, into: &w)
                        encodedTypes.append(w.bytes)
                        w = ByteWriter()
                        IntCodec.encode(UnsafeBufferPointer(rebasing: ints[c]), into: &w)
                        encodedValues.append(w.bytes)
                    }
                }
            }
        }
        segment = try buildSegment(rows)
    }

    var encodedBytes: (times: Int, types: Int, values: Int) {
        (encodedTimes.reduce(0) { $0 + $1.count }, encodedTypes.reduce(0) { $0 + $1.count },
         encodedValues.reduce(0) { $0 + $1.count })
    }
}

/// A whole segment of `rows` in memory (header, zstd blocks, footer, trailer).
func buildSegment(_ rows: SyntheticDetections) throws -> [UInt8] {
    var b = SegmentBuilder(measurement: .detections, partitionStart: 1_719_792_000_000_000, seq: 1)
    var out: [UInt8] = []
    out.reserveCapacity(4 << 20)
    for (i, v) in rows.vehicles.enumerated() {
        try b.appendVehicle(v, times: rows.times, columns: rows.columns, range: rows.vehicleRanges[i], dictionary: rows.dictionary)
        if b.pending.count >= 1 << 20 { out += b.takePending() }
    }
    _ = b.finish()
    out += b.takePending()
    return out
}

func measure(_ benchmark: Benchmark, rows: Int, _ body: () throws -> Void) rethrows {
    let t0 = nowNanos()
    try body()
    benchmark.measurement(rowsPerSecond, Int(Double(rows) / secondsSince(t0)))
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, rowsPerSecond],
        timeUnits: .milliseconds,
        warmupIterations: 2,
        maxDuration: .seconds(3),
        maxIterations: 50
    )

    // MARK: encode (raw column bytes, before zstd)

    Benchmark(
        "Format: TimeCodec encode 1M rows",
        configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [milliBytesPerRow])
    ) { benchmark, input in
        var w = ByteWriter(capacity: 1 << 16)
        var total = 0
        measure(benchmark, rows: input.rows.count) {
            input.rows.times.withUnsafeBufferPointer { times in
                for c in input.rows.chunks {
                    w.removeAll()
                    TimeCodec.encode(UnsafeBufferPointer(rebasing: times[c]), into: &w)
                    total += w.count
                }
            }
        }
        benchmark.measurement(milliBytesPerRow, total * 1000 / input.rows.count)
    } setup: { try FormatInput() }

    Benchmark(
        "Format: IntCodec encode 1M rows (value)",
        configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [milliBytesPerRow])
    ) { benchmark, input in
        var w = ByteWriter(capacity: 1 << 16)
        var total = 0
        measure(benchmark, rows: input.rows.count) {
            input.rows.columns[1].ints.withUnsafeBufferPointer { ints in
                for c in input.rows.chunks {
                    w.removeAll()
                    IntCodec.encode(UnsafeBufferPointer(rebasing: ints[c]), into: &w)
                    total += w.count
                }
            }
        }
        benchmark.measurement(milliBytesPerRow, total * 1000 / input.rows.count)
    } setup: { try FormatInput() }

    Benchmark(
        "Format: StringCodec encode 1M rows (object_type)",
        configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [milliBytesPerRow])
    ) { benchmark, input in
        var w = ByteWriter(capacity: 1 << 16)
        var scratch = StringCodec.Scratch()
        var total = 0
        measure(benchmark, rows: input.rows.count) {
            input.rows.columns[0].ids.withUnsafeBufferPointer { ids in
                for c in input.rows.chunks {
                    w.removeAll()
                    StringCodec.encode(UnsafeBufferPointer(rebasing: ids[c]), dictionary: input.rows.dictionary,
                                       scratch: &scratch, into: &w)
                    total += w.count
                }
            }
        }
        benchmark.measurement(milliBytesPerRow, total * 1000 / input.rows.count)
    } setup: { try FormatInput() }

    // MARK: decode (raw column bytes → values)

    Benchmark("Format: TimeCodec decode 1M rows") { benchmark, input in
        var out: [Int64] = []
        var n = 0
        measure(benchmark, rows: input.rows.count) {
            for (i, c) in input.rows.chunks.enumerated() {
                let ok = input.encodedTimes[i].withUnsafeBytes { TimeCodec.decode($0, expectedCount: c.count, into: &out) }
                precondition(ok)
                n += out.count
            }
        }
        blackHole(n)
    } setup: { try FormatInput() }

    Benchmark("Format: IntCodec decode 1M rows (value)") { benchmark, input in
        var out: [Int64] = []
        var n = 0
        measure(benchmark, rows: input.rows.count) {
            for (i, c) in input.rows.chunks.enumerated() {
                let ok = input.encodedValues[i].withUnsafeBytes { IntCodec.decode($0, count: c.count, into: &out) }
                precondition(ok)
                n += out.count
            }
        }
        blackHole(n)
    } setup: { try FormatInput() }

    Benchmark("Format: StringCodec decode 1M rows (object_type)") { benchmark, input in
        var out = DecodedColumn(type: .string)
        var n = 0
        measure(benchmark, rows: input.rows.count) {
            for (i, c) in input.rows.chunks.enumerated() {
                let ok = input.encodedTypes[i].withUnsafeBytes { StringCodec.decode($0, count: c.count, into: &out) }
                precondition(ok)
                n += out.ids.count
            }
        }
        blackHole(n)
    } setup: { try FormatInput() }

    // MARK: whole segments (codecs + zstd + CRC + footer)

    Benchmark(
        "Format: SegmentBuilder write 1M rows",
        configuration: .init(metrics: Benchmark.defaultConfiguration.metrics + [milliBytesPerRow, .peakMemoryResident])
    ) { benchmark, input in
        var size = 0
        try measure(benchmark, rows: input.rows.count) { size = try buildSegment(input.rows).count }
        benchmark.measurement(milliBytesPerRow, size * 1000 / input.rows.count)
    } setup: { try FormatInput() }

    Benchmark("Format: SegmentReader decode 1M rows (zstd + codecs)") { benchmark, input in
        var chunk = DecodedChunk(measurement: .detections)
        var n = 0
        try measure(benchmark, rows: input.rows.count) {
            let r = try SegmentReader(source: InMemorySegmentSource(input.segment), path: "memory")
            for v in r.footer.vehicles {
                for c in v.chunks {
                    try r.decode(c, into: &chunk)
                    n += chunk.count
                }
            }
        }
        precondition(n % input.rows.count == 0)
    } setup: { try FormatInput() }
}
