import Foundation
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport


/// A fresh temporary directory, removed when the value is released.

/// Identities as the store defines them (`Identity`): strings are byte strings.
struct DetKey: Hashable { var vehicle: ByteString; var time: Int64; var type: ByteString }
struct StatusKey: Hashable { var vehicle: ByteString; var time: Int64 }

let hour: Int64 = 3_600_000_000
let second: Int64 = 1_000_000

/// The in-memory reference: identities map to the last ingested value (SEMANTICS §2).
struct Model {
    var detections: [DetKey: Int64] = [:]
    var statuses: [StatusKey: String] = [:]
    /// Rows older than this are expired (retention watermark), for both measurements.
    var watermark: Int64 = .min

    func detectionRows() -> [DetectionRow] {
        detections.filter { $0.key.time >= watermark }
            .map { DetectionRow(vehicle: $0.key.vehicle.string, time: $0.key.time, objectType: $0.key.type.string, value: $0.value) }
            .sorted { (ByteString($0.vehicle), $0.time, ByteString($0.objectType)) < (ByteString($1.vehicle), $1.time, ByteString($1.objectType)) }
    }

    func statusRows() -> [StatusRow] {
        statuses.filter { $0.key.time >= watermark }
            .map { StatusRow(vehicle: $0.key.vehicle.string, time: $0.key.time, status: $0.value) }
            .sorted { (ByteString($0.vehicle), $0.time) < (ByteString($1.vehicle), $1.time) }
    }
}

/// A random store: several vehicles, 1-hour partitions, commits that each mostly cover a
/// time window (so many chunks overlap no other segment) plus late, out-of-order rows and
/// re-delivered identities with new values (so many others must be merged). Vehicle `v0`
/// only ever sees `cars`, so its chunks hold a single object type.
struct Fixture {
    static let types = ["pedestrians", "cars", "signs", "trucks", "obstacles"]
    static let statuses = ["driving", "parking", "accident"]

    let dir: TempDir
    let options: StoreOptions
    var model = Model()
    let vehicles: [String]
    let base: Int64
    let span: Int64

    init(seed: UInt64, negativeTimes: Bool = false) throws {
        var rng = SplitMix64(state: seed)
        dir = TempDir()
        var o = StoreOptions()
        o.partitionWidth = hour
        o.bufferBytes = Int.random(in: 30_000...300_000, using: &rng)
        o.segment.chunkRows = [16, 64, 256][Int.random(in: 0..<3, using: &rng)]
        o.logger.logLevel = .error
        options = o
        // Odd seeds add ids that Swift's String equality or order would get wrong: two
        // canonically equivalent spellings of "é", and ids whose byte order differs from
        // String order ("e\u{301}" < "f" by bytes).
        vehicles = (0..<Int.random(in: 2...7, using: &rng)).map { "v\($0)" }
            + (seed % 2 == 1 ? ["\u{E9}", "e\u{301}", "f", "\u{FFFF}", "😀"] : [])
        // Negative bases straddle the epoch, so bucketing has to floor.
        base = negativeTimes ? -2 * hour - 123_456 : 1_720_000_000_000_000 + Int64(seed) * 7_777_777
        span = 6 * hour
        let w = try StoreWriter(path: dir.path, options: o)
        defer { w.close() }
        for _ in 0..<Int.random(in: 3...8, using: &rng) {
            let winStart = base + Int64.random(in: 0..<span, using: &rng)
            let winLen = Int64.random(in: 1...(2 * hour), using: &rng)
            var det = RowBatch(.detections)
            var st = RowBatch(.status)
            for _ in 0..<Int.random(in: 100...2500, using: &rng) {
                let v = vehicles.randomElement(using: &rng)!
                let late = Int.random(in: 0..<20, using: &rng) == 0
                var t = late ? base + Int64.random(in: 0..<span, using: &rng) : winStart + Int64.random(in: 0..<winLen, using: &rng)
                t = t / (5 * second) * (5 * second)  // coarse: identities repeat
                let ty = v == "v0" ? "cars" : Self.types.randomElement(using: &rng)!
                let val = Int64.random(in: -5...100, using: &rng)
                det.append(vehicle: v, time: t, [.string(ty), .int(val)])
                model.detections[DetKey(vehicle: ByteString(v), time: t, type: ByteString(ty))] = val
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    let s = Self.statuses.randomElement(using: &rng)!
                    st.append(vehicle: v, time: t, [.string(s)])
                    model.statuses[StatusKey(vehicle: ByteString(v), time: t)] = s
                }
            }
            try w.append(det)
            try w.append(st)
            try w.commit()
        }
    }

    func snapshot() throws -> Snapshot { try Snapshot.open(path: dir.path, options: options) }

    /// The fixture of `seed`, handed to `body` with a snapshot as written, then again after a
    /// random retention watermark; `rng` (seeded with `rngSeed`) draws the watermark and is
    /// the body's to use.
    static func twoPhases(seed: UInt64, negativeTimes: Bool, rngSeed: UInt64,
                          _ body: (Fixture, Snapshot, inout SplitMix64) throws -> Void) throws {
        var f = try Fixture(seed: seed, negativeTimes: negativeTimes)
        var rng = SplitMix64(state: rngSeed)
        for phase in 0..<2 {
            if phase == 1 { try f.setWatermark(f.randomTime(&rng)) }
            try body(f, try f.snapshot(), &rng)
        }
    }

    /// Expires rows older than `t` for both measurements, as retention would.
    mutating func setWatermark(_ t: Int64) throws {
        let w = try StoreWriter(path: dir.path, options: options)
        defer { w.close() }
        var m = w.manifest
        m.watermarks = [Measurement.detections.id: t, Measurement.status.id: t]
        try w.switchManifest(m)
        model.watermark = t
    }

    /// A random time in or near the data (sometimes exactly a stored time).
    func randomTime(_ rng: inout SplitMix64) -> Int64 {
        if Bool.random(using: &rng), let k = model.detections.keys.randomElement(using: &rng) { return k.time }
        return base - hour + Int64.random(in: 0..<(span + 2 * hour), using: &rng)
    }

    func randomVehicles(_ rng: inout SplitMix64) -> Set<ByteString>? {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: nil
        case 1: Set(bytesOf: vehicles.filter { _ in Bool.random(using: &rng) } + (Bool.random(using: &rng) ? ["nope"] : []))
        default: [ByteString(vehicles.randomElement(using: &rng)!)]
        }
    }
}

func readAll(_ c: RowCursor) throws -> [DetectionRow] {
    var out: [DetectionRow] = []
    while let r = try c.nextDetection() { out.append(r) }
    return out
}

func readAllByBlocks(_ c: RowCursor) throws -> [DetectionRow] {
    var out: [DetectionRow] = []
    while let b = try c.nextBatch() {
        precondition(b.count > 0)
        for i in 0..<b.count {
            out.append(DetectionRow(vehicle: b.vehicle, time: b.time(i), objectType: b.string(column: 0, i),
                                    value: b.int(column: 1, i)))
        }
    }
    return out
}

/// Default store options without info logs.
func quiet() -> StoreOptions {
    var o = StoreOptions()
    o.measurements = [.locations, .power]  // declared, as TOML will
    o.logger.logLevel = .error
    return o
}
