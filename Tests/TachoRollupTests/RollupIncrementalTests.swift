import Testing
import TachoFaults
import TachoFormat
import TachoSchema
import TachoStore
import TachoTestSupport
@testable import TachoRollup

/// The maintainer's two paths (docs/ARCHITECTURE.md "Rollups"): a transaction's rows merged
/// into the stored window rows, and the fallback that recomputes a window from the raw rows.
/// Each case checks which path ran (`RollupMaintainer.statistics`) and that every rollup row
/// equals the model's aggregate of the raw rows (`RollupPropertyTests.check`).
@Suite struct RollupIncrementalTests {
    typealias P = RollupPropertyTests
    static let base: Int64 = 1_700_006_400_000_000  // a day boundary (UTC midnight)
    static let minute: Int64 = 60_000_000

    static func maintainer(_ fx: P.Fixture) throws -> RollupMaintainer {
        try #require(fx.options.commitParticipant as? RollupMaintainer)
    }

    static func row(_ vehicle: String, _ minutes: Int64, _ kind: String = "car", v: Int64 = 1, f: Double? = 1) -> P.Row {
        P.Row(vehicle: vehicle, time: base + minutes * minute, kind: kind, v: v, f: f)
    }

    static func commit(_ w: StoreWriter, _ rows: [P.Row]) throws {
        let m = try #require(w.catalog.measurement(named: "m"))
        try w.append(P.batch(rows, m))
        try w.commit()
    }

    /// Rows that arrive in time order, hour after hour (the common case), are all merged:
    /// no window is recomputed, and a window touched again comes from the cache.
    @Test func inOrderCommitsOnlyMerge() throws {
        let dir = TempDir("rollup-inc")
        let fx = try P.Fixture(fs: FaultInjectingFileSystem())
        var w = try StoreWriter(path: dir.path, options: fx.options)
        for hour in Int64(0)..<30 {
            var rows: [P.Row] = []
            for v in 0..<3 {
                for k in Int64(0)..<20 { rows.append(Self.row("veh\(v)", hour * 60 + k * 3, ["car", "bus"][Int(k % 2)], v: k, f: Double(k) / 3)) }
            }
            try Self.commit(w, rows)
            if hour == 12 {  // a reopened writer keeps merging
                w.close()
                w = try StoreWriter(path: dir.path, options: fx.options)
            }
            try P.check(dir.path, fx, "hour \(hour)")
        }
        w.close()
        let s = try Self.maintainer(fx).statistics
        #expect(s.recomputed == 0)
        #expect(s.merged > 0)
        // The daily and hourly windows are touched by many commits; only their first touch
        // (and the 15-minute windows, new each time) may read the store.
        #expect(s.loaded < s.merged)
    }

    /// A late row among stored rows of its window, and a re-delivered row (the same identity)
    /// recompute their windows; windows the commit touches elsewhere still merge.
    @Test func lateAndReplacedRowsRecompute() throws {
        let dir = TempDir("rollup-inc")
        let fx = try P.Fixture(fs: FaultInjectingFileSystem())
        let w = try StoreWriter(path: dir.path, options: fx.options)
        try Self.commit(w, [Self.row("veh0", 0), Self.row("veh0", 10), Self.row("veh0", 20), Self.row("veh1", 0)])
        var before = try Self.maintainer(fx).statistics
        // veh0 at minute 5 lies among stored rows of all its windows; veh1 at minute 30 does not.
        try Self.commit(w, [Self.row("veh0", 5, v: 7), Self.row("veh1", 30, v: 3)])
        try P.check(dir.path, fx, "late row")
        var after = try Self.maintainer(fx).statistics
        #expect(after.recomputed - before.recomputed == 3)  // veh0: 15m, hourly, 1d
        #expect(after.merged - before.merged == 3)  // veh1: no stored row at or after minute 30
        before = after
        // The same identity again, with another value: replaces the stored row.
        try Self.commit(w, [Self.row("veh0", 10, v: 99, f: nil)])
        try P.check(dir.path, fx, "replaced row")
        after = try Self.maintainer(fx).statistics
        #expect(after.recomputed - before.recomputed == 3)
        #expect(after.merged == before.merged)
        w.close()
    }

    /// A float sum merges only onto stored rows that all precede the new ones: rows earlier
    /// than the stored ones (but not among them) merge into the count-only daily window and
    /// recompute the hourly float sum, whose value depends on the order of addition.
    @Test func floatSumRecomputesWhenNewRowsComeFirst() throws {
        let dir = TempDir("rollup-inc")
        let fx = try P.Fixture(fs: FaultInjectingFileSystem())
        let w = try StoreWriter(path: dir.path, options: fx.options)
        try Self.commit(w, [Self.row("veh0", 30, f: 1e16), Self.row("veh0", 31, f: 1)])
        let before = try Self.maintainer(fx).statistics
        try Self.commit(w, [Self.row("veh0", 1, f: 1), Self.row("veh0", 2, f: 1)])
        try P.check(dir.path, fx, "earlier rows")
        let after = try Self.maintainer(fx).statistics
        #expect(after.recomputed - before.recomputed == 1)  // the hourly window
        #expect(after.merged - before.merged == 2)  // the new 15m window and the daily one
        w.close()
    }

    /// A commit that fails after the maintainer ran leaves nothing in its cache: the next
    /// commit merges into what the store holds, not into the failed commit's windows.
    @Test(arguments: [false, true])
    func failedCommitLeavesNoTrace(reopen: Bool) throws {
        let dir = TempDir("rollup-inc")
        let fs = FaultInjectingFileSystem()
        let fx = try P.Fixture(fs: fs)
        var w = try StoreWriter(path: dir.path, options: fx.options)
        try Self.commit(w, [Self.row("veh0", 0), Self.row("veh0", 1)])
        fs.arm(Fault(.rename, .error(5), pathContains: "MANIFEST"))
        #expect(throws: (any Error).self) { try Self.commit(w, [Self.row("veh0", 2, v: 50), Self.row("veh0", 3, v: 60)]) }
        fs.clearFaults()
        if reopen {
            w.close()
            w = try StoreWriter(path: dir.path, options: fx.options)
        }
        try Self.commit(w, [Self.row("veh0", 4), Self.row("veh0", 70)])
        try P.check(dir.path, fx, "after a failed commit")
        #expect(try Self.maintainer(fx).statistics.recomputed == 0)
        w.close()
    }

    /// A row that moves to another group by identity replacement leaves a tombstone in the
    /// group it left (the recompute path), and the merge path keeps adding to the new group.
    @Test func replacementMovesARowBetweenGroups() throws {
        let config = P.config(rollups: #"[{ every = "1h", by = ["v"], fns = ["count"] }]"#)
        let c = try TachoConfig.parse(config, file: nil, includeDefaults: false)
        let d = try #require(c.measurement(named: "m"))
        let maintainer = RollupMaintainer(declarations: [d])
        var o = StoreOptions()
        o.logger.logLevel = .critical
        o.measurements = [try d.measurement(id: 0)] + (try RollupMaintainer.measurements([d]))
        o.commitParticipant = maintainer
        let dir = TempDir("rollup-inc")
        let w = try StoreWriter(path: dir.path, options: o)
        try Self.commit(w, [Self.row("veh0", 0, v: 1), Self.row("veh0", 1, v: 1)])
        try Self.commit(w, [Self.row("veh0", 1, v: 2)])  // moves minute 1 from group 1 to 2
        try Self.commit(w, [Self.row("veh0", 0, v: 2)])  // and minute 0: group 1 is empty
        try Self.commit(w, [Self.row("veh0", 5, v: 2)])  // merged: group 2 has 3 rows
        w.close()
        let snap = try Snapshot.open(path: dir.path)
        let stored = try #require(snap.catalog.measurement(named: "m__1h"))
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(stored))
        var got: [String] = []
        let vi = try #require(stored.columnIndex(named: "v")), ci = try #require(stored.columnIndex(named: "count"))
        while let b = try cursor.next() {
            for i in b.range { got.append("v=\(b.chunk.columns[vi].values.ints[i]) count=\(b.chunk.columns[ci].values.ints[i])") }
        }
        #expect(got.sorted() == ["v=1 count=0", "v=2 count=3"])
        #expect(maintainer.statistics.recomputed == 2)
        #expect(maintainer.statistics.merged == 2)
    }
}
