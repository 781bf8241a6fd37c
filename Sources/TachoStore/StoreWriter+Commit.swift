import Logging
import TachoFormat

/// What one commit published.
public struct CommitSummary: Sendable {
    public var commit: UInt64
    public var segments: Int
    public var rows: Int
    public var bytes: UInt64
    /// Rows appended in this commit that a later row of the same source (`RowBatch.source`)
    /// and identity replaced before they were stored.
    public var superseded = SupersededRows()
}

extension StoreWriter {
    /// Publishes the open transaction atomically: seals the buffers into segments, writes the
    /// latest-status index and the ledger entries, then switches the manifest. After it
    /// returns, all rows appended since the last commit are durable and visible. On error
    /// the transaction is discarded and the store is as it was at the last commit.
    @discardableResult
    public func commit(ledger entries: [LedgerEntry] = []) throws -> CommitSummary {
        do {
            return try commitOrThrow(entries)
        } catch {
            abort()
            throw error
        }
    }

    private func commitOrThrow(_ entries: [LedgerEntry]) throws -> CommitSummary {
        if maintenanceOnly && (hasOpenTransaction || !entries.isEmpty) { try checkWritable("commit") }
        try spill()
        try appendDerivedRows()
        let superseded = self.superseded
        self.superseded = SupersededRows()
        guard !pendingSegments.isEmpty || !entries.isEmpty || latestDirty else {
            return CommitSummary(commit: manifest.commit, segments: 0, rows: 0, bytes: 0, superseded: superseded)
        }
        var next = manifest
        // Index and ledger files of this commit: removed again if it fails before the switch.
        var written: [String] = []
        // The catalog entries of the measurements this commit writes rows of, if the stored
        // catalog lacks them (or has an older form): a new generation, named by the manifest,
        // so a schema and its first rows are published by one switch (FORMAT.md §7).
        let toStore = CatalogFile.storing(Set(pendingSegments.map(\.measurementID)), of: catalog, into: storedCatalog)
        do {
            if !pendingSegments.isEmpty { try fs.syncDirectory(layout.segmentsDir) }
            if latestDirty {
                // Provisional seqs become the number of the first segment of this commit or later:
                // already ≥ every earlier segment, which is all the ordering needs.
                let bytes = latest.encode()
                let name = StoreLayout.latestName(number: next.nextNumber)
                next.nextNumber += 1
                manifest.nextNumber = next.nextNumber  // never reused, even if a failed file stays behind
                try writeNewFile(layout.indexPath(name), bytes)
                written.append(layout.indexPath(name))
                next.latestIndex = name
                next.latestIndexCRC = MetadataFile.storedCRC(bytes)
            }
            if !entries.isEmpty {
                let name = StoreLayout.ledgerName(number: next.nextNumber)
                next.nextNumber += 1
                manifest.nextNumber = next.nextNumber
                try writeNewFile(layout.indexPath(name), LedgerFile.encode(entries, algorithm: hashAlgorithm))
                written.append(layout.indexPath(name))
                next.ledgers.append(name)
                CrashPoint.hit(CrashPoint.ledgerWritten)
            }
            if toStore != storedCatalog {
                let bytes = toStore.encode()
                let name = StoreLayout.catalogName(number: next.nextNumber)
                next.nextNumber += 1
                manifest.nextNumber = next.nextNumber
                try writeNewFile(layout.indexPath(name), bytes)
                written.append(layout.indexPath(name))
                next.catalog = name
                next.catalogCRC = MetadataFile.storedCRC(bytes)
                CrashPoint.hit(CrashPoint.catalogWritten)
            }
            if latestDirty || !entries.isEmpty || next.catalog != manifest.catalog { try fs.syncDirectory(layout.indexDir) }
            next.segments.append(contentsOf: pendingSegments)
            next.commit += 1
            try Self.writeManifestTemp(next, layout: layout, fs: fs)
            try fs.rename(layout.manifestTemp, to: layout.manifest)
        } catch {
            for path in written { try? fs.unlink(path) }
            throw error
        }
        // Switched: a reader opening the store now sees this commit, so it stands even if what
        // follows fails (abort() after this point has nothing left to discard).
        let old = manifest
        manifest = next
        storedCatalog = toStore
        let rows = pendingSegments.reduce(0) { $0 + $1.rowCount }
        let bytes = pendingSegments.reduce(UInt64(0)) { $0 + $1.fileSize }
        let count = pendingSegments.count
        pendingSegments.removeAll()
        restoreAfterCommit(latest: latest)
        // Durable once the directory holding MANIFEST is synced. When that fails, the ledger
        // entries stay out of memory: the caller keeps its inputs and re-ingests them, which
        // rewrites the same rows (they replace themselves by identity) in a commit that syncs.
        try fs.syncDirectory(layout.root)
        CrashPoint.hit(CrashPoint.afterManifestSwitch)
        recordLedger(entries)
        // Snapshots of the previous commit may still load its index: it goes after the grace.
        removeObsoleteFiles()
        if old.latestIndex != next.latestIndex && !old.latestIndex.isEmpty {
            retire([layout.indexPath(old.latestIndex)])
        }
        if old.catalog != next.catalog {
            // The generation this one replaces; a store's first generation replaces the legacy file.
            retire([old.catalog.isEmpty ? layout.catalog : layout.indexPath(old.catalog)])
        }
        logger.debug("commit", metadata: ["commit": "\(next.commit)", "segments": "\(count)", "rows": "\(rows)"])
        return CommitSummary(commit: next.commit, segments: count, rows: rows, bytes: bytes, superseded: superseded)
    }

    /// Creates `path` with `bytes`, fsynced. The directory is synced by the caller.
    func writeNewFile(_ path: String, _ bytes: [UInt8]) throws {
        try Self.writeNewFile(path, bytes, fs: fs)
    }

    static func writeNewFile(_ path: String, _ bytes: [UInt8], fs: any StoreFileSystem) throws {
        let fd = try fs.createFile(path)
        var open = true
        do {
            try bytes.withUnsafeBytes { try fs.write(fd, $0, path: path) }
            try fs.sync(fd, path: path)
            open = false  // a failed close still releases the descriptor: never close it twice
            try fs.close(fd, path: path)
        } catch {
            if open { try? fs.close(fd, path: path) }
            try? fs.unlink(path)
            throw error
        }
    }

    /// The manifest switch: MANIFEST.tmp, fsync, rename over MANIFEST, fsync the directory.
    static func writeManifest(_ m: Manifest, layout: StoreLayout, fs: any StoreFileSystem) throws {
        try writeManifestTemp(m, layout: layout, fs: fs)
        try fs.rename(layout.manifestTemp, to: layout.manifest)
        try fs.syncDirectory(layout.root)
        CrashPoint.hit(CrashPoint.afterManifestSwitch)
    }

    /// The first half of the switch: MANIFEST.tmp written and fsynced.
    static func writeManifestTemp(_ m: Manifest, layout: StoreLayout, fs: any StoreFileSystem) throws {
        try fs.unlink(layout.manifestTemp)
        try writeNewFile(layout.manifestTemp, m.encode(), fs: fs)
        CrashPoint.hit(CrashPoint.beforeManifestSwitch)
    }

    /// Writes `n` as MANIFEST and makes it the writer's. When the write fails, the rename may
    /// still have happened (before a failed directory fsync): then the switch is visible, and
    /// the writer follows the disk, or its next commit would bring back what `n` removed.
    func publishManifest(_ n: Manifest) throws {
        do {
            try Self.writeManifest(n, layout: layout, fs: fs)
        } catch {
            if let onDisk = try? readManifest(layout, fs: fs), onDisk == n { manifest = n }
            throw error
        }
        manifest = n
    }

    /// Replaces the manifest with `next` (compaction and retention), then removes the files
    /// `next` no longer references: after the grace period (`StoreOptions.obsoleteFileGrace`),
    /// or at once when `urgent` (the disk budget frees space). REQUIRES: no open transaction.
    public func switchManifest(_ next: Manifest, keeping keep: Set<String> = [], urgent: Bool = false) throws {
        var n = next
        n.commit = manifest.commit + 1
        let old = manifest
        try publishManifest(n)  // on failure, files are left for the next open
        removeObsoleteFiles()
        let live = Set(n.segments.map(\.name))
        var replaced: [String] = []
        for s in old.segments where !live.contains(s.name) && !keep.contains(s.name) {
            replaced.append(layout.segmentPath(s.name))
        }
        let liveIndex = Set(n.ledgers + [n.latestIndex, n.catalog])
        for name in old.ledgers + [old.latestIndex, old.catalog] where !name.isEmpty && !liveIndex.contains(name) {
            replaced.append(layout.indexPath(name))
        }
        retire(replaced, urgent: urgent)
    }
}
