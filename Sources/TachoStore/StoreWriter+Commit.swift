import Logging
import TachoFormat

/// What one commit published.
public struct CommitSummary: Sendable {
    public var commit: UInt64
    public var segments: Int
    public var rows: Int
    public var bytes: UInt64
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
        try spill()
        guard !pendingSegments.isEmpty || !entries.isEmpty || latestDirty else {
            return CommitSummary(commit: manifest.commit, segments: 0, rows: 0, bytes: 0)
        }
        var next = manifest
        if !pendingSegments.isEmpty { try fs.syncDirectory(layout.segmentsDir) }
        if latestDirty {
            // Provisional seqs become the number of the first segment of this commit or later:
            // already ≥ every earlier segment, which is all the ordering needs.
            let bytes = latest.encode()
            let name = StoreLayout.latestName(number: next.nextNumber)
            next.nextNumber += 1
            try writeNewFile(layout.indexPath(name), bytes)
            next.latestIndex = name
            next.latestIndexCRC = bytes.withUnsafeBytes {
                UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self))
            }
        }
        if !entries.isEmpty {
            let name = StoreLayout.ledgerName(number: next.nextNumber)
            next.nextNumber += 1
            try writeNewFile(layout.indexPath(name), LedgerFile.encode(entries))
            next.ledgers.append(name)
            CrashPoint.hit(CrashPoint.ledgerWritten)
        }
        if latestDirty || !entries.isEmpty { try fs.syncDirectory(layout.indexDir) }
        next.segments.append(contentsOf: pendingSegments)
        next.commit += 1
        try Self.writeManifest(next, layout: layout, fs: fs)
        // Published. From here on the commit stands even if cleanup fails.
        let old = manifest
        manifest = next
        let rows = pendingSegments.reduce(0) { $0 + $1.rowCount }
        let bytes = pendingSegments.reduce(UInt64(0)) { $0 + $1.fileSize }
        let count = pendingSegments.count
        pendingSegments.removeAll()
        recordLedger(entries)
        restoreAfterCommit(latest: latest)
        if old.latestIndex != next.latestIndex && !old.latestIndex.isEmpty {
            try? fs.unlink(layout.indexPath(old.latestIndex))
        }
        logger.debug("commit", metadata: ["commit": "\(next.commit)", "segments": "\(count)", "rows": "\(rows)"])
        return CommitSummary(commit: next.commit, segments: count, rows: rows, bytes: bytes)
    }

    /// Creates `path` with `bytes`, fsynced. The directory is synced by the caller.
    func writeNewFile(_ path: String, _ bytes: [UInt8]) throws {
        try Self.writeNewFile(path, bytes, fs: fs)
    }

    static func writeNewFile(_ path: String, _ bytes: [UInt8], fs: any StoreFileSystem) throws {
        let fd = try fs.createFile(path)
        do {
            try bytes.withUnsafeBytes { try fs.write(fd, $0, path: path) }
            try fs.sync(fd, path: path)
            try fs.close(fd, path: path)
        } catch {
            try? fs.close(fd, path: path)
            try? fs.unlink(path)
            throw error
        }
    }

    /// The manifest switch: MANIFEST.tmp, fsync, rename over MANIFEST, fsync the directory.
    static func writeManifest(_ m: Manifest, layout: StoreLayout, fs: any StoreFileSystem) throws {
        try fs.unlink(layout.manifestTemp)
        try writeNewFile(layout.manifestTemp, m.encode(), fs: fs)
        CrashPoint.hit(CrashPoint.beforeManifestSwitch)
        try fs.rename(layout.manifestTemp, to: layout.manifest)
        try fs.syncDirectory(layout.root)
        CrashPoint.hit(CrashPoint.afterManifestSwitch)
    }

    /// Replaces the manifest with `next` (compaction and retention), then removes the files
    /// `next` no longer references. REQUIRES: no open transaction.
    public func switchManifest(_ next: Manifest, keeping keep: Set<String> = []) throws {
        var n = next
        n.commit = manifest.commit + 1
        try Self.writeManifest(n, layout: layout, fs: fs)
        let old = manifest
        manifest = n
        let live = Set(n.segments.map(\.name))
        for s in old.segments where !live.contains(s.name) && !keep.contains(s.name) {
            try fs.unlink(layout.segmentPath(s.name))
        }
        let liveIndex = Set(n.ledgers + [n.latestIndex])
        for name in old.ledgers + [old.latestIndex] where !name.isEmpty && !liveIndex.contains(name) {
            try fs.unlink(layout.indexPath(name))
        }
    }
}
