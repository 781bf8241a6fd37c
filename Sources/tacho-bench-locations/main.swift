// tacho-bench-locations STORE FILE… — writes the rows of locations JSON files (docs/SEMANTICS.md
// §1: {"locations": [{"imei", "time", "lat", "lon", "speed_kmh", "heading"}, …]}) into the
// store STORE through StoreWriter, as the measurement `locations` (the columns of its built-in
// declaration), and prints the number of rows. For tools/bench-locations while `tacho ingest`
// does not yet route locations files to their declared measurement; not shipped. Foundation's
// JSONSerialization is fine here: this is no ingest path.

import Foundation
import TachoFormat
import TachoStore

struct Failure: Error, CustomStringConvertible {
    let description: String
}

/// `YYYY-MM-DDTHH:MM:SS[.fff…]Z` as µs since the epoch.
func parseTime(_ s: String) -> Int64? {
    let b = Array(s.utf8)
    guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b.last == 0x5A else { return nil }
    func num(_ r: Range<Int>) -> Int64? {
        var v: Int64 = 0
        for i in r {
            guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
            v = v * 10 + Int64(b[i] - 0x30)
        }
        return v
    }
    guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13), let mi = num(14..<16),
          let sec = num(17..<19) else { return nil }
    var micros: Int64 = 0
    if b[19] == 0x2E {
        let digits = b.count - 21
        guard digits >= 1, digits <= 6, let f = num(20..<(b.count - 1)) else { return nil }
        micros = f
        for _ in digits..<6 { micros *= 10 }
    } else if b.count != 20 {
        return nil
    }
    // Days from civil (H. Hinnant).
    let yy = mo <= 2 ? y - 1 : y
    let era = (yy >= 0 ? yy : yy - 399) / 400
    let yoe = yy - era * 400
    let doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    return ((days * 24 + h) * 60 + mi) * 60_000_000 + sec * 1_000_000 + micros
}

func number(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }

func run() throws {
    let args = CommandLine.arguments.dropFirst()
    guard let store = args.first, args.count >= 2 else {
        throw Failure(description: "usage: tacho-bench-locations STORE FILE…")
    }
    let declared = Measurement(id: 3, name: "locations", columns: [
        ColumnSpec("lat", .float64), ColumnSpec("lon", .float64),
        ColumnSpec("speed_kmh", .float64), ColumnSpec("heading", .float64),
    ])
    var options = StoreOptions()
    options.measurements = [declared]
    let writer = try StoreWriter(path: store, options: options)
    defer { writer.close() }
    guard let m = writer.catalog.measurements.first(where: { $0.name == "locations" }) else {
        throw Failure(description: "\(store): the catalog has no locations measurement")
    }
    var rows = 0
    for file in args.dropFirst() {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        guard let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let records = doc["locations"] as? [[String: Any]] else {
            throw Failure(description: "\(file): no \"locations\" array")
        }
        var batch = RowBatch(m, capacity: records.count)
        for (i, r) in records.enumerated() {
            guard let imei = r["imei"] as? String, let t = (r["time"] as? String).flatMap(parseTime),
                  let lat = number(r["lat"]), let lon = number(r["lon"]), let speed = number(r["speed_kmh"]),
                  let heading = number(r["heading"]) else {
                throw Failure(description: "\(file): record \(i): expected imei, time, lat, lon, speed_kmh, heading")
            }
            batch.append(vehicle: imei, time: t, [.double(lat), .double(lon), .double(speed), .double(heading)])
        }
        rows += batch.count
        try writer.append(batch)
    }
    _ = try writer.commit()
    print(rows)
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("tacho-bench-locations: \(error)\n".utf8))
    exit(1)
}
