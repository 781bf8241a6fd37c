// tacho-query-probe --store DIR [--runs N]
// Times the SEMANTICS §7 queries in-process against an existing store and prints one JSON object
// (medians and p90 over N runs after one warm-up, in milliseconds). Used by tools/bench.
import BenchSupport
import TachoQuery
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

var store: String?
var runs = 50
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--store": store = args.popFirst()
    case "--runs": runs = args.popFirst().flatMap { Int($0) } ?? runs
    case "-h", "--help":
        print("usage: tacho-query-probe --store DIR [--runs N]")
        exit(0)
    default:
        eprint("tacho-query-probe: unknown argument \(a)\n")
        exit(2)
    }
}
guard let store, runs > 0 else {
    eprint("usage: tacho-query-probe --store DIR [--runs N]\n")
    exit(2)
}

func time(_ n: Int, _ body: () throws -> Void) rethrows -> Summary {
    try body()  // warm-up
    var s: [Double] = []
    s.reserveCapacity(n)
    for _ in 0..<n {
        let t0 = nowNanos()
        try body()
        s.append(secondsSince(t0) * 1000)
    }
    return Summary(s)
}

func fmt(_ x: Double) -> String {
    let v = (x * 10_000).rounded() / 10_000
    return "\(v)"
}

do {
    let t0 = nowNanos()
    let w = try QueryWorkload(store: store)
    let setupMs = secondsSince(t0) * 1000
    var sink = 0
    let latest = try time(max(runs, 200)) { sink &+= try w.latest() }
    let latestCold = try time(runs) { sink &+= try w.latestCold() }
    var hourRows = 0
    let hour = try time(runs) { let r = try w.vehicleHour(); hourRows = r.rows; sink &+= Int(truncatingIfNeeded: r.sum) }
    var scanRows = 0
    let scan = try time(max(5, runs / 5)) { let r = try w.fullScan(); scanRows = r.rows; sink &+= Int(truncatingIfNeeded: r.sum) }
    var groups = 0
    let agg = try time(max(5, runs / 5)) { groups = try w.aggregate15m() }
    let stats = try StoreStats.compute(on: w.snapshot)
    let det = stats.measurements.first { $0.name == "detections" }
    var fields: [(String, String)] = [
        ("runs", "\(runs)"),
        ("vehicle", "\"\(w.vehicle)\""),
        ("setup_ms", fmt(setupMs)),  // open + pick vehicle/hour + one full scan (counts rows)
        ("latest_ms", fmt(latest.median)), ("latest_us", fmt(latest.median * 1000)), ("latest_p90_us", fmt(latest.p90 * 1000)),
        ("latest_cold_ms", fmt(latestCold.median)),
        ("vehicle_hour_ms", fmt(hour.median)), ("vehicle_hour_p90_ms", fmt(hour.p90)), ("vehicle_hour_rows", "\(hourRows)"),
        ("full_scan_ms", fmt(scan.median)), ("full_scan_rows", "\(scanRows)"),
        ("full_scan_rows_per_s", "\(Int(Double(scanRows) / (scan.median / 1000)))"),
        ("agg15m_ms", fmt(agg.median)), ("agg15m_p90_ms", fmt(agg.p90)), ("agg15m_groups", "\(groups)"),
    ]
    if let det {
        fields.append(("detection_segment_bytes", "\(det.segmentBytes)"))
        fields.append(("detection_bytes_per_row", fmt(det.bytesPerRow)))
    }
    fields.append(("checksum", "\(sink & 0xFFFF)"))
    print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
} catch {
    eprint("tacho-query-probe: \(error)\n")
    exit(1)
}

func eprint(_ s: String) {
    var bytes = Array(s.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
