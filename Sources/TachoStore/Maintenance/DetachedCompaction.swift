import Logging


/// A compaction that holds the writer lock only to plan and to switch (`tacho compact`), as
/// `tacho run` does in-process (FORMAT.md §3.5 "Standalone compaction"):
///
/// 1. under the lock (`reserve`): plan on the current manifest, take `COMPACTING`, record the
///    output numbers there, and commit a manifest whose `next_number` is past them — every
///    writer after this one, in any process, numbers its files above them;
/// 2. without the lock (`Compactor.build`): write the outputs, reading the inputs through a
///    snapshot of the plan's manifest. Ingest in other processes carries on; a writer that
///    opens meanwhile leaves the reserved numbers alone (`COMPACTING` is held);
/// 3. under the lock again (`publish`, on a freshly opened writer: the manifest another
///    process committed meanwhile is re-read): `applyCompaction` keeps each task whose
///    inputs are all still live and discards the rest; then the claim is released.
public final class DetachedCompaction {
    public let plan: CompactionPlan
    /// Nil when the plan is empty (nothing reserved, nothing to claim).
    let claim: CompactionClaim?
    public let layout: StoreLayout

    init(plan: CompactionPlan, claim: CompactionClaim?, layout: StoreLayout) {
        (self.plan, self.claim, self.layout) = (plan, claim, layout)
    }

    /// The numbers reserved for the outputs.
    public var reserved: Range<UInt64>? { claim?.reserved }

    /// Step 2: writes every output (no lock needed; `cancel` stops it).
    public func build(storeOptions: StoreOptions, options: CompactionOptions, cancel: CompactionCancel? = nil) throws -> CompactionOutput {
        do {
            return try Compactor.build(plan, layout: layout, storeOptions: storeOptions, options: options, cancel: cancel)
        } catch {
            abandon(nil, fs: storeOptions.fileSystem)  // build already deleted what it wrote
            throw error
        }
    }

    /// Step 3 on `writer` (which must have been opened after the build, so that its manifest
    /// is the one another process may have committed meanwhile). Releases the claim.
    @discardableResult
    public func publish(_ out: CompactionOutput, on writer: StoreWriter) throws -> CompactionOutput {
        precondition(writer.layout.root == layout.root, "published on another store")
        // On failure applyCompaction has removed the outputs (unless the switch may have
        // happened, when it follows the disk); either way nothing reserved is left to guard.
        defer { claim?.release() }
        // Outputs were written without the lock: publish only files still there, whole (a
        // tacho that predates COMPACTING may have opened the store and removed them).
        var out = out
        let fs = writer.fs
        func fileSize(_ path: String) -> UInt64? {
            fs.status(path, followingLinks: false).flatMap { $0.kind == .regular ? $0.size : nil }
        }
        for i in out.tasks.indices {
            if let o = out.tasks[i].output, fileSize(layout.segmentPath(o.name)) != o.fileSize {
                writer.logger.warning("compaction output missing or changed; not published", metadata: ["file": "\(o.name)"])
                out.tasks[i].applied = false
            }
        }
        if let l = out.ledger, fileSize(layout.indexPath(l.name)) != l.bytesOut {
            writer.logger.warning("merged ledger missing or changed; not published", metadata: ["file": "\(l.name)"])
            out.ledger?.applied = false
        }
        return try writer.applyCompaction(out)
    }

    /// Gives up: deletes `out`'s files (never published) and releases the claim.
    public func abandon(_ out: CompactionOutput?, fs: any StoreFileSystem) {
        if let out {
            for t in out.tasks { if let o = t.output { try? fs.unlink(layout.segmentPath(o.name)) } }
            if let l = out.ledger { try? fs.unlink(layout.indexPath(l.name)) }
        }
        claim?.release()
    }
}

extension StoreWriter {
    /// Step 1 of a detached compaction (`DetachedCompaction`): plans on the last commit,
    /// claims `COMPACTING` (`.locked` when another `tacho compact` holds it), records the
    /// reserved numbers there and commits them (a manifest switch with `next_number` past
    /// them). The caller then closes this writer, builds, and publishes on a new one.
    /// REQUIRES: no open transaction.
    public func reserveDetachedCompaction(_ options: CompactionOptions) throws -> DetachedCompaction {
        guard !hasOpenTransaction else {
            throw StoreError(.invalidArgument, "plan compaction", path: layout.root, "a transaction is open")
        }
        let layout = self.layout
        var plan = CompactionPlanner.plan(
            manifest, catalog: catalog, options: options.at(self.options.clock), defaultLevel: self.options.segment.zstdLevel
        ) { fs.mtimeMicros(layout.segmentPath($0.name)) }
        guard !plan.isEmpty else { return DetachedCompaction(plan: plan, claim: nil, layout: layout) }
        let claim = try CompactionClaim(path: layout.compacting, fs: fs)
        let before = manifest
        var next = manifest
        let first = next.nextNumber
        plan.assignNumbers(from: &next.nextNumber)
        do {
            // The claim names the numbers before any manifest hands them out: a writer that
            // opens after the switch below always finds them.
            try claim.record(first..<next.nextNumber)
            next.commit = before.commit + 1
            try publishManifest(next)
        } catch {
            claim.release()
            throw error
        }
        CrashPoint.hit(CrashPoint.compactionReserved)
        logger.debug("compaction numbers reserved", metadata: ["first": "\(first)", "end": "\(next.nextNumber)"])
        return DetachedCompaction(plan: plan, claim: claim, layout: layout)
    }
}
