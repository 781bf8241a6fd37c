import TachoStore

extension FileReport {
    /// The re-delivery rule (docs/SEMANTICS.md): this file was ingested before when a ledger
    /// entry records the same content — the same 128-bit hash and the same size. Returns the
    /// first of `candidates` (ledger look-ups by `hash`) that does. One definition for
    /// `ParseAhead`, `GroupCommit`, `Ingestor` and the daemon.
    func redelivery(of candidates: LedgerEntry?...) -> LedgerEntry? {
        for case let c? in candidates where c.hash == hash && c.size == size { return c }
        return nil
    }
}
