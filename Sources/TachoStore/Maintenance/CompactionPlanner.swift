import TachoFormat

// MARK: - Planning

public enum CompactionPlanner {
    /// The tasks worth doing on `manifest` (numbers not reserved yet). Pure: `tacho compact
    /// --dry-run` calls it on a snapshot without taking the writer lock.
    ///
    /// A closed partition (end ≤ now) is merged whole when it has 2+ segments, holds rows
    /// below the watermark, or is cold and not yet rewritten cold. An open partition merges
    /// its newest small segments (size-tiered) once there are `openPartitionMinSegments`.
    /// `writtenAt` gives a segment file's mtime in µs (to tell whether a cold partition's one
    /// segment was written after it turned cold, i.e. by a cold rewrite).
    public static func plan(
        _ manifest: Manifest, catalog: Catalog = .builtIn, options: CompactionOptions, defaultLevel: Int32,
        writtenAt: (SegmentMeta) -> Int64?
    ) -> CompactionPlan {
        let now = options.nowMicros
        var groups: [PartitionID: [SegmentMeta]] = [:]
        for s in manifest.segments { groups[PartitionID(s.measurementID, s.partitionStart), default: []].append(s) }
        var tasks: [CompactionTask] = []
        for (key, segs0) in groups.sorted(by: { ($0.key.start, $0.key.mid) < ($1.key.start, $1.key.mid) })
        where catalog.measurement(id: key.mid) != nil {
            let segs = segs0.sorted { $0.seq < $1.seq }
            let watermark = manifest.watermarks[key.mid] ?? .min
            let partitionEnd = manifest.partitionEnd(of: key.start, id: key.mid, in: catalog)
            // Wholly expired partitions are retention's to drop (no rewrite needed).
            if partitionEnd <= watermark { continue }
            let closed = partitionEnd <= now
            var coldLevel: Int32?
            if let after = options.coldAfter, options.coldLevel > defaultLevel {
                let (coldAt, o2) = partitionEnd.addingReportingOverflow(after)
                if !o2 && coldAt <= now { coldLevel = options.coldLevel }
            }
            let expired = segs.contains { $0.minTime < watermark }
            var reasons: [String] = []
            var inputs = segs
            if closed || expired {
                if segs.count >= 2 { reasons.append("\(segs.count) segments") }
                if expired { reasons.append("expired rows") }
                if let lvl = coldLevel, segs.count == 1, let t = writtenAt(segs[0]), t < partitionEnd &+ (options.coldAfter ?? 0) {
                    reasons.append("cold: zstd \(lvl)")
                } else if let lvl = coldLevel, !reasons.isEmpty {
                    reasons.append("cold: zstd \(lvl)")
                }
            } else {
                // Open partition: the newest run of segments, each smaller than the sum of the
                // ones after it is not yet — size tiers keep write amplification logarithmic.
                var suffix: [SegmentMeta] = []
                var sum: UInt64 = 0
                for s in segs.reversed() {
                    if !suffix.isEmpty && s.fileSize > sum { break }
                    suffix.insert(s, at: 0)
                    sum += s.fileSize
                }
                guard suffix.count >= max(2, options.openPartitionMinSegments) else { continue }
                inputs = suffix
                reasons.append("\(suffix.count) newest segments of an open partition")
            }
            guard !reasons.isEmpty else { continue }
            let level = inputs.count == segs.count ? (coldLevel ?? defaultLevel) : defaultLevel
            tasks.append(CompactionTask(
                measurementID: key.mid, partitionStart: key.start, inputs: inputs, zstdLevel: level,
                cutoff: watermark, reasons: reasons, name: catalog.name(of: key.mid)))
        }
        var ledger: LedgerMergeTask?
        if options.mergeLedgers, manifest.ledgers.count >= 2 || (options.ledgerMaxAge != nil && !manifest.ledgers.isEmpty) {
            ledger = LedgerMergeTask(
                inputs: manifest.ledgers, pruneBefore: options.clockTrusted ? options.ledgerMaxAge.map { now &- $0 } : nil)
        }
        return CompactionPlan(base: manifest, tasks: tasks, ledgerMerge: ledger)
    }

    struct PartitionID: Hashable {
        var mid: UInt8
        var start: Int64
        init(_ mid: UInt8, _ start: Int64) { (self.mid, self.start) = (mid, start) }
    }
}
