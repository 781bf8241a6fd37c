import Logging
import TachoFormat

extension StoreWriter {
    /// True between the first `append` and `commit`/`abort`.
    var hasOpenTransaction: Bool { !buffers.isEmpty || !pendingSegments.isEmpty }

    /// Plans compaction on the last commit and reserves the output files' numbers, so the
    /// outputs sort after every segment they merge and before every segment committed later
    /// (FORMAT.md §3.5). Cheap: reads the manifest and stats segment files.
    /// REQUIRES: no open transaction.
    public func planCompaction(_ options: CompactionOptions) -> CompactionPlan {
        let layout = self.layout
        var plan = CompactionPlanner.plan(
            manifest, catalog: catalog, options: options.at(self.options.clock), defaultLevel: self.options.segment.zstdLevel
        ) { fs.mtimeMicros(layout.segmentPath($0.name)) }
        reserveNumbers(&plan)
        return plan
    }

    func reserveNumbers(_ plan: inout CompactionPlan) {
        precondition(!hasOpenTransaction, "compaction planned inside a transaction")
        plan.assignNumbers(from: &manifest.nextNumber)
    }

    /// Plans, builds and switches in one go, holding the writer throughout (tests, embedders
    /// that own the store). `tacho run` builds on another thread and only calls
    /// `applyCompaction` here; `tacho compact` releases the lock while it builds
    /// (`reserveDetachedCompaction`, `DetachedCompaction`).
    @discardableResult
    public func compact(_ options: CompactionOptions, cancel: CompactionCancel? = nil) throws -> CompactionOutput {
        let plan = planCompaction(options)
        if plan.isEmpty { return CompactionOutput(plan: plan, tasks: [], ledger: nil, bytesWritten: 0, seconds: 0) }
        let out = try Compactor.build(plan, layout: layout, storeOptions: self.options, options: options, cancel: cancel)
        return try applyCompaction(out)
    }

    /// Publishes a finished build: one manifest switch replaces each task's inputs by its
    /// output (and the merged ledger files by the merged one), then the replaced files are
    /// unlinked after the grace period (at once when `urgent`: a disk-budget trim), so readers
    /// of the old snapshot, which open segments on demand, can still read them. A task
    /// whose inputs are no longer all live (retention dropped or trimmed them meanwhile) is
    /// discarded, its output deleted. `watermarks` raise the manifest's (budget trims).
    /// REQUIRES: no open transaction.
    @discardableResult
    public func applyCompaction(_ out: CompactionOutput, watermarks: [UInt8: Int64] = [:], urgent: Bool = false) throws -> CompactionOutput {
        guard !hasOpenTransaction else {
            throw StoreError(.invalidArgument, "apply compaction", path: layout.root, "a transaction is open")
        }
        var result = out
        var next = manifest
        let live = Set(manifest.segments.map(\.name))
        var replaced = Set<String>()
        var discard: [String] = []
        for i in result.tasks.indices {
            let t = result.tasks[i]
            if t.applied && t.task.inputs.allSatisfy({ live.contains($0.name) }) && !t.task.inputs.contains(where: { replaced.contains($0.name) }) {
                replaced.formUnion(t.task.inputs.map(\.name))
            } else {
                result.tasks[i].applied = false
                if let o = t.output { discard.append(layout.segmentPath(o.name)) }
            }
        }
        next.segments.removeAll { replaced.contains($0.name) }
        next.segments.append(contentsOf: result.tasks.filter(\.applied).compactMap(\.output))
        var oldLedgers: [String] = []
        if let l = result.ledger {
            if l.applied && Array(manifest.ledgers.prefix(l.task.inputs.count)) == l.task.inputs {
                next.ledgers = [l.name] + manifest.ledgers.dropFirst(l.task.inputs.count)
                oldLedgers = l.task.inputs
            } else {
                result.ledger?.applied = false
                discard.append(layout.indexPath(l.name))
            }
        }
        for (k, v) in watermarks where v > (next.watermarks[k] ?? .min) { next.watermarks[k] = v }
        let maxNumber = (result.tasks.compactMap { $0.output?.seq } + [result.ledger?.task.outputNumber ?? 0]).max() ?? 0
        next.nextNumber = max(next.nextNumber, maxNumber + 1)
        guard next != manifest else {
            for p in discard { try? fs.unlink(p) }
            return result
        }
        next.commit = manifest.commit + 1
        do {
            try Self.writeManifest(next, layout: layout, fs: fs)
        } catch {
            // The rename may have happened (a failed directory fsync): trust the disk.
            if let onDisk = try? readManifest(layout, fs: fs), onDisk == next {
                manifest = next
            } else {
                for t in result.tasks { if let o = t.output { try? fs.unlink(layout.segmentPath(o.name)) } }
                if let l = result.ledger { try? fs.unlink(layout.indexPath(l.name)) }
                throw error
            }
        }
        manifest = next
        CrashPoint.hit(CrashPoint.compactionSwitched)
        // Published. What the new manifest no longer names goes after the grace period; a
        // failure only leaves an orphan that the next writer open removes. Discarded outputs
        // were never published: no reader can have them.
        removeObsoleteFiles()
        retire(replaced.sorted().map(layout.segmentPath) + oldLedgers.map(layout.indexPath), urgent: urgent)
        for p in discard { try? fs.unlink(p) }
        logApplied(result)
        return result
    }

    private func logApplied(_ r: CompactionOutput) {
        for t in r.tasks {
            guard t.applied else {
                logger.info("compaction output discarded: its inputs changed meanwhile", metadata: [
                    "measurement": "\(t.task.measurementName)", "partition": "\(t.task.partitionLabel)",
                ])
                continue
            }
            logger.info("compacted partition", metadata: [
                "measurement": "\(t.task.measurementName)", "partition": "\(t.task.partitionLabel)",
                "segments_in": "\(t.task.inputs.count)", "bytes_in": "\(t.task.inputBytes)",
                "bytes_out": "\(t.outputBytes)", "rows_out": "\(t.outputRows)", "zstd_level": "\(t.task.zstdLevel)",
            ])
            if t.expiredRows > 0 {
                logger.notice("deleted expired rows", metadata: [
                    "measurement": "\(t.task.measurementName)", "partition": "\(t.task.partitionLabel)",
                    "rows": "\(t.expiredRows)", "before": "\(t.task.cutoff)", "policy": "retention watermark",
                ])
            }
            if t.supersededRows > 0 {
                logger.info("removed superseded row copies", metadata: [
                    "measurement": "\(t.task.measurementName)", "partition": "\(t.task.partitionLabel)",
                    "rows": "\(t.supersededRows)",
                ])
            }
        }
        if let l = r.ledger, l.applied {
            logger.info("merged ledger files", metadata: [
                "files_in": "\(l.task.inputs.count)", "entries_in": "\(l.entriesIn)", "entries_out": "\(l.entriesOut)",
            ])
            if l.entriesOut < l.entriesIn {
                logger.notice("pruned old ledger entries", metadata: [
                    "entries": "\(l.entriesIn - l.entriesOut)", "policy": "ledger max age",
                ])
            }
        }
    }
}

extension CompactionPlan {
    /// Gives each task's output, then the ledger merge, the next file numbers from `next`
    /// (FORMAT.md §3.5: an output's seq is a fresh number, above every input's).
    mutating func assignNumbers(from next: inout UInt64) {
        for i in tasks.indices {
            tasks[i].outputNumber = next
            next += 1
        }
        if ledgerMerge != nil {
            ledgerMerge!.outputNumber = next
            next += 1
        }
    }
}
