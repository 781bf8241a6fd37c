import TachoFormat
import TachoSchema
import TachoStore

/// Builds a rollup declared on a store that already holds raw rows of its measurement
/// (docs/ARCHITECTURE.md "Backfill"): range by range, oldest first, each range's windows
/// recomputed from the raw rows exactly as the commit-time maintainer recomputes a window
/// (`RollupComputer`, tombstones for stored groups with no rows left), appended and published
/// by one commit of the store's writer, then recorded in the store's `BACKFILL` file
/// (`BackfillProgress`). Every step runs under the writer lock, so a raw row committed before
/// a step is aggregated by it, and one committed after is merged by the maintainer into the
/// built window: each counted once.
///
/// Crash safety: a step's rows and its progress are published in that order, each
/// atomically (manifest switch, then rename of `BACKFILL.tmp`). A crash before the switch
/// leaves neither; between the two, the rows without the progress, and the next run computes
/// the same range again (its rows replace themselves by identity).
public struct RollupBackfill {
    public let measurement: MeasurementDeclaration
    public let rollup: RollupDeclaration

    public init(measurement: MeasurementDeclaration, rollup: RollupDeclaration) {
        self.measurement = measurement
        self.rollup = rollup
    }

    /// The stored (derived) measurement's name, the progress file's key.
    public var storedName: String { rollup.storedName(of: measurement.name) }

    /// Window starts and ranges are in µs; a range is one day, or one window when the window
    /// is wider (a multiple of a day), so it always holds whole windows.
    public var rangeWidth: Int64 {
        let day: Int64 = 86_400_000_000
        return max(rollup.every.micros, day)
    }

    /// What the store at `writer` needs for this rollup.
    public enum State: Equatable, Sendable {
        /// Nothing: the store holds no raw rows, or the rollup is complete.
        case complete
        /// Not started: the store holds raw rows and neither the rollup nor its progress.
        case notStarted
        /// Started: windows below `builtBelow` are built.
        case building(builtBelow: Int64)
    }

    /// This rollup's state as `snapshot` and `progress` (read after it) describe it.
    public func state(_ snapshot: Snapshot, _ progress: BackfillProgress) -> State {
        if let e = progress.entries[storedName] {
            return e.completedAt != 0 ? .complete : .building(builtBelow: e.builtBelow)
        }
        if snapshot.manifest.segments.contains(where: { snapshot.catalog.measurement(id: $0.measurementID)?.name == storedName }) {
            return .complete  // kept by every commit since its first rows
        }
        guard let raw = snapshot.catalog.measurement(named: measurement.name), !snapshot.segments(of: raw).isEmpty else { return .complete }
        return .notStarted
    }

    /// The raw rows' time span still to build from `from` on, nil when none is left.
    func remaining(_ snapshot: Snapshot, from: Int64) -> (lo: Int64, hi: Int64)? {
        guard let raw = snapshot.catalog.measurement(named: measurement.name) else { return nil }
        var lo = Int64.max, hi = Int64.min
        for s in snapshot.segments(of: raw, from: from) {
            lo = min(lo, s.minTime)
            hi = max(hi, s.maxTime)
        }
        guard lo <= hi else { return nil }
        return (max(lo, from), hi)
    }

    /// An estimate of the ranges left (for a progress bar): the span from the next range to
    /// the newest raw row, in ranges.
    public func rangesLeft(_ snapshot: Snapshot, builtBelow: Int64) -> Int {
        guard let r = remaining(snapshot, from: builtBelow) else { return 0 }
        let start = windowStart(r.lo, width: rangeWidth)
        return Int((r.hi - start) / rangeWidth) + 1
    }

    /// What one step did.
    public struct Step: Sendable, Equatable {
        /// The range built, `[from, to)`; nil when the backfill completed (nothing was left).
        public var range: Range<Int64>?
        /// Rollup rows written (tombstones included).
        public var rows: Int
        public var commit: UInt64
    }

    /// Records the backfill as started (windows below `Int64.min` built: none) unless the
    /// progress file already names the rollup. Must precede any commit that writes rollup rows
    /// on a store whose raw rows the rollup does not cover yet, or a reader could take those
    /// rows as complete.
    public func start(_ writer: StoreWriter) throws {
        var progress = try writer.backfillProgress()
        guard progress.entries[storedName] == nil else { return }
        progress.entries[storedName] = BackfillProgress.Entry(builtBelow: .min, completedAt: 0)
        try writer.recordBackfill(progress)
    }

    /// Builds the next range (the oldest not built that holds raw rows) and records it, or,
    /// when none is left, records the rollup complete as of the writer's last commit.
    /// REQUIRES: `start` was called; `writer` declares the rollup's measurement (its catalog).
    public func step(_ writer: StoreWriter) throws -> Step {
        var progress = try writer.backfillProgress()
        guard var entry = progress.entries[storedName] else {
            throw StoreError(.invalidArgument, "backfill \(storedName)", path: writer.layout.backfill, "the backfill was not started (no entry for \(storedName))")
        }
        guard entry.completedAt == 0 else { return Step(range: nil, rows: 0, commit: entry.completedAt) }
        let snapshot = try writer.snapshot()
        guard let source = snapshot.catalog.measurement(named: measurement.name),
              let stored = snapshot.catalog.measurement(named: storedName),
              let computer = RollupComputer(rollup: rollup, source: source)
        else {
            throw StoreError(
                .invalidArgument, "backfill \(storedName)", path: writer.layout.root,
                "expected the store's catalog to hold '\(measurement.name)' with the columns \(rollup.by + rollup.of) and the rollup '\(storedName)'")
        }
        guard let lo = remaining(snapshot, from: entry.builtBelow)?.lo else {
            // Every window with raw rows is built, as of the last commit.
            entry.completedAt = max(writer.manifest.commit, 1)
            progress.entries[storedName] = entry
            try writer.recordBackfill(progress)
            return Step(range: nil, rows: 0, commit: entry.completedAt)
        }
        let width = rollup.every.micros
        let from = windowStart(lo, width: rangeWidth)
        let (to, overflow) = from.addingReportingOverflow(rangeWidth)
        let end = overflow ? Int64.max - Int64.max % width : to
        var starts: [Int64] = []
        var w = windowStart(max(from, entry.builtBelow), width: width)
        while w < end {
            starts.append(w)
            let (next, o) = w.addingReportingOverflow(width)
            if o { break }
            w = next
        }
        // The windows' rows recomputed from the raw rows as the writer's last commit holds
        // them, and a tombstone for every stored group left without rows (written there by
        // commits before this range was built).
        let fresh = try computer.compute(snapshot, vehicles: nil, starts: starts)
        let old = try computer.storedKeys(snapshot, stored: stored, vehicles: nil, starts: starts)
        var rows: [(RollupKey, RollupAccumulator?)] = fresh.map { ($0.key, $0.value) }
        for k in old.subtracting(fresh.keys) { rows.append((k, nil)) }
        rows.sort { $0.0 < $1.0 }  // by vehicle: the batch interns each vehicle once
        var commit = writer.manifest.commit
        if !rows.isEmpty {
            try writer.append(computer.batch(rows, stored: stored))
            commit = try writer.commit().commit
        }
        entry.builtBelow = end
        progress.entries[storedName] = entry
        try writer.recordBackfill(progress)
        return Step(range: from..<end, rows: rows.count, commit: commit)
    }
}
