// The simulated fleet: vehicle ids, per-vehicle random streams, and two time-ordered row
// streams (detection events, status reports). Every vehicle draws from its own PRNG streams,
// so the rows do not depend on file sizes, layouts, shuffling or duplication.

/// Object types: the five the sample files in Tests/Fixtures use, then three more. Weights make
/// cars the most frequent. The default profile draws from the first five (`weights`);
/// `--profile harder` from all eight, uniformly.
enum ObjectTypes {
    static let names = ["pedestrians", "cars", "signs", "trucks", "obstacles", "bicycles", "motorcycles", "animals"]
    static let weights: [UInt64] = [22, 40, 18, 12, 8]
    /// Per type, the chance that a count goes one higher (geometric-ish, 0…9, skewed small).
    static let growth: [Chance] = [Chance(0.55), Chance(0.65), Chance(0.50), Chance(0.40), Chance(0.35)]
}

enum Statuses {
    static let names = ["driving", "parking", "accident"]
}

/// One detection event: 1…5 detections of distinct object types, packed as bytes
/// `type << 4 | value` in `detections`, lowest byte first. Values above 9 (the harder
/// profile) are in `wide` instead, one per detection.
struct DetectionEvent {
    var time: Int64
    var vehicle: Int32
    var count: UInt8
    var flat: Bool
    var detections: UInt64
    var wide: [Int64]? = nil

    @inline(__always) func type(_ i: Int) -> Int { Int((detections >> (UInt64(i) * 8)) >> 4 & 0xF) }
    @inline(__always) func value(_ i: Int) -> Int { Int((detections >> (UInt64(i) * 8)) & 0xF) }
}

struct StatusReport {
    var time: Int64
    var vehicle: Int32
    var status: UInt8
}

struct Fleet {
    let ids: [String]

    init(vehicles: Int, seed: UInt64) {
        var rng = Xoshiro256(seed: seed, stream: 1)
        let oddSlot = rng.below(100)  // ~1% of ids get a non-hex first char (like `qbae3f…`)
        let hex = Array("0123456789abcdef".utf8)
        let odd = Array("ghijklmnopqrstuvwxyz".utf8)
        var seen = Set<String>()
        var ids: [String] = []
        ids.reserveCapacity(vehicles)
        for i in 0..<vehicles {
            while true {
                var chars = [UInt8](repeating: 0, count: 32)
                let a = rng.next(), b = rng.next()
                for k in 0..<16 {
                    chars[k] = hex[Int(a >> (UInt64(k) * 4) & 0xF)]
                    chars[16 + k] = hex[Int(b >> (UInt64(k) * 4) & 0xF)]
                }
                if UInt64(i % 100) == oddSlot { chars[0] = odd[Int(rng.below(UInt64(odd.count)))] }
                let id = String(decoding: chars, as: UTF8.self)
                if seen.insert(id).inserted { ids.append(id); break }
            }
        }
        self.ids = ids
    }
}

/// Detection events of all vehicles merged in time order (ties: lower vehicle index first).
/// Each vehicle emits one event every 0.5…5 s (uniform, millisecond resolution).
struct DetectionStream {
    private var rngs: [Xoshiro256]
    private var heapTime: [Int64]
    private var heapVehicle: [Int32]
    private var layout: Xoshiro256
    private let flatChance: Chance
    /// The harder profile's per-vehicle model, or nil for the default profile.
    private var harder: HarderModel?
    /// Exclusive end of simulated time; `Int64.max` means "until told to stop".
    let horizon: Int64

    init(vehicles: Int, seed: UInt64, start: Int64, horizon: Int64, flatShare: Double, profile: Profile = .standard) {
        rngs = (0..<vehicles).map { Xoshiro256(seed: seed, stream: 2, substream: UInt64($0)) }
        heapTime = []
        heapVehicle = []
        heapTime.reserveCapacity(vehicles)
        heapVehicle.reserveCapacity(vehicles)
        for v in 0..<vehicles {  // first event within the first 5 s, so vehicles are staggered
            heapTime.append(start + rngs[v].int(in: 0...4999))
            heapVehicle.append(Int32(v))
        }
        layout = Xoshiro256(seed: seed, stream: 4)
        flatChance = Chance(flatShare)
        self.horizon = horizon
        if profile == .harder { harder = HarderModel(vehicles: vehicles, seed: seed) }
        for i in stride(from: vehicles / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    mutating func next() -> DetectionEvent? {
        guard let time = heapTime.first, time < horizon else { return nil }
        let v = Int(heapVehicle[0])
        if let (event, nextTime) = harder?.draw(vehicle: v, time: time) {
            var e = event
            e.flat = layout.chance(flatChance)
            heapTime[0] = nextTime
            siftDown(0)
            return e
        }
        var packed: UInt64 = 0
        let count = Int(rngs[v].int(in: 1...5))
        var used: UInt8 = 0  // bit per type already chosen: types within an event are distinct
        var remaining: UInt64 = 100
        for i in 0..<count {
            var r = rngs[v].below(remaining)
            var t = 0
            while true {
                if used & (1 << t) == 0 {
                    if r < ObjectTypes.weights[t] { break }
                    r -= ObjectTypes.weights[t]
                }
                t += 1
            }
            used |= 1 << t
            remaining -= ObjectTypes.weights[t]
            var value: UInt64 = 0
            while value < 9, rngs[v].chance(ObjectTypes.growth[t]) { value += 1 }
            packed |= (UInt64(t) << 4 | value) << (UInt64(i) * 8)
        }
        let event = DetectionEvent(
            time: time, vehicle: Int32(v), count: UInt8(count), flat: layout.chance(flatChance), detections: packed)
        heapTime[0] = time + rngs[v].int(in: 500...5000)
        siftDown(0)
        return event
    }

    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        heapTime[a] < heapTime[b] || (heapTime[a] == heapTime[b] && heapVehicle[a] < heapVehicle[b])
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = heapTime.count
        while true {
            let l = 2 * i + 1
            if l >= n { return }
            var m = l
            if l + 1 < n, less(l + 1, l) { m = l + 1 }
            if !less(m, i) { return }
            heapTime.swapAt(i, m)
            heapVehicle.swapAt(i, m)
            i = m
        }
    }
}

/// Status reports: every vehicle reports once per `every` ms at its own phase, so rounds never
/// interleave and the stream is time ordered without a heap. Status is a sticky Markov chain:
/// mostly driving, sometimes parking, rarely an accident.
struct StatusStream {
    private var rngs: [Xoshiro256]
    private var current: [UInt8]
    private let order: [Int32]     // vehicles sorted by phase
    private let phase: [Int64]
    private let start: Int64
    private let every: Int64
    let horizon: Int64
    private var round: Int64 = 0
    private var position = 0

    /// Transition thresholds per current status, cumulative over [driving, parking, accident].
    private static let transitions: [[Double]] = [
        [0.970, 0.998, 1.0],  // driving: stays, parks, rarely crashes
        [0.070, 1.000, 1.0],  // parking: leaves sometimes
        [0.050, 0.250, 1.0],  // accident: sticky for a while, then towed (parking) or back driving
    ]

    init(vehicles: Int, seed: UInt64, start: Int64, every: Int64, horizon: Int64) {
        var rngs = (0..<vehicles).map { Xoshiro256(seed: seed, stream: 3, substream: UInt64($0)) }
        var phase: [Int64] = []
        var current: [UInt8] = []
        for v in 0..<vehicles {
            phase.append(Int64(rngs[v].below(UInt64(every))))
            current.append(rngs[v].unit() < 0.8 ? 0 : 1)
        }
        self.rngs = rngs
        self.phase = phase
        self.current = current
        order = (0..<Int32(vehicles)).sorted { (phase[Int($0)], $0) < (phase[Int($1)], $1) }
        self.start = start
        self.every = every
        self.horizon = horizon
    }

    mutating func next() -> StatusReport? {
        if order.isEmpty { return nil }
        if position == order.count { position = 0; round += 1 }
        let v = Int(order[position])
        let time = start + round * every + phase[v]
        guard time < horizon else { return nil }
        position += 1
        if round > 0 {
            let r = rngs[v].unit()
            let row = StatusStream.transitions[Int(current[v])]
            current[v] = r < row[0] ? 0 : (r < row[1] ? 1 : 2)
        }
        return StatusReport(time: time, vehicle: Int32(v), status: current[v])
    }
}
