import TachoFormat
import TachoStore

/// The latest status of a vehicle: its status row with the greatest time (SEMANTICS §2).
public typealias LatestRow = StatusRow

/// Latest status per vehicle, now or as of a time.
///
/// Without `at` the answer comes from the snapshot's latest-status index: one dictionary
/// lookup per vehicle. With `at` it is the status row with the greatest time ≤ `at`: when
/// the index entry is not after `at` it is the answer; otherwise the footers give a lower
/// bound (the greatest chunk end ≤ `at`) and only the chunks overlapping [bound, at] are
/// decoded, through `ScanCursor` so duplicates resolve as everywhere else.
///
/// Rows older than the measurement's retention watermark are expired and never returned.
public struct LatestQuery: Sendable {
    /// nil: every vehicle that has a status.
    /// Matched by bytes (`Identity`).
    public var vehicles: Set<ByteString>?
    /// nil: the latest status overall.
    public var at: Int64?

    public init(vehicles: Set<ByteString>? = nil, at: Int64? = nil) {
        self.vehicles = vehicles
        self.at = at
    }

    /// One row per vehicle that has a status (as of `at`), ordered by vehicle id bytes.
    public func run(on snapshot: Snapshot) throws -> [LatestRow] {
        let index = try snapshot.latestIndex()
        let names = (vehicles.map { Array($0) } ?? Array(index.entries.keys)).sorted().map(\.string)
        var out: [LatestRow] = []
        out.reserveCapacity(names.count)
        let floor = snapshot.manifest.watermarks[Measurement.status.id] ?? .min
        for v in names {
            if let r = try Self.latest(of: v, at: at, snapshot: snapshot, index: index, floor: floor) { out.append(r) }
        }
        return out
    }

    /// The latest status of one vehicle (as of `at`), or nil when it has none.
    public static func latest(of vehicle: String, at: Int64? = nil, in snapshot: Snapshot) throws -> LatestRow? {
        let floor = snapshot.manifest.watermarks[Measurement.status.id] ?? .min
        return try latest(of: vehicle, at: at, snapshot: snapshot, index: snapshot.latestIndex(), floor: floor)
    }

    private static func latest(of v: String, at: Int64?, snapshot: Snapshot, index: LatestIndex, floor: Int64) throws -> LatestRow? {
        let entry = index.entries[ByteString(v)]
        if let e = entry, e.time < floor { return nil }  // every status row of v is expired
        guard let at, at < (entry?.time ?? .min) else {
            return entry.map { LatestRow(vehicle: v, time: $0.time, status: $0.status) }
        }
        // Here `at` is before the newest row, so at + 1 cannot overflow.
        guard at >= floor else { return nil }
        var bound = Int64.min
        var any = false
        for s in snapshot.segments(of: .status, to: at + 1) {
            guard let e = try snapshot.footer(s).vehicle(v) else { continue }
            for c in e.chunks where c.minTime <= at {
                any = true
                if c.maxTime <= at { bound = max(bound, c.maxTime) }
            }
        }
        guard any else { return nil }
        let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(.status, vehicles: [ByteString(v)], from: bound, to: at + 1))
        var best: LatestRow?
        while let b = try cursor.next() {
            let i = b.range.upperBound - 1
            best = LatestRow(vehicle: v, time: b.chunk.times[i], status: b.chunk.columns[0].string(at: i))
        }
        return best
    }
}
