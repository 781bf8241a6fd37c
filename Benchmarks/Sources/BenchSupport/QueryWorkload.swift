import TachoFormat
import TachoQuery
import TachoStore

/// The four query shapes of SEMANTICS §7, against one open snapshot, through TachoQuery:
/// latest status of one vehicle, one vehicle-hour of detections, a full decode scan of all
/// detections, and a 15-minute sum by vehicle and type over everything.
public final class QueryWorkload {
    public let store: String
    public let snapshot: Snapshot
    /// The vehicle the one-vehicle queries ask for (the middle one by id).
    public let vehicle: String
    /// The vehicle-hour: the second whole UTC hour of the data (the first when there is one).
    public let hourFrom: Int64
    public var hourTo: Int64 { hourFrom + 3_600_000_000 }
    /// Detection rows in the store (counted by the first full scan).
    public private(set) var detectionRows = 0

    public init(store: String) throws {
        self.store = store
        snapshot = try Snapshot.open(path: store)
        let vehicles = try snapshot.latestIndex().entries.keys.sorted().map(\.string)  // byte order
        var names = Set<String>()
        var lo = Int64.max, hi = Int64.min
        for s in snapshot.segments(of: .detections) {
            lo = min(lo, s.minTime)
            hi = max(hi, s.maxTime)
            for v in try snapshot.reader(s).footer.vehicles { names.insert(v.vehicle) }
        }
        guard !names.isEmpty else { throw Bench.fail("\(store): no detections") }
        let withDetections = vehicles.filter { names.contains($0) }
        let pool = withDetections.isEmpty ? names.sorted() : withDetections
        vehicle = pool[pool.count / 2]
        let hour: Int64 = 3_600_000_000
        let first = (lo / hour) * hour
        hourFrom = first + 2 * hour <= hi ? first + hour : first
        detectionRows = try fullScan().rows
    }

    /// Latest status of `vehicle` (1 when found).
    public func latest() throws -> Int {
        try LatestQuery.latest(of: vehicle, in: snapshot) == nil ? 0 : 1
    }

    /// Opens a fresh snapshot of the store and asks it for the latest status: what a CLI call pays.
    public func latestCold() throws -> Int {
        try LatestQuery.latest(of: vehicle, in: Snapshot.open(path: store)) == nil ? 0 : 1
    }

    /// Rows of `vehicle` in `[hourFrom, hourTo)`, with their values summed so nothing is skipped.
    public func vehicleHour() throws -> (rows: Int, sum: Int64) {
        try scan(RangeQuery.detections(vehicles: [ByteString(vehicle)], from: hourFrom, to: hourTo))
    }

    /// Every detection row, decoded (time, type id and value columns), values summed.
    public func fullScan() throws -> (rows: Int, sum: Int64) {
        try scan(RangeQuery.detections())
    }

    /// `agg detections --every 15m --fn sum --by vehicle,type` over everything: the number of groups.
    public func aggregate15m() throws -> Int {
        try AggregateQuery(.sum, every: 900_000_000, groupBy: ["vehicle", "type"]).run(on: snapshot).count
    }

    func scan(_ q: RangeQuery) throws -> (rows: Int, sum: Int64) {
        let cursor = try RowCursor(snapshot: snapshot, query: q)
        var rows = 0
        var sum: Int64 = 0
        while let b = try cursor.nextBatch() {
            rows += b.count
            let values = b.chunk.columns[1].ints
            let types = b.chunk.columns[0].ids
            switch b.selection {
            case .range(let r):
                for i in r { sum &+= values[i] &+ Int64(types[i]) }
            case .indexes(let a):
                for i in a { sum &+= values[i] &+ Int64(types[i]) }
            }
        }
        return (rows, sum)
    }
}
