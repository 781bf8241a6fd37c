import TachoStore

/// Publishes a group that `ParseAhead` parsed and sealed: the one group commit of `tacho
/// ingest` (`Ingestor`) and `tacho run` (`InboxDaemon`), on the writer's thread.
///
/// The parse threads decided each file's fate against a copy of the ledger taken when the
/// batch started; a file committed since (earlier in the same batch, in another group) is
/// only visible here. Then the group's files are read again on this thread and appended
/// unless they are re-deliveries (rare: the same content twice in one batch). The group's
/// new files are committed together, each with its ledger entry, so each stays
/// all-or-nothing. Any error aborts the writer's transaction and is thrown.
struct GroupCommit {
    let writer: StoreWriter
    /// Reads a group's files again when its sealed rows are stale.
    let reader: TelemetryReader
    /// The ledger entry of an already ingested file with the same content and size, if any.
    let ingested: (FileReport) -> LedgerEntry?
    /// As `ParseAhead`'s: an unreadable file ends the group (`tacho ingest`), or is only
    /// reported (`tacho run` retries it).
    var unreadableEndsGroup = true

    struct Published {
        /// Each file's final result, in group order (with `unreadableEndsGroup`, up to the first
        /// unreadable one); `.ok` reports carry their superseded counts.
        var files: [FileResult]
        /// The ledger entries committed, in group order.
        var entries: [LedgerEntry]
    }

    func publish(_ g: PreparedGroup, paths: [String]) throws -> Published {
        var files = g.files
        let stale = files.contains { if case .ok(let rep) = $0 { ingested(rep) != nil } else { false } }
        do {
            if stale {
                files = try appendAgain(files, paths: paths)
            } else {
                try writer.append(g.sealed.get())
            }
        } catch {
            writer.abort()
            throw error
        }
        let now = writer.environment.clock.wallMicros()
        let entries = zip(paths, files).compactMap { p, f -> LedgerEntry? in
            if case .ok(let rep) = f { return rep.ledgerEntry(p, ingestedAt: now) }
            return nil
        }
        guard !entries.isEmpty else { return Published(files: files, entries: []) }
        // Each file's batches carry its place in the group as their source (`ParseAhead.seal`,
        // `appendAgain`): the commit tells how many of each file's rows another of its own
        // rows superseded.
        let superseded = try writer.commit(ledger: entries).superseded
        for k in files.indices {
            if case .ok(var rep) = files[k] {
                rep.superseded = superseded[Int32(k)]
                files[k] = .ok(rep)
            }
        }
        return Published(files: files, entries: entries)
    }

    /// The slow path of `publish`: reads the group's files again on this thread and appends
    /// those that are new.
    private func appendAgain(_ files: [FileResult], paths: [String]) throws -> [FileResult] {
        var out: [FileResult] = []
        var inGroup: [ContentHash: LedgerEntry] = [:]
        again: for (k, f) in files.enumerated() {
            if case .duplicate(let rep, let prior) = f {
                // Its original may itself have turned out a re-delivery: name the file ingested.
                out.append(.duplicate(rep, of: ingested(rep) ?? inGroup[rep.hash] ?? prior))
                continue
            }
            guard case .ok = f else {
                out.append(f)
                continue
            }
            let rep: FileReport, batches: [RowBatch]
            switch reader.readWhole(path: paths[k]) {
            case .ok(let r, let b): (rep, batches) = (r, b)
            case .rejected(let e):
                out.append(.rejected(e))
                continue
            case .unreadable(let error):
                out.append(.unreadable(error))
                if unreadableEndsGroup { break again }
                continue
            }
            if let prior = ingested(rep) ?? rep.redelivery(of: inGroup[rep.hash]) {
                out.append(.duplicate(rep, of: prior))
                continue
            }
            for var b in batches {
                b.source = Int32(k)
                try writer.append(b)
            }
            inGroup[rep.hash] = rep.ledgerEntry(paths[k], ingestedAt: 0)
            out.append(.ok(rep))
        }
        return out
    }
}
