import Logging
import Synchronization
import TachoFormat
import TachoSchema
import TachoStore

/// Keeps rollups exact inside each commit (docs/ARCHITECTURE.md "Rollups"). For every
/// (vehicle, window) the transaction writes raw rows in, the window's rollup rows become the
/// aggregate of the raw rows as they will be after the commit, written in the same commit, in
/// one of two ways:
///
/// - **merge** (the common case): when no stored raw row of the vehicle lies in the time
///   range of the transaction's rows in that window (so none of them replaces a stored
///   identity) and the transaction's own segments do not overlap there, the transaction's
///   rows are added, in scan order, to the window's stored rollup rows (from the maintainer's
///   cache of the windows it wrote, else read from the store). Count, integer sums (wrapping),
///   min, max, first and last are then exactly what a recomputation gives. A float sum is
///   merged only when the new rows also follow every stored row of the window (the sum then
///   continues in scan order, bit for bit); otherwise the window is recomputed.
/// - **recompute** (the fallback): the window is aggregated again from the raw rows through
///   the view (stored and new rows merged, identity replacement applied), and a group whose
///   rows are all gone from it gets a tombstone (count 0). Late rows among stored ones,
///   re-delivered and replaced identities take this path.
///
/// Windows starting before the raw measurement's retention watermark are left as they are:
/// their raw rows are (partly) gone, the rollup is what remains of them.
public struct RollupMaintainer: CommitParticipant {
    /// Rollups by raw measurement name.
    public let rollups: [String: [RollupDeclaration]]
    /// False: every window is recomputed from the raw rows (the behaviour before merging;
    /// for comparisons and benchmarks).
    public let incremental: Bool
    let logger: Logger
    let cache: RollupWindowCache
    let counters: Counters

    /// What the maintainer did so far (tests, benchmarks).
    public struct Statistics: Sendable, Equatable {
        /// Windows whose new rows were merged into the stored rows.
        public var merged = 0
        /// Windows recomputed from the raw rows.
        public var recomputed = 0
        /// Merged windows whose stored rows were read from the store (not in the cache).
        public var loaded = 0

        public init() {}
    }

    final class Counters: Sendable {
        let value = Mutex(Statistics())
    }

    public var statistics: Statistics { counters.value.withLock { $0 } }

    public init(declarations: [MeasurementDeclaration], incremental: Bool = true, logger: Logger = Logger(label: "tacho.rollup")) {
        var r: [String: [RollupDeclaration]] = [:]
        for d in declarations where !d.rollups.isEmpty { r[d.name] = d.rollups }
        rollups = r
        self.incremental = incremental
        self.logger = logger
        cache = RollupWindowCache()
        counters = Counters()
    }

    /// The engine schemas of every rollup of `declarations`, for `StoreOptions.measurements`.
    public static func measurements(_ declarations: [MeasurementDeclaration]) throws(ConfigError) -> [Measurement] {
        var out: [Measurement] = []
        for d in declarations { for r in d.rollups { out.append(try r.measurement(of: d)) } }
        return out
    }

    /// One chunk of the transaction's raw rows: a vehicle's rows of one written segment.
    struct Piece {
        var segment: Int
        var chunk: DecodedChunk
    }

    /// Rows `rows` of `piece` fall in one window.
    struct Slice {
        var piece: Int
        var rows: Range<Int>
        var lo: Int64
        var hi: Int64
    }

    public func derivedRows(_ view: TransactionView) throws -> [RowBatch] {
        guard !rollups.isEmpty else { return [] }
        cache.sync(view)
        let catalog = view.snapshot.catalog
        // Rollup rows in the transaction itself were written by someone else (a backfill
        // through this writer, `RollupBackfill`): the windows they replace may be cached.
        let storedNames = Set(rollups.flatMap { m, rs in rs.map { $0.storedName(of: m) } })
        if view.written.contains(where: { catalog.measurement(id: $0.measurementID).map { storedNames.contains($0.name) } ?? false }) {
            cache.clear()
        }
        // The transaction's rows per raw measurement with rollups, per vehicle.
        var pieces: [UInt8: [String: [Piece]]] = [:]
        for (k, seg) in view.written.enumerated() {
            guard let m = catalog.measurement(id: seg.measurementID), let declared = rollups[m.name] else { continue }
            var wanted = [Bool](repeating: false, count: m.columns.count)
            for r in declared { for c in r.by + r.of { if let i = m.columnIndex(named: c) { wanted[i] = true } } }
            let reader = try view.snapshot.reader(seg)
            for entry in reader.footer.vehicles {
                for c in entry.chunks {
                    var chunk = DecodedChunk(measurement: m)
                    do { try reader.decode(c, columns: wanted, into: &chunk) } catch let e as SegmentError { throw StoreError.corrupt(e) }
                    pieces[m.id, default: [:]][entry.vehicle, default: []].append(Piece(segment: k, chunk: chunk))
                }
            }
        }
        let writtenNames = Set(view.written.map(\.name))
        var out: [RowBatch] = []
        var staged: [WindowKey: WindowGroups] = [:]
        var stats = Statistics()
        for (id, byVehicle) in pieces.sorted(by: { $0.key < $1.key }) {
            guard let source = catalog.measurement(id: id) else { continue }
            let watermark = view.snapshot.manifest.watermarks[id] ?? .min
            // The committed segments of the measurement around the transaction's rows (a day
            // either side covers the widest window that divides a day; wider windows look at
            // every segment): where a stored row may conflict.
            var lo = Int64.max, hi = Int64.min
            for vp in byVehicle.values { for p in vp { if let a = p.chunk.times.first, let b = p.chunk.times.last { lo = min(lo, a); hi = max(hi, b) } } }
            let reach = (rollups[source.name] ?? []).map(\.every.micros).max() ?? 0
            let committed = view.snapshot.segments(of: source, from: lo &- reach, to: hi &+ reach)
                .filter { !writtenNames.contains($0.name) }
            for rollup in rollups[source.name] ?? [] {
                guard let stored = catalog.measurement(named: rollup.storedName(of: source.name)),
                      let computer = RollupComputer(rollup: rollup, source: source)
                else {
                    logger.warning("rollup not in the store's catalog; not maintained", metadata: ["rollup": "\(rollup.displayName(of: source.name))"])
                    continue
                }
                let width = computer.width
                // A float sum merges only onto stored rows that all come before the new ones.
                let floatSum = rollup.keeps(.sum) && computer.ofIndex.contains { source.columns[$0].type == .float64 }
                var rows: [(RollupKey, RollupAccumulator?)] = []
                var merges: [(vehicle: String, start: Int64, slices: [Slice])] = []
                for (vehicle, vp) in byVehicle.sorted(by: { $0.key < $1.key }) {
                    // The slices of each window, from every piece of the vehicle.
                    var windows: [Int64: [Slice]] = [:]
                    for (p, piece) in vp.enumerated() {
                        let times = piece.chunk.times
                        var i = 0
                        while i < times.count {
                            let w = windowStart(times[i], width: width)
                            let j = upperIndex(times, below: w &+ width, from: i)
                            if w >= watermark { windows[w, default: []].append(Slice(piece: p, rows: i..<j, lo: times[i], hi: times[j - 1])) }
                            i = j
                        }
                    }
                    var recompute: [Int64] = []
                    for (w, slices) in windows {
                        if incremental, try mergeable(slices, vp, window: w, width: width, floatSum: floatSum, vehicle: vehicle, committed: committed, view.snapshot) {
                            merges.append((vehicle, w, slices))
                        } else {
                            recompute.append(w)
                        }
                    }
                    guard !recompute.isEmpty else { continue }
                    recompute.sort()
                    stats.recomputed += recompute.count
                    let fresh = try computer.compute(view.snapshot, vehicle: vehicle, starts: recompute)
                    let old = try computer.storedKeys(view.snapshot, stored: stored, vehicle: vehicle, starts: recompute)
                    for k in fresh.keys.sorted() { rows.append((k, fresh[k])) }
                    for k in old.subtracting(fresh.keys).sorted() { rows.append((k, nil)) }
                    for w in recompute { staged[WindowKey(rollup: stored.name, vehicle: vehicle, start: w)] = [:] }
                    for (k, acc) in fresh { staged[WindowKey(rollup: stored.name, vehicle: vehicle, start: k.start)]?[k.group] = acc }
                }
                if !merges.isEmpty {
                    stats.merged += merges.count
                    // The stored rows of the merged windows: cached, or read in one scan.
                    var base: [WindowKey: WindowGroups] = [:]
                    var missing: [WindowKey] = []
                    for m in merges {
                        let key = WindowKey(rollup: stored.name, vehicle: m.vehicle, start: m.start)
                        if let g = cache.groups(key) { base[key] = g } else { missing.append(key) }
                    }
                    if !missing.isEmpty {
                        stats.loaded += missing.count
                        for (k, g) in try computer.storedGroups(view.snapshot, stored: stored, windows: missing) { base[k] = g }
                    }
                    var cells: [ColumnValue?] = []
                    cells.reserveCapacity(computer.ofIndex.count)
                    let single = computer.byIndex.count == 1 ? computer.byIndex[0] : nil
                    for m in merges.sorted(by: { a, b in a.vehicle != b.vehicle ? a.vehicle.utf8.lexicographicallyPrecedes(b.vehicle.utf8) : a.start < b.start }) {
                        let key = WindowKey(rollup: stored.name, vehicle: m.vehicle, start: m.start)
                        guard let vp = byVehicle[m.vehicle] else { continue }
                        let old = base[key] ?? [:]
                        // The groups the new rows touch, their accumulators starting from the
                        // stored ones.
                        var keys: [[ColumnValue?]] = []
                        var accs: [RollupAccumulator] = []
                        var index: [[ColumnValue?]: Int] = [:]
                        for s in m.slices.sorted(by: { $0.lo < $1.lo }) {
                            let chunk = vp[s.piece].chunk
                            let cols = chunk.columns
                            // With one grouping column, a row's group is found by its code (a
                            // dictionary id, an integer) without building the group's values.
                            let byValues = single.map { cols[$0].values }
                            var local: [UInt64: Int] = [:]
                            for i in s.rows {
                                let code: UInt64? = computer.byIndex.isEmpty ? 0 : byValues.flatMap { RollupComputer.code(i, of: $0) }
                                let slot: Int
                                if let code, let known = local[code] {
                                    slot = known
                                } else {
                                    let group = computer.byIndex.map { ColumnValue.at(i, of: cols[$0].values, dictionary: cols[$0].dictionary) }
                                    if let k = index[group] {
                                        slot = k
                                    } else {
                                        slot = accs.count
                                        index[group] = slot
                                        keys.append(group)
                                        accs.append(old[group] ?? RollupAccumulator(columns: computer.ofIndex.count))
                                    }
                                    if let code { local[code] = slot }
                                }
                                cells.removeAll(keepingCapacity: true)
                                for c in computer.ofIndex { cells.append(ColumnValue.at(i, of: cols[c].values, dictionary: cols[c].dictionary)) }
                                accs[slot].add(time: chunk.times[i], cells)
                            }
                        }
                        var groups = old
                        for (k, g) in keys.enumerated() {
                            groups[g] = accs[k]
                            rows.append((RollupKey(vehicle: m.vehicle, start: m.start, group: g), accs[k]))
                        }
                        staged[key] = groups
                    }
                }
                if !rows.isEmpty { out.append(computer.batch(rows, stored: stored)) }
            }
        }
        cache.stage(staged, view: view)
        counters.value.withLock { c in
            c.merged += stats.merged
            c.recomputed += stats.recomputed
            c.loaded += stats.loaded
        }
        return out
    }

    /// Whether the transaction's rows of one vehicle in the window `[w, w + width)` (`slices`)
    /// can be merged into the window's stored rollup rows: no two written segments hold rows
    /// of it at a common time (they could share an identity), no committed segment holds a row
    /// of the vehicle between the earliest and the latest new row (it could be replaced, and
    /// first/last could tie), and with a float sum none after the earliest new row either.
    func mergeable(
        _ slices: [Slice], _ pieces: [Piece], window w: Int64, width: Int64, floatSum: Bool, vehicle: String,
        committed: [SegmentMeta], _ snapshot: Snapshot
    ) throws -> Bool {
        guard let first = slices.first else { return false }
        var lo = first.lo, hi = first.hi
        for (a, s) in slices.enumerated() {
            lo = min(lo, s.lo)
            hi = max(hi, s.hi)
            for t in slices[(a + 1)...] where pieces[t.piece].segment != pieces[s.piece].segment && t.lo <= s.hi && s.lo <= t.hi {
                return false
            }
        }
        if floatSum { hi = w &+ width &- 1 }
        for seg in committed where seg.minTime <= hi && seg.maxTime >= lo {
            guard let entry = try snapshot.footer(seg).vehicle(vehicle) else { continue }
            if entry.chunks.contains(where: { $0.minTime <= hi && $0.maxTime >= lo }) { return false }
        }
        return true
    }
}

/// The first index at or after `from` whose time is ≥ `bound` (`times` sorted).
func upperIndex(_ times: [Int64], below bound: Int64, from: Int) -> Int {
    var lo = from, hi = times.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if times[mid] < bound { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
