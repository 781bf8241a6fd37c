import Testing
import TachoFaults
import TachoFormat
import TachoSchema
import TachoStore
import TachoTestSupport
@testable import TachoRollup

/// Backfill (docs/ARCHITECTURE.md "Backfill"): random raw rows stored without rollups, then
/// the rollups declared and built from them range by range; every rollup row equals the
/// model's aggregate of the raw rows (`RollupPropertyTests.expected`), also when rows are
/// ingested between ranges, when steps fail at their crash points and are resumed by a new
/// writer, and after ingest continues once the backfill is complete.
@Suite struct RollupBackfillTests {
    typealias P = RollupPropertyTests

    /// The raw measurement alone: a store written before the rollups were declared.
    static func rawOptions(_ fx: P.Fixture) -> StoreOptions {
        var o = fx.options
        o.measurements = [fx.measurements[0]]
        o.commitParticipant = nil
        return o
    }

    static let base: Int64 = 1_700_000_000_000_000
    static let hour: Int64 = 3_600_000_000

    /// Commits `steps` groups of random rows spread over about five days (late ones included).
    static func ingest(_ writer: StoreWriter, _ rng: inout SplitMix64, steps: Range<Int>) throws {
        for step in steps {
            let rows = P.randomRows(&rng, count: Int.random(in: 1...200, using: &rng), base: base + Int64(step) * 5 * hour)
            let m = try #require(writer.catalog.measurement(named: "m"))
            try writer.append(P.batch(rows, m))
            try writer.commit()
        }
    }

    static func backfills(_ fx: P.Fixture) -> [RollupBackfill] {
        fx.declaration.rollups.map { RollupBackfill(measurement: fx.declaration, rollup: $0) }
    }

    /// Runs every backfill to completion on `writer`; returns the ranges built.
    @discardableResult
    static func complete(_ writer: StoreWriter, _ fx: P.Fixture) throws -> Int {
        var ranges = 0
        for b in backfills(fx) {
            try b.start(writer)
            while try b.step(writer).range != nil { ranges += 1 }
        }
        return ranges
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func backfilledRollupsEqualTheModel(seed: UInt64) throws {
        let dir = TempDir("rollup-backfill")
        let fx = try P.Fixture(fs: FaultInjectingFileSystem())
        var rng = SplitMix64(seed: seed)
        var writer = try StoreWriter(path: dir.path, options: Self.rawOptions(fx))
        try Self.ingest(writer, &rng, steps: 0..<20)
        writer.close()

        writer = try StoreWriter(path: dir.path, options: fx.options)
        let snap = try writer.snapshot()
        for b in Self.backfills(fx) { #expect(b.state(snap, try writer.backfillProgress()) == .notStarted) }
        let ranges = try Self.complete(writer, fx)
        #expect(ranges >= 4, "rows over about five days: several ranges")
        try P.check(dir.path, fx, "seed \(seed) after backfill")
        let done = try Snapshot.open(path: dir.path)
        let progress = try done.backfillProgress()
        for b in Self.backfills(fx) {
            #expect(b.state(done, progress) == .complete)
            #expect(progress.isComplete(b.storedName, atCommit: done.manifest.commit))
        }
        // Ingest after the backfill (late rows, re-deliveries) keeps every rollup exact.
        try Self.ingest(writer, &rng, steps: 0..<8)
        writer.close()
        try P.check(dir.path, fx, "seed \(seed) after ingest following the backfill")
    }

    /// Rows committed between ranges, in built and unbuilt ranges alike, are counted once.
    @Test(arguments: [4, 5] as [UInt64])
    func ingestBetweenRangesIsCountedOnce(seed: UInt64) throws {
        let dir = TempDir("rollup-backfill-mixed")
        let fx = try P.Fixture(fs: FaultInjectingFileSystem())
        var rng = SplitMix64(seed: seed)
        var writer = try StoreWriter(path: dir.path, options: Self.rawOptions(fx))
        try Self.ingest(writer, &rng, steps: 0..<20)
        writer.close()

        writer = try StoreWriter(path: dir.path, options: fx.options)
        let jobs = Self.backfills(fx)
        for b in jobs { try b.start(writer) }
        var active = jobs
        var round = 0
        let quarter: Int64 = 15 * 60_000_000
        while !active.isEmpty {
            // Rows in the range the next step builds (the maintainer writes, and caches, rollup
            // rows of those unbuilt windows), one range of each unfinished rollup, then rows at
            // the last microsecond of the same 15m windows (merged into the windows the step
            // rebuilt: a cached copy from before the step would be wrong), then new, late and
            // re-delivered rows.
            let m = try #require(writer.catalog.measurement(named: "m"))
            let built = try writer.backfillProgress().entries[jobs[0].storedName]?.builtBelow ?? .min
            let raw = try writer.snapshot().segments(of: m)
            let oldest = raw.map(\.minTime).min() ?? Self.base, newest = raw.map(\.maxTime).max() ?? Self.base
            let next = built == .min ? oldest - oldest % (24 * Self.hour) : built
            // Only where raw rows are already to be built: rows past them would give the
            // backfill a new range each round.
            let ahead = next > newest ? [] : (0..<8).map { k in
                P.Row(vehicle: "veh\(k % 4)", time: next + Int64.random(in: 0..<(24 * Self.hour), using: &rng),
                      kind: ["car", "bus", "bike"][k % 3], v: Int64(k), f: Double(k) / 3)
            }
            if !ahead.isEmpty {
                try writer.append(P.batch(ahead, m))
                try writer.commit()
            }
            active = try active.filter { try $0.step(writer).range != nil }
            let last = ahead.map { r in
                P.Row(vehicle: r.vehicle, time: r.time - r.time % quarter + quarter - 1, kind: r.kind, v: 1000, f: 0.5)
            }
            if !last.isEmpty {
                try writer.append(P.batch(last, m))
                try writer.commit()
            }
            try Self.ingest(writer, &rng, steps: (round % 20)..<(round % 20 + 1))
            round += 1
            // Until complete, a reader is told not to take the rollup as complete.
            let snap = try writer.snapshot()
            let progress = try writer.backfillProgress()
            for b in active { #expect(!progress.isComplete(b.storedName, atCommit: snap.manifest.commit)) }
        }
        #expect(round >= 4)
        writer.close()
        try P.check(dir.path, fx, "seed \(seed) after a backfill with ingest between its ranges")
    }

    /// Steps failed at their crash points (segment fsync, manifest rename, the progress
    /// file's rename) leave a consistent store; a new writer resumes and the rollups end equal
    /// to the model, the same as an uninterrupted backfill's.
    @Test(arguments: [6, 7] as [UInt64])
    func interruptedBackfillResumesToTheSameRollups(seed: UInt64) throws {
        let faults: [Fault] = [
            Fault(.rename, .error(5), pathContains: "MANIFEST"),
            Fault(.fsync, .error(5), pathContains: "segments"),
            Fault(.rename, .error(5), pathContains: "BACKFILL"),
            Fault(.write, .shortWrite, pathContains: "BACKFILL.tmp"),
        ]
        let dir = TempDir("rollup-backfill-crash")
        let reference = TempDir("rollup-backfill-reference")
        let fs = FaultInjectingFileSystem()
        let fx = try P.Fixture(fs: fs)
        for path in [dir.path, reference.path] {
            var rng = SplitMix64(seed: seed)
            let w = try StoreWriter(path: path, options: Self.rawOptions(fx))
            try Self.ingest(w, &rng, steps: 0..<16)
            w.close()
        }
        let clean = try StoreWriter(path: reference.path, options: fx.options)
        try Self.complete(clean, fx)
        clean.close()

        var rng = SplitMix64(seed: seed &* 31)
        var writer = try StoreWriter(path: dir.path, options: fx.options)
        var failures = 0
        for b in Self.backfills(fx) {
            try b.start(writer)
            while true {
                let fault = Int.random(in: 0..<3, using: &rng) == 0 ? faults.randomElement(using: &rng) : nil
                if let fault { fs.arm(fault) }
                do {
                    let step = try b.step(writer)
                    fs.clearFaults()
                    if step.range == nil { break }
                } catch {
                    fs.clearFaults()
                    #expect(fault != nil, "\(error)")
                    failures += 1
                    // As after a kill: a new writer, which removes what the failed step left.
                    writer.close()
                    writer = try StoreWriter(path: dir.path, options: fx.options)
                    #expect(!(try writer.backfillProgress()).isComplete(b.storedName, atCommit: writer.manifest.commit))
                }
            }
        }
        writer.close()
        #expect(failures > 0)
        try P.check(dir.path, fx, "seed \(seed) after an interrupted backfill")
        let a = try Snapshot.open(path: dir.path), r = try Snapshot.open(path: reference.path)
        for d in fx.declaration.rollups { #expect(try P.stored(a, d) == (try P.stored(r, d))) }
    }

    @Test func progressFileRoundTripsAndRefusesDamage() throws {
        var p = BackfillProgress()
        p.entries["m__15m"] = .init(builtBelow: -5, completedAt: 0)
        p.entries["m__1d"] = .init(builtBelow: .max, completedAt: 42)
        let bytes = p.encode()
        #expect(try BackfillProgress.decode(bytes, path: "BACKFILL") == p)
        #expect(!p.isComplete("m__15m", atCommit: 100))
        #expect(!p.isComplete("m__1d", atCommit: 41))
        #expect(p.isComplete("m__1d", atCommit: 42))
        #expect(p.isComplete("m__other", atCommit: 0))
        var bad = bytes
        bad[bad.count / 2] ^= 1
        #expect(throws: StoreError.self) { try BackfillProgress.decode(bad, path: "BACKFILL") }
    }
}
