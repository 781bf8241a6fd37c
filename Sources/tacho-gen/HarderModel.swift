// `--profile harder`: detection data shaped less like the default model and more like fleets
// the store did not grow up with, for measuring bytes per row on data that is not ours.
//
//  * every event is a uniformly random subset of 1…5 of all 8 object types (no favourite type);
//  * each vehicle has its own event period, uniform in 0.5…5 s, and every gap is that period
//    ± up to 20 % (uniform jitter, millisecond resolution);
//  * vehicles go offline: after any event, with chance 1/1500, the next one comes 1…20 minutes
//    later;
//  * values follow one of four per-vehicle styles: small counts (geometric, per-type rate,
//    0…50), a heavy tail (Pareto, α = 1.3, up to 10^6), a constant value per object type, or
//    uniform 0…1000.
//
// Every vehicle draws from its own streams (seed, 6, vehicle), so the rows are deterministic
// by seed and independent of files, layouts and shuffling, as in the default profile.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which detection model `DetectionStream` draws from.
enum Profile: String, CaseIterable, Sendable {
    /// The original model (Fleet.swift); its output never changes.
    case standard = "default"
    case harder
}

struct HarderModel {
    enum ValueStyle { case smallCounts, heavyTail, constant, uniform }

    private var rngs: [Xoshiro256]
    private let period: [Int64]
    private let style: [ValueStyle]
    /// Per vehicle, 8 entries: the constant (style .constant) or the growth chance (.smallCounts).
    private let perType: [[Int64]]
    private let growth: [[Chance]]
    private static let typeCount = 8
    private static let offline = Chance(1.0 / 1500)

    init(vehicles: Int, seed: UInt64) {
        var rngs = (0..<vehicles).map { Xoshiro256(seed: seed, stream: 6, substream: UInt64($0)) }
        var period: [Int64] = [], style: [ValueStyle] = [], perType: [[Int64]] = [], growth: [[Chance]] = []
        for v in 0..<vehicles {
            period.append(rngs[v].int(in: 500...5000))
            let s = rngs[v].below(100)
            style.append(s < 45 ? .smallCounts : s < 75 ? .heavyTail : s < 90 ? .constant : .uniform)
            perType.append((0..<Self.typeCount).map { _ in rngs[v].int(in: 0...20) })
            growth.append((0..<Self.typeCount).map { _ in Chance(0.3 + 0.45 * rngs[v].unit()) })
        }
        self.rngs = rngs
        self.period = period
        self.style = style
        self.perType = perType
        self.growth = growth
    }

    /// The event of vehicle `v` at `time` (layout not yet chosen) and the vehicle's next time.
    mutating func draw(vehicle v: Int, time: Int64) -> (DetectionEvent, Int64) {
        let count = Int(rngs[v].int(in: 1...5))
        // A uniform k-subset of the 8 types: a partial Fisher–Yates shuffle.
        var types: [Int] = Array(0..<Self.typeCount)
        for i in 0..<count { types.swapAt(i, i + Int(rngs[v].below(UInt64(Self.typeCount - i)))) }
        var packed: UInt64 = 0
        var wide: [Int64] = []
        wide.reserveCapacity(count)
        for i in 0..<count {
            let t = types[i]
            packed |= (UInt64(t) << 4) << (UInt64(i) * 8)
            wide.append(value(vehicle: v, type: t))
        }
        let p = period[v]
        var next = time + p + rngs[v].int(in: -(p / 5)...(p / 5))
        if rngs[v].chance(Self.offline) { next += rngs[v].int(in: 60_000...1_200_000) }
        let event = DetectionEvent(
            time: time, vehicle: Int32(v), count: UInt8(count), flat: false, detections: packed, wide: wide)
        return (event, next)
    }

    private mutating func value(vehicle v: Int, type t: Int) -> Int64 {
        switch style[v] {
        case .smallCounts:
            var x: Int64 = 0
            while x < 50, rngs[v].chance(growth[v][t]) { x += 1 }
            return x
        case .heavyTail:
            let u = 1 - rngs[v].unit()  // (0, 1]
            return Int64(min(1_000_000, pow(u, -1 / 1.3))) - 1
        case .constant:
            return perType[v][t]
        case .uniform:
            return rngs[v].int(in: 0...1000)
        }
    }
}
