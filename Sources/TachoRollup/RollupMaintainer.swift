import Logging
import TachoFormat
import TachoSchema
import TachoStore

/// Keeps rollups exact inside each commit (docs/ARCHITECTURE.md "Rollups"): for every
/// (vehicle, window) the transaction writes raw rows in, the window is recomputed from the raw
/// rows as they will be after the commit — stored and new rows merged, identity replacement
/// applied — and written as rollup rows in the same commit. A group whose rows are all gone
/// from a window it had rows in gets a tombstone (count 0). Re-delivered rows recompute the
/// same rows: nothing changes but the segments' numbers.
///
/// Windows starting before the raw measurement's retention watermark are left as they are:
/// their raw rows are (partly) gone, the rollup is what remains of them.
public struct RollupMaintainer: CommitParticipant {
    /// Rollups by raw measurement name.
    public let rollups: [String: [RollupDeclaration]]
    let logger: Logger

    public init(declarations: [MeasurementDeclaration], logger: Logger = Logger(label: "tacho.rollup")) {
        var r: [String: [RollupDeclaration]] = [:]
        for d in declarations where !d.rollups.isEmpty { r[d.name] = d.rollups }
        rollups = r
        self.logger = logger
    }

    /// The engine schemas of every rollup of `declarations`, for `StoreOptions.measurements`.
    public static func measurements(_ declarations: [MeasurementDeclaration]) throws(ConfigError) -> [Measurement] {
        var out: [Measurement] = []
        for d in declarations { for r in d.rollups { out.append(try r.measurement(of: d)) } }
        return out
    }

    public func derivedRows(_ view: TransactionView) throws -> [RowBatch] {
        guard !rollups.isEmpty else { return [] }
        let catalog = view.snapshot.catalog
        // The times each vehicle got rows at, per raw measurement this commit wrote.
        var times: [UInt8: [String: [Int64]]] = [:]
        for seg in view.written {
            guard let m = catalog.measurement(id: seg.measurementID), rollups[m.name] != nil else { continue }
            let reader = try view.snapshot.reader(seg)
            var chunk = DecodedChunk(measurement: m)
            let none = [Bool](repeating: false, count: m.columns.count)
            for entry in reader.footer.vehicles {
                for c in entry.chunks {
                    do { try reader.decode(c, columns: none, into: &chunk) } catch let e as SegmentError { throw StoreError.corrupt(e) }
                    times[m.id, default: [:]][entry.vehicle, default: []].append(contentsOf: chunk.times)
                }
            }
        }
        var out: [RowBatch] = []
        for (id, byVehicle) in times.sorted(by: { $0.key < $1.key }) {
            guard let source = catalog.measurement(id: id) else { continue }
            let watermark = view.snapshot.manifest.watermarks[id] ?? .min
            for rollup in rollups[source.name] ?? [] {
                guard let stored = catalog.measurement(named: rollup.storedName(of: source.name)),
                      let computer = RollupComputer(rollup: rollup, source: source)
                else {
                    logger.warning("rollup not in the store's catalog; not maintained", metadata: ["rollup": "\(rollup.displayName(of: source.name))"])
                    continue
                }
                var rows: [(RollupKey, RollupAccumulator?)] = []
                for (vehicle, ts) in byVehicle.sorted(by: { $0.key < $1.key }) {
                    let starts = Set(ts.map { windowStart($0, width: computer.width) }).filter { $0 >= watermark }.sorted()
                    guard !starts.isEmpty else { continue }
                    let fresh = try computer.compute(view.snapshot, vehicle: vehicle, starts: starts)
                    let old = try computer.storedKeys(view.snapshot, stored: stored, vehicle: vehicle, starts: starts)
                    for k in fresh.keys.sorted() { rows.append((k, fresh[k])) }
                    for k in old.subtracting(fresh.keys).sorted() { rows.append((k, nil)) }
                }
                if !rows.isEmpty { out.append(computer.batch(rows, stored: stored)) }
            }
        }
        return out
    }
}
