import TachoFormat

/// Derives rows from a transaction before it commits (rollups, `TachoRollup`): `commit()`
/// seals the transaction's rows, hands the participant a view of the store as it will be after
/// the commit, appends the rows it returns and publishes all of them by the same manifest
/// switch — derived rows and the rows they derive from never disagree after a crash.
public protocol CommitParticipant: Sendable {
    /// Rows to add to the commit `view` describes; their measurements must be in
    /// `view.snapshot.catalog`. Throwing aborts the commit.
    func derivedRows(_ view: TransactionView) throws -> [RowBatch]
}

/// The store as one commit will leave it: `snapshot` reads the last commit's segments and the
/// transaction's (identity replacement as after the switch); `written` are the transaction's.
public struct TransactionView {
    public let snapshot: Snapshot
    public let written: [SegmentMeta]
}

extension StoreWriter {
    /// The snapshot of the last commit plus the open transaction's sealed segments.
    func transactionView() throws -> TransactionView {
        var m = manifest
        m.segments.append(contentsOf: pendingSegments)
        let snap = try Snapshot(layout: layout, manifest: m, catalog: catalog, fs: fs, logger: logger)
        return TransactionView(snapshot: snap, written: pendingSegments)
    }

    /// Appends what `options.commitParticipant` derives from the sealed transaction, sealed too.
    func appendDerivedRows() throws {
        guard let p = options.commitParticipant, !pendingSegments.isEmpty else { return }
        let view = try transactionView()
        for batch in try p.derivedRows(view) { try append(batch) }
        try spill()
    }
}
