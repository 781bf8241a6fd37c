// Power documents: one per vehicle per hour, the fleet-power REST service's shape, keys in any
// order (docs/SEMANTICS.md §1).

import TachoTime

struct PowerGenerator {
    let fleet: ExtraFleet
    let seed: UInt64
    let start: Int64, end: Int64
    let gapShare: Double, badShare: Double

    /// Samples every 5 minutes while the vehicle is online. `kW` for two vehicles in three,
    /// else `kWh` (energy of the 5-minute interval). A bad sample is negative, not a number or
    /// carries a bad timestamp; a bad document (a quarter of `badShare`) has units `MW` or
    /// lacks `spaceship_id` or `units`, and is rejected whole.
    func run(_ emitter: inout ExtraEmitter) throws -> ExtraStats {
        var stats = ExtraStats()
        var gaps = GapModel(devices: fleet.ships.count, seed: seed, share: gapShare)
        var rngs = fleet.ships.indices.map { Xoshiro256(seed: seed, stream: ExtraStream.power, substream: UInt64($0)) }
        var late = ShareDial(share: emitter.lateShare, phase: emitter.rng.unit())
        let badSample = Chance(badShare), badDocument = Chance(badShare / 4)
        var level = rngs.indices.map { rngs[$0].int(in: 50...1200) }  // kW × 10
        var hour = CivilDate.floorDiv(start, 3_600_000)
        let lastMinute = CivilDate.floorDiv(end + 59_999, 60_000)
        while hour * 60 < lastMinute {
            for d in fleet.ships.indices {
                let kWh = d % 3 == 2
                var samples: [String] = []
                var bad = 0
                var last = Int64.min
                for minute in (hour * 60)..<(hour * 60 + 60) where minute < lastMinute {
                    guard gaps.online(d, minute: minute) else { continue }
                    let time = minute * 60_000
                    guard minute % 5 == 0, time >= start, time < end else { continue }
                    level[d] = max(0, min(1500, level[d] + rngs[d].int(in: -60...60)))
                    var value = kWh ? fixed(level[d] * 5 * 100 / 60, 3) : fixed(level[d], 1)
                    var timeText = "\"\(TimeFormatter.string(time))\""
                    if rngs[d].chance(badSample) {
                        bad += 1
                        switch rngs[d].below(3) {
                        case 0: value = "-" + value
                        case 1: value = "\"n/a\""
                        default: timeText = "\"yesterday\""
                        }
                    }
                    samples.append("{\"timestamp\":\(timeText),\"value\":\(value)}")
                    last = time
                }
                guard !samples.isEmpty else { continue }
                var members = [
                    "\"spaceship_id\":\"\(fleet.ships[d])\"",
                    "\"units\":\"\(kWh ? "kWh" : "kW")\"",
                    "\"data\":[\(samples.joined(separator: ","))]",
                ]
                let wholeBad = rngs[d].chance(badDocument)
                if wholeBad {
                    switch rngs[d].below(3) {
                    case 0: members[1] = "\"units\":\"MW\""
                    case 1: members.remove(at: 0)
                    default: members.remove(at: 1)
                    }
                }
                // Any of the six orders, `data` first included.
                for k in stride(from: members.count - 1, to: 0, by: -1) {
                    members.swapAt(k, Int(rngs[d].below(UInt64(k + 1))))
                }
                var arrival = last + 60_000
                if late.pick() {
                    arrival += emitter.rng.int(in: 3_600_000...6 * 3_600_000)
                    stats.lateFiles += 1
                }
                let path = emitter.files.path("power_\(fleet.ships[d])_\(CivilDate.floorDiv(hour * 3_600_000, 1000))", "json")
                stats.bytes += try emitter.files.write("{" + members.joined(separator: ",") + "}\n", to: path, arrival: arrival)
                stats.files += 1
                stats.records += samples.count
                if wholeBad { stats.badDocuments += 1 } else { stats.badRecords += bad }
            }
            hour += 1
        }
        return stats
    }
}
