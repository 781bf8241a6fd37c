// Line protocol (`telemetry_<ts>.lp`: battery packs and cabin climate) and NDJSON
// (`temperatures_<ts>.ndjson`) records, one per device per minute.

import TachoLineProtocol

/// The measurements the `.lp` files carry, as a reader should declare them.
enum LineMeasurements {
    static let battery = [
        LineColumn("pack", .string, isTag: true), LineColumn("soc", .float64),
        LineColumn("temp_c", .int64), LineColumn("charging", .bool),
    ]
    static let cabin = [LineColumn("zone", .string, isTag: true), LineColumn("temp_c", .float64), LineColumn("door_open", .bool)]
}

/// Per online device-minute: `battery` for packs A and B and one `cabin` line, nanosecond
/// timestamps with a microsecond part. A bad line breaks the grammar (`soc=`, `soc=81.5.2`,
/// an unterminated string) or the mapping (no `vehicle_id` tag, `temp_c` as a float).
struct LineProtocolStream {
    private var walk: DeviceMinutes
    private var rngs: [Xoshiro256]
    private var soc: [Int64]  // tenths of a percent
    private let fleet: ExtraFleet
    private let bad: Chance
    private var pending: [ExtraRecord] = []

    init(fleet: ExtraFleet, seed: UInt64, start: Int64, end: Int64, gapShare: Double, badShare: Double) {
        walk = DeviceMinutes(devices: fleet.ids.count, seed: seed, start: start, end: end, gapShare: gapShare)
        var rngs = fleet.ids.indices.map { Xoshiro256(seed: seed, stream: ExtraStream.lineProtocol, substream: UInt64($0)) }
        soc = rngs.indices.map { rngs[$0].int(in: 200...1000) }
        self.rngs = rngs
        self.fleet = fleet
        bad = Chance(badShare)
    }

    mutating func next() -> ExtraRecord? {
        if !pending.isEmpty { return pending.removeFirst() }
        guard let (d, time) = walk.next() else { return nil }
        let ns = time * 1_000_000 + Int64(d % 1000) * 1000
        let charging = soc[d] < 300 || (soc[d] < 900 && rngs[d].chance(Chance(0.1)))
        soc[d] = max(0, min(1000, soc[d] + (charging ? 15 : -rngs[d].int(in: 0...6))))
        var writer = LineProtocolWriter()
        for pack in ["A", "B"] {
            let fields: [(key: String, value: LineValue)] = [
                ("soc", .float(Double(soc[d] + (pack == "A" ? 0 : rngs[d].int(in: -20...20))) / 10)),
                ("temp_c", .int(rngs[d].int(in: 18...45))), ("charging", .bool(charging)),
            ]
            try? writer.append(LineRecord(measurement: "battery", tags: [("vehicle_id", fleet.ids[d]), ("pack", pack)],
                                          fields: fields, timestamp: ns))
        }
        try? writer.append(LineRecord(
            measurement: "cabin", tags: [("vehicle_id", fleet.ids[d]), ("zone", "front")],
            fields: [("temp_c", .float(Double(rngs[d].int(in: 150...300)) / 10)), ("door_open", .bool(rngs[d].chance(Chance(0.02))))],
            timestamp: ns))
        let lines = String(decoding: writer.bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        for (k, line) in lines.enumerated() {
            var record = ExtraRecord(time: time, text: line)
            if rngs[d].chance(bad) {
                record.bad = true
                let firstField = k < 2 ? "soc=" : "temp_c="
                switch rngs[d].below(5) {
                case 0: record.text = line.replacingFirst(firstField, with: firstField + ",x="); record.syntax = true
                case 1: record.text = line.replacingFirst(firstField, with: firstField + "81.5.2,y="); record.syntax = true
                case 2: record.text = line.replacingFirst(" ", with: " note=\"oops,"); record.syntax = true
                case 3: record.text = line.replacingFirst(",vehicle_id=\(fleet.ids[d])", with: "")
                default:
                    // battery's temp_c is an integer column: a float contradicts it. cabin's
                    // temp_c is a float already, so that line loses its vehicle instead.
                    record.text = k < 2 ? line.replacingFirst("i,charging=", with: ".5,charging=")
                        : line.replacingFirst(",vehicle_id=\(fleet.ids[d])", with: "")
                }
            }
            pending.append(record)
        }
        return pending.removeFirst()
    }
}

/// One temperature per online device-minute (`cabin`, `coolant`, `battery` in turn). A bad
/// record has `celsius` as a word, no `vehicle_id`, or a time that is not one.
struct TemperatureStream {
    static let sensors = ["cabin", "coolant", "battery"]
    private var walk: DeviceMinutes
    private var rngs: [Xoshiro256]
    private let fleet: ExtraFleet
    private let bad: Chance

    init(fleet: ExtraFleet, seed: UInt64, start: Int64, end: Int64, gapShare: Double, badShare: Double) {
        walk = DeviceMinutes(devices: fleet.ids.count, seed: seed, start: start, end: end, gapShare: gapShare)
        rngs = fleet.ids.indices.map { Xoshiro256(seed: seed, stream: ExtraStream.ndjson, substream: UInt64($0)) }
        self.fleet = fleet
        bad = Chance(badShare)
    }

    mutating func next() -> ExtraRecord? {
        guard let (d, time) = walk.next() else { return nil }
        let sensor = Self.sensors[Int(time / 60_000 % 3)]
        var vehicle = "\"vehicle_id\":\"\(fleet.ids[d])\","
        var timeText = TimeFormatter.string(time)
        var celsius = fixed(rngs[d].int(in: sensor == "coolant" ? 600...1050 : 150...450), 1)
        let isBad = rngs[d].chance(bad)
        if isBad {
            switch rngs[d].below(3) {
            case 0: celsius = "\"hot\""
            case 1: vehicle = ""
            default: timeText = "2025-09-14 25:00:00"
            }
        }
        return ExtraRecord(time: time, text: "{\(vehicle)\"time\":\"\(timeText)\",\"sensor\":\"\(sensor)\",\"celsius\":\(celsius)}",
                           bad: isBad)
    }
}

extension String {
    /// Replaces the first occurrence of `target` (byte-wise).
    func replacingFirst(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8), needle = Array(target.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return self }
        for i in 0...(bytes.count - needle.count) where bytes[i..<(i + needle.count)].elementsEqual(needle) {
            return String(decoding: bytes[..<i] + Array(replacement.utf8) + bytes[(i + needle.count)...], as: UTF8.self)
        }
        return self
    }
}
