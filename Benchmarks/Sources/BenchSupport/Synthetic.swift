import TachoFormat

/// SplitMix64: small, fast, deterministic.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Detection rows generated in memory, laid out the way the store writes them: vehicles in
/// ascending id order, each vehicle's rows sorted by (time, object_type), columns as
/// `ColumnValues` with string ids into `dictionary`.
///
/// Model (like tools/gen): every vehicle has an event every 0.5–5 s (uniform, ms resolution)
/// with 1–5 detections of distinct object types (cars most frequent) and counts 0–9 skewed small.
public struct SyntheticDetections: Sendable {
    /// Sorted, so id order is name order.
    public static let typeNames = ["cars", "obstacles", "pedestrians", "signs", "trucks"]
    /// Relative frequency of each type in `typeNames` order.
    static let typeWeights = [40, 5, 25, 20, 10]

    public let vehicles: [String]
    /// Rows of each vehicle (parallel to `vehicles`).
    public let vehicleRanges: [Range<Int>]
    /// Every vehicle's rows split into store-sized chunks (`chunkRows`).
    public let chunks: [Range<Int>]
    public let times: [Int64]
    /// `[object_type ids, value]` following `Measurement.detections`.
    public let columns: [ColumnValues]
    public let dictionary: [String]
    public var count: Int { times.count }

    public init(vehicles nVehicles: Int = 100, rowsPerVehicle: Int = 10_000, chunkRows: Int = 8192, seed: UInt64 = 1) {
        var rng = SplitMix64(seed: seed)
        var ids: [String] = []
        for _ in 0..<nVehicles {
            var s = ""
            for _ in 0..<2 { let x = rng.next(); s += String(repeating: "0", count: 16 - String(x, radix: 16).count) + String(x, radix: 16) }
            ids.append(s)
        }
        ids.sort()
        var times: [Int64] = [], types: [UInt32] = [], values: [Int64] = []
        let total = nVehicles * rowsPerVehicle
        times.reserveCapacity(total)
        types.reserveCapacity(total)
        values.reserveCapacity(total)
        var ranges: [Range<Int>] = [], chunks: [Range<Int>] = []
        let start: Int64 = 1_719_792_000_000_000  // 2024-07-01T00:00:00Z in µs
        for _ in 0..<nVehicles {
            let lo = times.count
            var t = start + Int64(rng.next() % 5000) * 1000
            while times.count - lo < rowsPerVehicle {
                // 1–5 distinct types, weighted, then sorted (identity order within one time).
                let k = Int(rng.next() % 5) + 1
                var chosen: [Int] = []
                var weights = Self.typeWeights
                for _ in 0..<k {
                    var r = Int(rng.next() % UInt64(weights.reduce(0, +)))
                    var pick = 0
                    while r >= weights[pick] { r -= weights[pick]; pick += 1 }
                    chosen.append(pick)
                    weights[pick] = 0
                }
                chosen.sort()
                for c in chosen where times.count - lo < rowsPerVehicle {
                    times.append(t)
                    types.append(UInt32(c))
                    values.append(Int64(min(9, (rng.next() | (1 << 9)).trailingZeroBitCount)))
                }
                t += Int64(500 + rng.next() % 4501) * 1000
            }
            ranges.append(lo..<times.count)
            var c = lo
            while c < times.count {
                chunks.append(c..<min(c + chunkRows, times.count))
                c += chunkRows
            }
        }
        var typeCol = ColumnValues(type: .string)
        typeCol.ids = types
        var valueCol = ColumnValues(type: .int64)
        valueCol.ints = values
        self.vehicles = ids
        self.vehicleRanges = ranges
        self.chunks = chunks
        self.times = times
        self.columns = [typeCol, valueCol]
        self.dictionary = Self.typeNames
    }
}
