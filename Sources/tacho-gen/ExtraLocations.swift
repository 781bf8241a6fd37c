// Locations (one per device per minute) and alarms with their video files (docs/SEMANTICS.md §1).

import TachoTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every online (device, minute) in time order: minutes ascending, devices by their fixed
/// second-of-minute phase. Each kind walks its own copy; the gaps are the same in all.
struct DeviceMinutes {
    private let order: [Int]
    let phase: [Int64]
    private var minute: Int64
    private let endMinute: Int64
    private let start: Int64, end: Int64
    private var k = 0
    private var gaps: GapModel

    init(devices: Int, seed: UInt64, start: Int64, end: Int64, gapShare: Double) {
        var rng = Xoshiro256(seed: seed, stream: ExtraStream.identity, substream: 1)
        let phase = (0..<devices).map { _ in Int64(rng.below(60_000)) }
        self.phase = phase
        order = (0..<devices).sorted { (phase[$0], $0) < (phase[$1], $1) }
        minute = CivilDate.floorDiv(start, 60_000)
        endMinute = CivilDate.floorDiv(end + 59_999, 60_000)
        self.start = start
        self.end = end
        gaps = GapModel(devices: devices, seed: seed, share: gapShare)
    }

    mutating func next() -> (device: Int, time: Int64)? {
        while minute < endMinute {
            if k == order.count { k = 0; minute += 1; continue }
            let d = order[k]
            k += 1
            let time = minute * 60_000 + phase[d]
            if gaps.online(d, minute: minute) && time >= start && time < end { return (d, time) }
        }
        return nil
    }
}

/// Positions drift around Munich: each minute a device keeps or changes heading and speed and
/// moves speed × 1 minute. Coordinates in micro-degrees, speed in tenths of km/h.
struct LocationStream {
    private var walk: DeviceMinutes
    private var rngs: [Xoshiro256]
    private var lat: [Int64], lon: [Int64], heading: [Int64], speed: [Int64]
    private let fleet: ExtraFleet
    private let bad: Chance

    init(fleet: ExtraFleet, seed: UInt64, start: Int64, end: Int64, gapShare: Double, badShare: Double) {
        let n = fleet.imeis.count
        walk = DeviceMinutes(devices: n, seed: seed, start: start, end: end, gapShare: gapShare)
        rngs = (0..<n).map { Xoshiro256(seed: seed, stream: ExtraStream.locations, substream: UInt64($0)) }
        lat = []; lon = []; heading = []; speed = []
        for d in 0..<n {
            lat.append(48_137_154 + rngs[d].int(in: -200_000...200_000))
            lon.append(11_576_124 + rngs[d].int(in: -300_000...300_000))
            heading.append(rngs[d].int(in: 0...359))
            speed.append(rngs[d].int(in: 0...900))
        }
        self.fleet = fleet
        bad = Chance(badShare)
    }

    mutating func next() -> ExtraRecord? {
        guard let (d, time) = walk.next() else { return nil }
        if rngs[d].chance(Chance(0.2)) { heading[d] = (heading[d] + rngs[d].int(in: -45...45) + 360) % 360 }
        speed[d] = max(0, min(1300, speed[d] + rngs[d].int(in: -80...80)))
        let metres = Double(speed[d]) / 10 * 1000 / 60
        let radians = Double(heading[d]) * .pi / 180
        lat[d] += Int64((metres * cos(radians) / 111_320 * 1e6).rounded())
        lon[d] += Int64((metres * sin(radians) / (111_320 * cos(Double(lat[d]) / 1e6 * .pi / 180)) * 1e6).rounded())
        var imei = "\"imei\":\"\(fleet.imeis[d])\","
        var timeText = TimeFormatter.string(time)
        var latText = fixed(lat[d], 6)
        var speedText = fixed(speed[d], 1)
        let isBad = rngs[d].chance(bad)
        if isBad {
            switch rngs[d].below(4) {
            case 0: latText = "123.456789"                        // latitude out of range
            case 1: timeText = "2025-13-45T25:61:00.000Z"         // not a time
            case 2: imei = ""                                     // no device id
            default: speedText = "\"fast\""                       // not a number
            }
        }
        let text = "{\(imei)\"time\":\"\(timeText)\",\"lat\":\(latText),\"lon\":\(fixed(lon[d], 6)),"
            + "\"speed_kmh\":\(speedText),\"heading\":\(heading[d])}"
        return ExtraRecord(time: time, text: text, bad: isBad)
    }
}

/// Alarms: a device raises at most one per minute (chance 1/90), with 0…3 camera files.
struct AlarmStream {
    static let types = ["harsh_braking", "harsh_acceleration", "collision", "lane_departure", "drowsiness", "speeding"]
    static let cameras = ["front", "cabin", "rear"]
    private var walk: DeviceMinutes
    private var rngs: [Xoshiro256]
    private let fleet: ExtraFleet
    private let bad: Chance

    init(fleet: ExtraFleet, seed: UInt64, start: Int64, end: Int64, gapShare: Double, badShare: Double) {
        walk = DeviceMinutes(devices: fleet.imeis.count, seed: seed, start: start, end: end, gapShare: gapShare)
        rngs = fleet.imeis.indices.map { Xoshiro256(seed: seed, stream: ExtraStream.alarms, substream: UInt64($0)) }
        self.fleet = fleet
        bad = Chance(badShare)
    }

    mutating func next() -> ExtraRecord? {
        while let (d, time) = walk.next() {
            guard rngs[d].below(90) == 0 else { continue }
            let imei = fleet.imeis[d]
            let stamp = compactTime(time)
            var files: [String] = []
            for camera in Self.cameras where rngs[d].chance(Chance(0.6)) { files.append("\"\(imei)/\(stamp)_\(camera).mp4\"") }
            var type = "\"alarm_type\":\"\(Self.types[Int(rngs[d].below(UInt64(Self.types.count)))])\","
            var severity = String(rngs[d].int(in: 1...5))
            var timeText = TimeFormatter.string(time)
            let isBad = rngs[d].chance(bad)
            if isBad {
                switch rngs[d].below(3) {
                case 0: severity = "\"high\""                     // not an integer
                case 1: type = ""                                  // no alarm type
                default: timeText = "14/09/2025 07:44"             // not a time
                }
            }
            let text = "{\"imei\":\"\(imei)\",\"time\":\"\(timeText)\",\(type)\"severity\":\(severity),"
                + "\"files\":[\(files.joined(separator: ","))]}"
            return ExtraRecord(time: time, text: text, bad: isBad)
        }
        return nil
    }
}
