import TachoStore

extension FileReport {
    /// The re-delivery rule (docs/SEMANTICS.md §3): this file was ingested before when a ledger
    /// entry records the same content — the same 128-bit hash and the same size. Returns the
    /// first of `candidates` (ledger look-ups by `hash`) that does; nil to ingest the file. A
    /// file with rejected records is never skipped: putting it back into the inbox (or naming
    /// it to `tacho ingest` again) re-reads it, so its rejects report is written again and
    /// records a changed declaration now accepts get in (its valid rows replace themselves by
    /// identity: nothing is doubled). One definition for `ParseAhead`, `GroupCommit`,
    /// `Ingestor` and the daemon.
    public func redelivery(of candidates: LedgerEntry?...) -> LedgerEntry? {
        guard rejectCount == 0 else { return nil }
        for case let c? in candidates where c.hash == hash && c.size == size { return c }
        return nil
    }
}
