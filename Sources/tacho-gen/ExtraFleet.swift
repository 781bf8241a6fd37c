// Shared pieces of the extra kinds (locations, alarms, power, line protocol, NDJSON): device
// identities, offline gaps, decimal formatting without Foundation, and the files themselves.

import TachoTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// PRNG stream numbers of the extra kinds (the detection/status generator uses 1…5).
enum ExtraStream {
    static let identity: UInt64 = 101, gaps: UInt64 = 102, locations: UInt64 = 103, alarms: UInt64 = 104
    static let power: UInt64 = 105, lineProtocol: UInt64 = 106, ndjson: UInt64 = 107, files: UInt64 = 108
}

/// Per vehicle: the 32-hex id of the detection fleet, a 15-digit IMEI (valid Luhn check digit)
/// and a spaceship id for the power service.
struct ExtraFleet {
    let ids: [String]
    let imeis: [String]
    let ships: [String]

    init(ids: [String], seed: UInt64) {
        var rng = Xoshiro256(seed: seed, stream: ExtraStream.identity)
        var seen = Set<String>()
        var imeis: [String] = []
        for _ in ids {
            while true {
                let digits = [3, 5] + (0..<12).map { _ in Int(rng.below(10)) }  // 14 digits; TACs start 35
                let imei = digits.map(String.init).joined() + String(luhnDigit(digits))
                if seen.insert(imei).inserted { imeis.append(imei); break }
            }
        }
        self.ids = ids
        self.imeis = imeis
        ships = ids.indices.map { i in i < 99 ? "ship-" + (i + 1 < 10 ? "0" : "") + String(i + 1) : "ship-\(i + 1)" }
    }
}

/// The Luhn check digit of `digits` (an IMEI's 15th digit).
func luhnDigit(_ digits: [Int]) -> Int {
    var sum = 0
    for (k, d) in digits.reversed().enumerated() {
        if k % 2 == 0 { let x = d * 2; sum += x > 9 ? x - 9 : x } else { sum += d }
    }
    return (10 - sum % 10) % 10
}

/// Devices go offline for 5…60 minutes at a time (`share` = chance per online minute of
/// dropping out). Every kind draws the same gaps: a device that is off sends nothing.
struct GapModel {
    private var rngs: [Xoshiro256]
    private var offlineUntil: [Int64]
    private let chance: Chance

    init(devices: Int, seed: UInt64, share: Double) {
        rngs = (0..<devices).map { Xoshiro256(seed: seed, stream: ExtraStream.gaps, substream: UInt64($0)) }
        offlineUntil = Array(repeating: .min, count: devices)
        chance = Chance(share)
    }

    /// Whether device `d` is online in `minute`; minutes must be asked in increasing order.
    mutating func online(_ d: Int, minute: Int64) -> Bool {
        if minute < offlineUntil[d] { return false }
        if rngs[d].chance(chance) {
            offlineUntil[d] = minute + rngs[d].int(in: 5...60)
            return false
        }
        return true
    }
}

/// `value / 10^decimals` with exactly `decimals` digits: fixed(48137154, 6) = "48.137154".
func fixed(_ value: Int64, _ decimals: Int) -> String {
    var scale: Int64 = 1
    for _ in 0..<decimals { scale *= 10 }
    let magnitude = value.magnitude
    let whole = magnitude / UInt64(scale), part = magnitude % UInt64(scale)
    var digits = String(part)
    while digits.count < decimals { digits = "0" + digits }
    return (value < 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + digits : "")
}

/// One output file of an extra kind. Its modification time is set to its simulated arrival
/// (the time of its last record plus a minute, or hours later for a late file).
struct ExtraFileWriter {
    let directory: String
    private var names = Set<String>()

    init(directory: String) { self.directory = directory }

    /// A fresh path `<directory>/<stem>[_n].<ext>`.
    mutating func path(_ stem: String, _ ext: String) -> String {
        var candidate = stem
        var n = 1
        while names.contains(candidate + "." + ext) { n += 1; candidate = "\(stem)_\(n)" }
        names.insert(candidate + "." + ext)
        return "\(directory)/\(candidate).\(ext)"
    }

    /// Writes `text` to `path` and stamps its modification time (epoch milliseconds).
    func write(_ text: String, to path: String, arrival: Int64) throws -> Int64 {
        let file = try OutputFile(path: path)
        try file.append(text)
        try file.close()
        let seconds = CivilDate.floorDiv(arrival, 1000)
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: Int((arrival - seconds * 1000) * 1_000_000)),
                     timespec(tv_sec: Int(seconds), tv_nsec: Int((arrival - seconds * 1000) * 1_000_000))]
        if utimensat(AT_FDCWD, path, &times, 0) != 0 { throw GenError.posix("cannot set the time of", path) }
        return file.bytes
    }
}

/// Counts of one extra kind, for the summary line and the tests.
struct ExtraStats: Equatable {
    var files = 0
    var records = 0       // JSON elements, NDJSON lines, LP point lines or power samples written
    var badRecords = 0    // of those, ones a validating reader must reject (see each kind)
    var badDocuments = 0  // power documents rejected whole (bad or missing units / ship id)
    var syntaxRejects = 0 // line protocol: lines that break the grammar (part of badRecords)
    var lateFiles = 0
    var bytes: Int64 = 0
}
