import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

/// A random store of locations, power and detections rows written in several commits
/// (windows plus late, re-delivered identities), with the model of what queries must see:
/// per measurement, identity → the last ingested row (SEMANTICS §2).
struct GenericFixture {
    struct Key: Hashable { var vehicle: ByteString; var time: Int64; var ident: [ByteString] }

    static let measurements: [Measurement] = [.locations, .power, .detections]
    static let types = ["cars", "trucks", "signs"]

    let dir: TempDir
    let options: StoreOptions
    var model: [UInt8: [Key: Row]] = [:]
    var watermark: Int64 = .min
    let vehicles: [String]
    let base: Int64
    let span: Int64

    init(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        dir = TempDir()
        var o = StoreOptions()
        o.measurements = [.locations, .power]
        o.partitionWidth = hour
        o.bufferBytes = Int.random(in: 30_000...300_000, using: &rng)
        o.segment.chunkRows = [16, 64, 256][Int.random(in: 0..<3, using: &rng)]
        o.logger.logLevel = .error
        options = o
        vehicles = (0..<Int.random(in: 2...5, using: &rng)).map { "v\($0)" } + (seed % 2 == 1 ? ["\u{E9}", "e\u{301}"] : [])
        base = 1_736_000_000_000_000 + Int64(seed) * 7_777_777
        span = 5 * hour
        let w = try StoreWriter(path: dir.path, options: o)
        defer { w.close() }
        for _ in 0..<Int.random(in: 3...6, using: &rng) {
            let winStart = base + Int64.random(in: 0..<span, using: &rng)
            let winLen = Int64.random(in: 1...(2 * hour), using: &rng)
            var batches = Self.measurements.map { RowBatch($0) }
            for _ in 0..<Int.random(in: 100...1500, using: &rng) {
                let v = vehicles.randomElement(using: &rng)!
                let late = Int.random(in: 0..<20, using: &rng) == 0
                var t = late ? base + Int64.random(in: 0..<span, using: &rng) : winStart + Int64.random(in: 0..<winLen, using: &rng)
                t = t / (10 * second) * (10 * second)  // coarse: identities repeat
                let k = Int.random(in: 0..<3, using: &rng)
                let m = Self.measurements[k]
                var cells: [CellValue]
                var ident: [ByteString] = []
                switch k {
                case 0:
                    // Vehicle v0 stands still: its chunks hold one speed (footer-decidable filters).
                    let speed = v == "v0" ? 0 : Double(Int.random(in: 0...260, using: &rng)) / 2
                    cells = [.double(48 + Double.random(in: 0..<1, using: &rng)), .double(11 + Double.random(in: 0..<1, using: &rng)),
                             .double(speed), .int(Int64.random(in: 0..<360, using: &rng))]
                case 1:
                    // v1 reports kWh only, the others mostly kW with some kWh.
                    let units = v == "v1" || Int.random(in: 0..<4, using: &rng) == 0 ? "kWh" : "kW"
                    cells = [.double(Double(Int.random(in: 0...100, using: &rng)) / 2), .string(units)]
                default:
                    let ty = Self.types.randomElement(using: &rng)!
                    cells = [.string(ty), .int(Int64.random(in: -5...100, using: &rng))]
                    ident = [ByteString(ty)]
                }
                batches[k].append(vehicle: v, time: t, cells.map(Self.value))
                model[m.id, default: [:]][Key(vehicle: ByteString(v), time: t, ident: ident)] = Row(vehicle: v, time: t, cells: cells)
            }
            for b in batches { try w.append(b) }
            try w.commit()
        }
    }

    static func value(_ c: CellValue) -> RowBatch.Value {
        switch c {
        case .int(let x): .int(x)
        case .double(let x): .double(x)
        case .string(let s): .string(s)
        default: preconditionFailure("no such stored value yet")
        }
    }

    func snapshot() throws -> Snapshot { try Snapshot.open(path: dir.path, options: options) }

    /// Expires rows older than `t` for every measurement.
    mutating func setWatermark(_ t: Int64) throws {
        let w = try StoreWriter(path: dir.path, options: options)
        defer { w.close() }
        var man = w.manifest
        for m in Self.measurements { man.watermarks[m.id] = t }
        try w.switchManifest(man)
        watermark = t
    }

    /// The unexpired rows of `m` in (vehicle, time, identity) order.
    func rows(_ m: Measurement) -> [Row] {
        (model[m.id] ?? [:]).filter { $0.key.time >= watermark }
            .sorted { a, b in
                (a.key.vehicle, a.key.time) != (b.key.vehicle, b.key.time)
                    ? (a.key.vehicle, a.key.time) < (b.key.vehicle, b.key.time)
                    : a.key.ident.lexicographicallyPrecedes(b.key.ident)
            }
            .map(\.value)
    }

    func randomTime(_ rng: inout SplitMix64) -> Int64 {
        base - hour + Int64.random(in: 0..<(span + 2 * hour), using: &rng) / (10 * second) * (10 * second)
    }

    func randomVehicles(_ rng: inout SplitMix64) -> Set<ByteString>? {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: nil
        case 1: Set(bytesOf: vehicles.filter { _ in Bool.random(using: &rng) } + (Bool.random(using: &rng) ? ["nope"] : []))
        default: [ByteString(vehicles.randomElement(using: &rng)!)]
        }
    }

    /// A random filter on a column of `m`, its value often taken from the data.
    func randomFilter(_ m: Measurement, _ rng: inout SplitMix64) -> ColumnFilter {
        let c = Int.random(in: 0..<m.columns.count, using: &rng)
        let name = m.columns[c].name
        let sample = rows(m).randomElement(using: &rng)?.cells[c]
        switch m.columns[c].type {
        case .string:
            let v: String = if case .string(let s)? = sample, Bool.random(using: &rng) { s } else { ["kW", "kWh", "cars", "x"].randomElement(using: &rng)! }
            return ColumnFilter(name, Bool.random(using: &rng) ? .eq : .ne, v)
        case .bool:
            return ColumnFilter(name, Bool.random(using: &rng) ? .eq : .ne, Bool.random(using: &rng) ? "true" : "false")
        case .stringList:
            let v: String = if case .strings(let a)? = sample, let s = a.randomElement(using: &rng) { s } else { "x" }
            return ColumnFilter(name, Bool.random(using: &rng) ? .eq : .ne, v)
        case .int64, .float64:
            let op = FilterOp.allCases.randomElement(using: &rng)!
            var text: String
            switch sample {
            case .int(let x)?: text = String(x)
            case .double(let x)?: text = String(x)
            default: text = "50"
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { text = ["0", "-1", "1e9", "12.25", "270"].randomElement(using: &rng)! }
            return ColumnFilter(name, op, text)
        }
    }
}

/// An independent reading of the filter contract (docs/SEMANTICS.md "Filters").
func modelPasses(_ f: ColumnFilter, _ m: Measurement, _ row: Row) -> Bool {
    guard let c = m.columns.firstIndex(where: { $0.name == f.column }) ?? (f.column == "type" ? m.columnIndex(named: "object_type") : nil) else {
        return false
    }
    func cmp(_ order: Int) -> Bool {
        switch f.op {
        case .eq: order == 0
        case .ne: order != 0
        case .lt: order < 0
        case .le: order <= 0
        case .gt: order > 0
        case .ge: order >= 0
        }
    }
    switch row.cells[c] {
    case .null: return false
    case .string(let s):
        let hit = f.values.contains { Identity.equal($0, s) }
        return f.op == .eq ? hit : !hit
    case .strings(let a):
        let hit = a.contains { x in f.values.contains { Identity.equal($0, x) } }
        return f.op == .eq ? hit : !hit
    case .bool(let b): return (String(b) == f.values[0]) == (f.op == .eq)
    case .int(let x):
        if let v = Int64(f.values[0]) { return cmp(x < v ? -1 : x > v ? 1 : 0) }
        let d = Double(f.values[0]) ?? .nan, y = Double(x)
        return cmp(y < d ? -1 : y > d ? 1 : 0)
    case .double(let x):
        let d = Double(f.values[0]) ?? .nan
        return cmp(x < d ? -1 : x > d ? 1 : 0)
    }
}
