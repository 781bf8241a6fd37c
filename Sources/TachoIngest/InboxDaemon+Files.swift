import Dispatch
import Logging
import Synchronization
import TachoJSON
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

extension InboxDaemon {
    /// Parses `paths` on `parseThreads` threads, results in input order.
    func parseAll(_ paths: [String]) -> [ParsedFile] {
        let results = Mutex<[ParsedFile?]>(Array(repeating: nil, count: paths.count))
        let next = Atomic<Int>(0)
        let reader = self.reader
        let threads = min(config.parseThreads, paths.count)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < paths.count else { return }
                let r = reader.readWhole(path: paths[i])
                results.withLock { $0[i] = r }
            }
        }
        return results.withLock { r in
            zip(paths, r).map { $1 ?? .unreadable(InputReadError(path: $0, message: "not parsed")) }
        }
    }

    /// Parses a group in parallel and publishes it with one commit; each file stays
    /// all-or-nothing because only fully parsed files are appended.
    func ingestGroup(_ paths: [String]) throws {
        let start = monotonicNanos()
        let parsed = parseAll(paths)
        var committed: [(path: String, report: FileReport)] = []
        var duplicates: [(path: String, of: LedgerEntry)] = []
        var entries: [LedgerEntry] = []
        var inGroup: [ContentHash: LedgerEntry] = [:]
        do {
            for (path, p) in zip(paths, parsed) {
                switch p {
                case .rejected(let e):
                    reject(path, e)
                case .unreadable(let why):
                    logger.warning("cannot read \(escapedForLog(path)), will retry: \(why)")
                    release([path])
                case .ok(let rep, let batches):
                    if let prior = writer.ledgerEntry(for: rep.hash) ?? inGroup[rep.hash], prior.size == rep.size {
                        duplicates.append((path, prior))
                        continue
                    }
                    for var b in batches {
                        b.source = Int32(committed.count)  // read back from the commit's summary
                        try writer.append(b)
                    }
                    let e = rep.ledgerEntry(path)
                    entries.append(e)
                    inGroup[rep.hash] = e
                    committed.append((path, rep))
                }
            }
            let superseded = try writer.commit(ledger: entries).superseded
            for k in committed.indices { committed[k].report.superseded = superseded[Int32(k)] }
        } catch {
            writer.abort()
            logger.error("commit failed; \(committed.count) files stay in the inbox and will be retried: \(error)")
            release(committed.map(\.path) + duplicates.map(\.path))
            shrinkGroups(after: paths.count)
            usleep(1_000_000)
            return
        }
        growGroups()
        runAfterCommit()
        let ms = elapsedMs(since: start)
        for (path, rep) in committed { finish(path, rep, ms: ms / Double(max(committed.count, 1))) }
        for (path, prior) in duplicates {
            logger.info("re-delivered file skipped", metadata: ["file": "\(escapedForLog(baseName(path)))", "same_as": "\(escapedForLog(prior.name))"])
            moveOut(path)
        }
        syncDirectories()
    }

    /// A file larger than a group: streamed through the writer with bounded memory.
    func ingestLarge(_ path: String, stop: StopFlag) throws {
        let start = monotonicNanos()
        var rep: FileReport
        do {
            // Parsed on another thread while this one appends, seals and syncs.
            rep = try reader.readStreaming(path: path) { b in
                if stop.isSet { throw Cancelled() }
                try writer.append(b)
            }
        } catch let e as FileError {
            writer.abort()
            reject(path, e)
            syncDirectories()
            return
        } catch is Cancelled {
            writer.abort()
            logger.notice("stop requested: abandoned \(escapedForLog(baseName(path))); it stays in the inbox")
            return
        } catch let e as InputReadError {
            writer.abort()
            logger.warning("cannot read \(escapedForLog(path)), will retry: \(e)")
            release([path])
            return
        } catch {
            writer.abort()
            logger.error("ingest of \(escapedForLog(path)) failed; it stays in the inbox: \(error)")
            release([path])
            usleep(1_000_000)
            return
        }
        if let prior = writer.ledgerEntry(for: rep.hash), prior.size == rep.size {
            writer.abort()
            logger.info("re-delivered file skipped", metadata: ["file": "\(escapedForLog(baseName(path)))", "same_as": "\(escapedForLog(prior.name))"])
            moveOut(path)
            syncDirectories()
            return
        }
        do {
            rep.superseded = try writer.commit(ledger: [rep.ledgerEntry(path)]).superseded[0]
        } catch {
            logger.error("commit of \(escapedForLog(path)) failed; it stays in the inbox: \(error)")
            release([path])
            usleep(1_000_000)
            return
        }
        runAfterCommit()
        finish(path, rep, ms: elapsedMs(since: start))
        syncDirectories()
    }

    private func runAfterCommit() {
        guard let afterCommit else { return }
        do { try afterCommit() } catch { logger.error("after-commit maintenance: \(error)") }
    }

    /// Rows are durable: write the record rejects, then move the file out of the inbox.
    private func finish(_ path: String, _ rep: FileReport, ms: Double) {
        if rep.rejectCount > 0 {
            do { try rejects.writeRecordRejects(for: path, rep.rejects) } catch {
                logger.error("write rejects of \(escapedForLog(path)): \(error)")
            }
        }
        for r in rep.repairs { logger.warning("\(escapedForLog(baseName(path))): \(r)") }
        logger.info("ingested", metadata: [
            "file": "\(escapedForLog(baseName(path)))", "rows": "\(rep.rows)", "superseded": "\(rep.superseded)",
            "rejects": "\(rep.rejectCount)",
            "repairs": "\(rep.repairCount)", "ms": "\(Int(ms.rounded()))",
        ])
        filesIngested += 1
        rowsIngested += rep.rows
        windowRows += rep.rows
        moveOut(path)
        CrashPoint.hit(CrashPoint.afterFileMove)
    }

    private func moveOut(_ path: String) {
        do {
            if config.deleteProcessed {
                try mover.delete(path)
            } else {
                try mover.move(path, into: config.processedDir)
            }
        } catch {
            logger.error("move \(escapedForLog(path)) out of the inbox: \(error)")
        }
        watcher.forget(path)
    }

    private func reject(_ path: String, _ e: FileError) {
        let name = baseName(path)
        if e.truncated {
            let now = monotonicNanos()
            let until = truncated[name]?.until ?? now + watcher.truncatedGraceNanos
            if now < until, case .file(_, let size, let mtime) = InputFiles.stat(path) {
                if truncated[name] == nil {
                    logger.info("\(escapedForLog(name)) ends early; waiting for its writer to finish", metadata: ["error": "\(e)"])
                }
                truncated[name] = (until, size, mtime)
                return
            }
        }
        truncated.removeValue(forKey: name)
        logger.error("rejected \(escapedForLog(baseName(path))): \(e)")
        do {
            try rejects.writeFileError(for: path, e)
            try mover.move(path, into: config.rejectedDir)
        } catch {
            logger.error("move \(escapedForLog(path)) to rejected/: \(error)")
        }
        watcher.forget(path)
    }

    private func syncDirectories() {
        var dirs = [config.inbox, config.rejectedDir]
        if access(claims.directory, F_OK) == 0 { dirs.append(claims.directory) }
        if !config.deleteProcessed { dirs.append(config.processedDir) }
        mover.syncDirectories(dirs)
    }

    /// Deletes files in processed/ older than the configured age, logging each.
    func cleanupProcessed() {
        guard !config.deleteProcessed, config.processedMaxAgeSeconds > 0,
              let entries = try? InputFiles.list(config.processedDir)
        else { return }
        guard case .trusted(let nowMicros) = clockTrust.judge(newestData: writer.manifest.newestTime) else {
            logger.notice("clean-up of old processed files skipped: the clock is not trusted", metadata: [
                "dir": "\(escapedForLog(config.processedDir))",
            ])
            return
        }
        let now = nowMicros * 1000
        let maxAge = Int64(config.processedMaxAgeSeconds * 1e9)
        for case .file(let path, _, let mtime) in entries where now - mtime > maxAge {
            if (try? mover.delete(path)) != nil {
                logger.info("deleted old processed file", metadata: ["file": "\(escapedForLog(baseName(path)))"])
            }
        }
    }
}
