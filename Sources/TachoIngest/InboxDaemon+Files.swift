import Logging
import TachoJSON
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

extension InboxDaemon {
    /// Ingests claimed files, in order, in the commits `grouping` plans: groups are parsed
    /// and sealed on `parseThreads` threads (`ParseAhead`, as in `tacho ingest`), up to
    /// `parseAhead` groups ahead of the one this thread writes and commits, so a backlog
    /// drains at ingest speed; a lone new file takes the same path without waiting for
    /// anything. Between commits this thread runs the maintenance hooks; when they raise a
    /// retention watermark, the groups parsed ahead against the old one are dropped and the
    /// rest parsed again (a row below the new watermark is rejected, not stored hidden).
    func ingest(_ work: [String], stop: StopFlag) throws {
        var rest = work[...]
        while !rest.isEmpty, !stop.isSet {
            rest = try ingestAhead(Array(rest), stop: stop)
        }
    }

    /// `ingest` with one reader (one set of watermarks); returns the files not started
    /// when the watermarks changed.
    private func ingestAhead(_ paths: [String], stop: StopFlag) throws -> ArraySlice<String> {
        let units = grouping.plan(sizes: paths.map(CommitGrouping.size(of:)))
        // Measurements created by these files' lines and never stored (their files rejected,
        // a failed commit) are taken back once the batch is done (after the parsers stopped).
        defer { writer.forgetUnstoredDeclarations() }
        let reader = readerCreatingMeasurements(for: paths)
        let watermarks = writer.manifest.watermarks
        let ahead = ParseAhead(
            paths: paths, units: units, reader: reader, sealing: writer.sealParameters, ledger: writer.ledger,
            threads: min(config.parseThreads, paths.count), window: max(1, config.parseAhead), unreadableEndsGroup: false)
        defer { ahead.stop() }
        for (u, unit) in units.enumerated() {
            if stop.isSet { break }
            if writer.manifest.watermarks != watermarks { return paths[unit.files.lowerBound...] }
            switch ahead.take(u) {
            case .stream:
                try ingestLarge(paths[unit.files.lowerBound], reader: reader, stop: stop)
                ahead.release()
            case .group(let g):
                ingestGroup(g, paths: Array(paths[unit.files]), reader: reader, written: ahead.release)
            }
            runPeriodic()
        }
        return []
    }

    /// Publishes a group prepared by `ParseAhead` with one commit (`GroupCommit`), then
    /// moves its files out of the inbox. A failed commit puts them back into the inbox,
    /// halves the groups and waits a second. `written` is called as soon as the commit has
    /// succeeded or failed: the next group may be parsed while the files are moved.
    func ingestGroup(_ g: PreparedGroup, paths: [String], reader: TelemetryReader, written: () -> Void) {
        let start = monotonicNanos()
        let writer = self.writer
        let commit = GroupCommit(writer: writer, reader: reader, ingested: { rep in
            rep.redelivery(of: writer.ledgerEntry(for: rep.hash))
        }, unreadableEndsGroup: false)
        let published: GroupCommit.Published
        let commitStart = monotonicNanos()
        do {
            published = try commit.publish(g, paths: paths)
            written()
        } catch {
            written()
            let waiting = zip(paths, g.files).compactMap { p, f -> String? in
                switch f {
                case .ok, .duplicate: return p
                case .rejected, .unreadable: return nil
                }
            }
            logger.error("commit failed; \(waiting.count) files stay in the inbox and will be retried: \(error)")
            let waitingSet = Set(waiting)
            settle(zip(paths, g.files).map { ($0, $1, 0) }.filter { !waitingSet.contains($0.path) })
            release(waiting)
            shrinkGroups(after: paths.count)
            clock.sleep(seconds: 1)
            return
        }
        if !published.entries.isEmpty { counters.committed(seconds: elapsedMs(since: commitStart) / 1000) }
        growGroups()
        runAfterCommit()
        let share = elapsedMs(since: start) / Double(max(published.entries.count, 1))
        settle(published.files.indices.map { (paths[$0], published.files[$0], g.milliseconds[$0] + share) })
        syncDirectories()
    }

    /// Each file of a group after its commit: ingested or re-delivered files leave the inbox,
    /// rejected ones go to rejected/ (or wait, if they ended early), unreadable ones go back.
    private func settle(_ files: [(path: String, result: FileResult, ms: Double)]) {
        for (path, f, ms) in files {
            switch f {
            case .ok(let rep):
                finish(path, rep, ms: ms)
            case .duplicate(_, let prior):
                logger.info("re-delivered file skipped", metadata: ["file": "\(escapedForLog(baseName(path)))", "same_as": "\(escapedForLog(prior.name))"])
                counters.skippedRedelivery()
                moveOut(path)
            case .rejected(let e):
                reject(path, e)
            case .unreadable(let why):
                logger.warning("cannot read \(escapedForLog(path)), will retry: \(why)")
                release([path])
            }
        }
    }

    /// A file larger than a group: streamed through the writer with bounded memory.
    func ingestLarge(_ path: String, reader: TelemetryReader, stop: StopFlag) throws {
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
            clock.sleep(seconds: 1)
            return
        }
        if let prior = rep.redelivery(of: writer.ledgerEntry(for: rep.hash)) {
            writer.abort()
            logger.info("re-delivered file skipped", metadata: ["file": "\(escapedForLog(baseName(path)))", "same_as": "\(escapedForLog(prior.name))"])
            counters.skippedRedelivery()
            moveOut(path)
            syncDirectories()
            return
        }
        let commitStart = monotonicNanos()
        do {
            rep.superseded = try writer.commit(ledger: [rep.ledgerEntry(path, ingestedAt: clock.wallMicros())]).superseded[0]
        } catch {
            logger.error("commit of \(escapedForLog(path)) failed; it stays in the inbox: \(error)")
            release([path])
            clock.sleep(seconds: 1)
            return
        }
        counters.committed(seconds: elapsedMs(since: commitStart) / 1000)
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
        let names = Set(rep.kinds.map(\.measurement.name))
        let measurement = names.count == 1 ? names.first ?? "" : names.isEmpty ? (rep.kind?.measurement.name ?? "") : IngestStats.severalMeasurements
        counters.ingested(rows: rep.rows, rejects: rep.rejectCount, measurement: measurement)
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
        truncated.removeValue(forKey: baseName(path))  // a file that waited, then parsed whole
        watcher.forget(path)
    }

    private func reject(_ path: String, _ e: FileError) {
        let name = baseName(path)
        if e.truncated {
            let now = clock.monotonicNanos()
            let until = truncated[name]?.until ?? now + watcher.truncatedGraceNanos
            if now < until, case .file(_, let size, let mtime) = InputFiles.stat(path, fs: mover.fs) {
                if truncated[name] == nil {
                    logger.info("\(escapedForLog(name)) ends early; waiting for its writer to finish", metadata: ["error": "\(e)"])
                }
                truncated[name] = (until, size, mtime)
                return
            }
        }
        truncated.removeValue(forKey: name)
        logger.error("rejected \(escapedForLog(baseName(path))): \(e)")
        counters.rejectedFile()
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
        if mover.fs.exists(claims.directory) { dirs.append(claims.directory) }
        if !config.deleteProcessed { dirs.append(config.processedDir) }
        syncDirectories(dirs)
    }

    /// fsyncs `dirs`, making the moves in them durable. A failure is logged: the rows are
    /// committed either way, and a move lost in a crash brings the file back to the inbox,
    /// where the ledger recognises it as a re-delivery.
    func syncDirectories(_ dirs: [String]) {
        do { try mover.syncDirectories(dirs) } catch { logger.error("cannot make moves out of the inbox durable: \(error)") }
    }

    /// Deletes files in processed/ older than the configured age, logging each.
    func cleanupProcessed() {
        guard !config.deleteProcessed, config.processedMaxAgeSeconds > 0,
              let entries = try? InputFiles.list(config.processedDir, fs: mover.fs)
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
