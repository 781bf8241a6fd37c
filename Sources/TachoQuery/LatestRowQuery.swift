import TachoFormat
import TachoStore

/// The newest row per vehicle of any measurement (e.g. the last location of every vehicle),
/// now or as of a time: the row with the greatest time ≤ `at`; among rows at that time, the
/// last in identity order. Rows older than the retention watermark are expired.
///
/// The footers find, per vehicle, the greatest chunk end ≤ `at` (a lower bound of the
/// answer); only the chunks overlapping [bound, at] are read, through `ScanCursor` so
/// duplicates resolve as everywhere else — normally the one newest chunk.
public struct LatestRowQuery: Sendable {
    public var measurement: Measurement
    /// nil: every vehicle with rows. Matched by bytes (`Identity`).
    public var vehicles: Set<ByteString>?
    /// nil: the newest row overall.
    public var at: Int64?

    public init(_ measurement: Measurement, vehicles: Set<ByteString>? = nil, at: Int64? = nil) {
        (self.measurement, self.vehicles, self.at) = (measurement, vehicles, at)
    }

    /// One row per vehicle that has one (as of `at`), ordered by vehicle id bytes.
    public func run(on snapshot: Snapshot) throws -> [Row] {
        try explain(on: snapshot).rows
    }

    /// The rows and how many stored chunks were decoded to find them (for tests).
    func explain(on snapshot: Snapshot) throws -> (rows: [Row], decodedChunks: Int) {
        let limit = at ?? .max
        let floor = snapshot.manifest.watermarks[measurement.id] ?? .min
        guard limit >= floor else { return ([], 0) }
        // Per vehicle: the greatest chunk end ≤ limit among chunks starting ≤ limit.
        var bound: [ByteString: Int64] = [:]
        let to = limit == .max ? Int64.max : limit + 1
        for s in snapshot.segments(of: measurement, from: floor, to: to) {
            for e in try snapshot.footer(s).vehicles {
                let key = ByteString(e.vehicle)
                if let want = vehicles, !want.contains(key) { continue }
                for c in e.chunks where c.minTime <= limit && c.maxTime >= floor {
                    let b = c.maxTime <= limit ? c.maxTime : Int64.min
                    bound[key] = max(bound[key] ?? .min, b)
                }
            }
        }
        var out: [Row] = []
        var decoded = 0
        for v in bound.keys.sorted() {
            let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(
                measurement, vehicles: [v], from: max(bound[v] ?? .min, floor), to: to))
            var best: Row?
            while let item = try cursor.nextItem() {
                if case .chunk = item { decoded += 1 }
                let b = try cursor.decode(item)
                guard let i = b.range.last else { continue }
                best = Row(vehicle: b.vehicle, time: b.chunk.times[i], cells: measurement.columns.indices.map {
                    ChunkCells.cell(b.chunk, column: $0, row: i)
                })
            }
            if let best { out.append(best) }
        }
        return (out, decoded)
    }
}
