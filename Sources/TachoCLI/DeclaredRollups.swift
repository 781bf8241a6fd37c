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

    /// Refuses a rollup declared on a store that already holds rows of its measurement when
    /// no backfill of it has started (`tacho rollup backfill`): its rows would cover only later
    /// commits. Once one has started (the store's BACKFILL file names it), commits keep the
    /// windows it built exact, and `tacho agg` reads the rollup only once it is complete.
    func checkRollupsNeedNoBackfill(_ snapshot: Snapshot?) throws {
        guard let snapshot, hasRollups else { return }
        let progress = try snapshot.backfillProgress()
        for d in measurements {
            for r in d.rollups where RollupBackfill(measurement: d, rollup: r).state(snapshot, progress) == .notStarted {
                throw ValidationError(
                    "\(path ?? "built-in declarations"): rollup \(r.displayName(of: d.name)): the store already holds rows of "
                        + "'\(d.name)': build the rollup from them first with `tacho rollup backfill` (interruptible and "
                        + "resumable; once it has started, ingest may run again before it completes)")
            }
        }
    }
}

extension ReadScope {
    /// The declared rollups of `m` the store holds, as `tacho agg` reads them (a rollup
    /// declared but never written, e.g. before the first ingest with it, is not one).
    /// A rollup whose backfill is not complete as of the snapshot's commit (BACKFILL, FORMAT.md
    /// §9) is not one either: the raw rows answer its ranges. An unreadable BACKFILL file is
    /// warned about and no rollup is read (the raw rows give the same answer).
    func rollupTiers(of m: Measurement, in snapshot: Snapshot) -> [RollupTier] {
        guard let d = declarations.first(where: { $0.name == m.name }), !d.rollups.isEmpty else { return [] }
        let progress: BackfillProgress
        do {
            progress = try snapshot.backfillProgress()
        } catch {
            printError("warning: \(error); answering from the raw rows")
            return []
        }
        return d.rollups.compactMap { r in
            guard progress.isComplete(r.storedName(of: d.name), atCommit: snapshot.manifest.commit) else { return nil }
            return r.tier(of: d.name, in: snapshot.catalog)
        }
    }
}
