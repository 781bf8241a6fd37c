import Foundation
import TachoTestSupport
import Logging
import TachoFormat
import TachoIngest
import TachoStore

let fixtures = fixturesDirectory


func quietOptions() -> StoreOptions {
    var o = StoreOptions()
    o.logger.logLevel = .critical
    return o
}

func quietLogger() -> Logger {
    var l = Logger(label: "test")
    l.logLevel = .critical
    return l
}

struct Row: Hashable, Comparable, CustomStringConvertible {
    var vehicle: String
    var time: Int64
    var label: String
    var value: Int64
    static func < (a: Row, b: Row) -> Bool { (a.vehicle, a.time, a.label) < (b.vehicle, b.time, b.label) }
    var description: String { "\(vehicle) \(time) \(label) \(value)" }
}

/// Every row of a measurement, in scan order.
func allRows(_ store: String, _ m: TachoFormat.Measurement) throws -> [Row] {
    let snap = try Snapshot.open(path: store, options: quietOptions())
    let c = try ScanCursor(snapshot: snap, spec: ScanSpec(m))
    var out: [Row] = []
    while let b = try c.next() {
        for i in b.range {
            out.append(Row(vehicle: b.vehicle, time: b.chunk.times[i], label: b.chunk.columns[0].string(at: i),
                           value: m.columns.count > 1 ? b.chunk.columns[1].ints[i] : 0))
        }
    }
    return out
}

/// Ingests `paths` one commit per file into the store at `store`.
@discardableResult
func ingest(_ store: String, _ paths: [String], lenient: Bool = false) throws -> [IngestResult] {
    let w = try StoreWriter(path: store, options: quietOptions())
    defer { w.close() }
    let ing = Ingestor(writer: w, options: ReaderOptions(lenient: lenient), logger: quietLogger())
    return try paths.map { try ing.ingest(path: $0) }
}
