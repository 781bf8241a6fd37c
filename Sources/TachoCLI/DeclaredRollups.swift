import ArgumentParser
import TachoFormat
import TachoOutput
import TachoQuery
import TachoRollup
import TachoSchema
import TachoStore

/// The declared rollups of this process (docs/CONFIG.md "Rollups"): their stored measurements
/// join the engine's schemas, and a `RollupMaintainer` keeps them in every commit of the
/// commands that write rows (`tacho ingest`, `tacho run`, `tacho compact`).
extension LoadedConfig {
    /// True when any declared measurement has a rollup.
    var hasRollups: Bool { measurements.contains { !$0.rollups.isEmpty } }

    /// The engine's schemas of every declared rollup (none when nothing declares one).
    func rollupMeasurements() throws -> [Measurement] {
        do {
            return try RollupMaintainer.measurements(measurements)
        } catch {
            throw ValidationError("\(path ?? "built-in declarations"): \(error)")
        }
    }

    /// The commit participant for `StoreOptions.commitParticipant`: nil when nothing declares
    /// a rollup (commits are then exactly as before rollups existed).
    func rollupParticipant() -> (any CommitParticipant)? {
        hasRollups ? RollupMaintainer(declarations: measurements) : nil
    }

    /// Refuses a rollup declared on a store that already holds rows of its measurement but not
    /// the rollup itself: backfill is not built, so its buckets would cover only later rows.
    func checkRollupsNeedNoBackfill(_ catalog: Catalog?, _ manifest: Manifest?) throws {
        guard let catalog, let manifest, hasRollups else { return }
        for d in measurements {
            guard let source = catalog.measurement(named: d.name) else { continue }
            let hasRows = manifest.segments.contains { $0.measurementID == source.id }
            guard hasRows else { continue }
            for r in d.rollups where catalog.measurement(named: r.storedName(of: d.name)) == nil {
                throw ValidationError(
                    "\(path ?? "built-in declarations"): rollup \(r.displayName(of: d.name)): the store already holds rows of "
                        + "'\(d.name)' and backfill is not built yet: declare rollups on a new store")
            }
        }
    }
}

extension ReadScope {
    /// The declared rollups of `m` the store holds, as `tacho agg` reads them (a rollup
    /// declared but never written, e.g. before the first ingest with it, is not one).
    func rollupTiers(of m: Measurement, in catalog: Catalog) -> [RollupTier] {
        guard let d = declarations.first(where: { $0.name == m.name }) else { return [] }
        return d.rollups.compactMap { $0.tier(of: d.name, in: catalog) }
    }
}
