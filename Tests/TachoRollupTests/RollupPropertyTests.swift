import Testing
import TachoFaults
import TachoFormat
import TachoSchema
import TachoStore
import TachoTestSupport
@testable import TachoRollup

/// Rollups equal a model's aggregate of the raw rows after every commit: random rows (late,
/// out of order, re-delivered, duplicate identities) in random commit groups, some commits
/// failed at their crash points (the store is then as before the commit) and the writer
/// reopened in between (docs/ARCHITECTURE.md "Rollups").
@Suite struct RollupPropertyTests {
    /// The measurement every rollup test declares, with `rollups` (a TOML array) as its rollups.
    static func config(rollups: String) -> String {
        """
        [[measurement]]
        name = "m"
        records = "rows[]"
        files = { prefixes = ["m_"] }
        vehicle = { keys = ["vehicle_id"] }
        time = { key = "time" }
        identity = ["kind"]
        fields = [
          { name = "kind", type = "string" },
          { name = "v", type = "int64" },
          { name = "f", type = "float64", required = false },
        ]
        rollups = \(rollups)
        """
    }

    static let config = config(rollups: """
        [
          { every = "15m", by = ["kind"], of = ["v", "f"], fns = ["count", "sum", "min", "max", "first", "last"] },
          { every = "1h", name = "hourly", of = ["f"], fns = ["sum", "last"] },
          { every = "1d", by = ["kind"], fns = ["count"] },
        ]
        """)

    struct Fixture {
        let declaration: MeasurementDeclaration
        let measurements: [Measurement]
        let options: StoreOptions

        init(fs: FaultInjectingFileSystem) throws {
            let c = try TachoConfig.parse(RollupPropertyTests.config, file: nil, includeDefaults: false)
            declaration = try #require(c.measurement(named: "m"))
            measurements = [try declaration.measurement(id: 0)] + (try RollupMaintainer.measurements([declaration]))
            var o = StoreOptions()
            o.bufferBytes = 1 << 14  // spill often: a commit's rows span several segments
            o.partitionWidth = 6 * 3_600_000_000
            o.segment.chunkRows = 64
            o.logger.logLevel = .critical
            o.fileSystem = fs
            o.measurements = measurements
            o.commitParticipant = RollupMaintainer(declarations: [declaration])
            options = o
        }
    }

    struct Row { var vehicle: String; var time: Int64; var kind: String; var v: Int64; var f: Double? }

    static func randomRows(_ rng: inout SplitMix64, count: Int, base: Int64) -> [Row] {
        (0..<count).map { _ in
            let minute: Int64 = 60_000_000
            // Mostly near `base`, some late (up to two days before), all on whole or odd times.
            let late = Int.random(in: 0..<10, using: &rng) == 0
            let t = base + (late ? -Int64.random(in: 0...2880, using: &rng) : Int64.random(in: 0...600, using: &rng)) * minute
                + Int64.random(in: 0..<3, using: &rng) * 1_000_000
            let f: Double? = Int.random(in: 0..<5, using: &rng) == 0 ? nil : Double(Int.random(in: -1000...1000, using: &rng)) / 7
            return Row(vehicle: "veh\(Int.random(in: 0..<4, using: &rng))", time: t, kind: ["car", "bus", "bike"].randomElement(using: &rng) ?? "car",
                       v: Int64.random(in: 0...100, using: &rng), f: f)
        }
    }

    static func batch(_ rows: [Row], _ m: Measurement) -> RowBatch {
        var b = RowBatch(m, capacity: rows.count)
        for r in rows { b.append(vehicle: r.vehicle, time: r.time, [.string(r.kind), .int(r.v), r.f.map { .double($0) }]) }
        return b
    }

    /// The rollup rows the model expects: the aggregate of the store's raw rows as a scan
    /// returns them, computed here independently of the maintainer.
    static func expected(_ snap: Snapshot, _ rollup: RollupDeclaration, raw: Measurement) throws -> [String] {
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(raw))
        struct Acc { var n: Int64 = 0; var t0: Int64 = 0; var t1: Int64 = 0; var vals: [[ColumnValue?]] = [] }
        var acc: [String: Acc] = [:]
        let w = rollup.every.micros
        while let b = try cursor.next() {
            for i in b.range {
                let t = b.chunk.times[i]
                let start = (t >= 0 ? t / w : (t - w + 1) / w) * w
                let cells = raw.columns.indices.map { ColumnValue.at(i, of: b.chunk.columns[$0].values, dictionary: b.chunk.columns[$0].dictionary) }
                let group = rollup.by.map { c in cells[raw.columnIndex(named: c) ?? 0].map { "\($0)" } ?? "null" }
                let key = "\(b.vehicle)|\(start)|\(group.joined(separator: ","))"
                var a = acc[key] ?? Acc(t0: t)
                a.n += 1
                a.t1 = t
                a.vals.append(rollup.of.map { cells[raw.columnIndex(named: $0) ?? 0] })
                acc[key] = a
            }
        }
        var out: [String] = []
        for (key, a) in acc {
            var parts = [key, "n=\(a.n)"]
            if rollup.keeps(.first) || rollup.keeps(.last) { parts.append("t=\(a.t0)-\(a.t1)") }
            for (k, _) in rollup.of.enumerated() {
                let col = a.vals.map { $0[k] }
                let present = col.compactMap { $0 }
                for f in rollup.valueFunctions {
                    let v: String
                    switch f {
                    case .sum:
                        if present.isEmpty { v = "null" } else if case .int = present[0] {
                            v = "\(present.reduce(Int64(0)) { if case .int(let x) = $1 { $0 + x } else { $0 } })"
                        } else {
                            v = "\(present.reduce(0.0) { if case .double(let x) = $1 { $0 + x } else { $0 } })"
                        }
                    case .min: v = present.min { RollupAccumulator.less($0, $1) }.map { "\($0)" } ?? "null"
                    case .max: v = present.max { RollupAccumulator.less($0, $1) }.map { "\($0)" } ?? "null"
                    case .first: v = col.first.flatMap { $0 }.map { "\($0)" } ?? "null"
                    case .last: v = col.last.flatMap { $0 }.map { "\($0)" } ?? "null"
                    case .count: v = ""
                    }
                    parts.append("\(f.rawValue)=\(v)")
                }
            }
            out.append(parts.joined(separator: " "))
        }
        return out.sorted()
    }

    /// The stored rollup rows in the same form (tombstones skipped).
    static func stored(_ snap: Snapshot, _ rollup: RollupDeclaration) throws -> [String] {
        guard let m = snap.catalog.measurement(named: rollup.storedName(of: "m")) else { return [] }
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(m))
        var out: [String] = []
        func cell(_ b: ScanBatch, _ name: String, _ i: Int) -> ColumnValue? {
            guard let k = m.columnIndex(named: name) else { return nil }
            return ColumnValue.at(i, of: b.chunk.columns[k].values, dictionary: b.chunk.columns[k].dictionary)
        }
        while let b = try cursor.next() {
            for i in b.range {
                guard case .int(let n)? = cell(b, "count", i), n > 0 else { continue }
                let group = rollup.by.map { cell(b, $0, i).map { "\($0)" } ?? "null" }
                var parts = ["\(b.vehicle)|\(b.chunk.times[i])|\(group.joined(separator: ","))", "n=\(n)"]
                if rollup.keeps(.first) || rollup.keeps(.last) {
                    parts.append("t=\(cell(b, "first_time", i).map { "\($0)" } ?? "?")-\(cell(b, "last_time", i).map { "\($0)" } ?? "?")")
                }
                for c in rollup.of {
                    for f in rollup.valueFunctions { parts.append("\(f.rawValue)=\(cell(b, "\(c)_\(f.rawValue)", i).map { "\($0)" } ?? "null")") }
                }
                out.append(parts.joined(separator: " "))
            }
        }
        return out.sorted()
    }

    static func check(_ path: String, _ fx: Fixture, _ label: String) throws {
        let snap = try Snapshot.open(path: path)
        // No commit has stored "m" yet (the first ones failed at a crash point): then no
        // rollup may be stored either.
        guard let raw = snap.catalog.measurement(named: "m") else {
            for r in fx.declaration.rollups {
                #expect(snap.catalog.measurement(named: r.storedName(of: "m")) == nil, "\(label): rollup \(r.name) without its raw rows")
            }
            return
        }
        for r in fx.declaration.rollups {
            let want = try expected(snap, r, raw: raw)
            let got = try stored(snap, r)
            #expect(got == want, "\(label): rollup \(r.name) differs from the model")
            if got != want { throw Mismatch() }
        }
    }

    struct Mismatch: Error {}

    static let crashFaults: [Fault] = [
        Fault(.rename, .error(5), pathContains: "MANIFEST"),  // before the switch
        Fault(.fsync, .error(5), pathContains: "segments"),  // a segment written, not durable
        Fault(.create, nth: 2, .error(28), pathContains: "segments"),  // mid-transaction
        Fault(.write, .shortWrite, pathContains: "MANIFEST.tmp"),
    ]

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func rollupsEqualTheModelAfterEveryCommit(seed: UInt64) throws {
        let dir = TempDir("rollup-prop")
        let fs = FaultInjectingFileSystem()
        let fx = try Fixture(fs: fs)
        var rng = SplitMix64(seed: seed)
        var writer = try StoreWriter(path: dir.path, options: fx.options)
        var delivered: [[Row]] = []
        let base: Int64 = 1_700_000_000_000_000
        for step in 0..<24 {
            var rows = Self.randomRows(&rng, count: Int.random(in: 1...300, using: &rng), base: base + Int64(step) * 3_600_000_000)
            // Re-deliveries and corrections: rows already stored again, some with new values.
            if let old = delivered.randomElement(using: &rng), Bool.random(using: &rng) {
                rows += old.prefix(Int.random(in: 0...old.count, using: &rng)).map { r in
                    var c = r
                    if Bool.random(using: &rng) { c.v += 1; c.f = nil }
                    return c
                }
            }
            rows.shuffle(using: &rng)
            let m = try #require(writer.catalog.measurement(named: "m"))
            let crash = Int.random(in: 0..<5, using: &rng) == 0 ? Self.crashFaults.randomElement(using: &rng) : nil
            // One commit group: the rows in a few batches (a file each).
            var at = 0
            do {
                while at < rows.count {
                    let n = Int.random(in: 1...max(1, rows.count - at), using: &rng)
                    try writer.append(Self.batch(Array(rows[at..<(at + n)]), m))
                    at += n
                }
                if let crash { fs.arm(crash) }
                try writer.commit()
                delivered.append(rows)
            } catch {
                #expect(crash != nil, "step \(step): \(error)")
            }
            fs.clearFaults()
            if crash != nil || Int.random(in: 0..<4, using: &rng) == 0 {
                writer.close()
                writer = try StoreWriter(path: dir.path, options: fx.options)
            }
            try Self.check(dir.path, fx, "seed \(seed) step \(step)\(crash.map { " after failing at \($0)" } ?? "")")
        }
        // Re-ingesting everything changes no rollup row.
        let before = try fx.declaration.rollups.map { try Self.stored(try Snapshot.open(path: dir.path), $0) }
        let m = try #require(writer.catalog.measurement(named: "m"))
        for rows in delivered { try writer.append(Self.batch(rows, m)) }
        try writer.commit()
        writer.close()
        let after = try fx.declaration.rollups.map { try Self.stored(try Snapshot.open(path: dir.path), $0) }
        #expect(before == after)
        // Both of the maintainer's paths ran: rows merged into stored windows, and windows
        // recomputed (late rows among stored ones, re-deliveries, replaced identities).
        let stats = try #require(fx.options.commitParticipant as? RollupMaintainer).statistics
        #expect(stats.merged > 0)
        #expect(stats.recomputed > 0)
    }
}
