import TachoFormat

/// How far the backfill of each derived measurement (a rollup, FORMAT.md §8) has come: the
/// store's `BACKFILL` file (FORMAT.md §9). A derived measurement the file does not name is
/// complete (it was kept by every commit since its first rows). One it names is complete from
/// the commit `completedAt` on (0: not yet); below `builtBelow` its windows were built from
/// the raw rows and are kept exact by every later commit; at and above it they are not built
/// yet (rows a commit wrote there may cover only that commit's raw rows).
///
/// The file lives beside MANIFEST, not in it: it is written only by the process holding the
/// writer lock, after the manifest switch that published what it records (so a crash between
/// the two only loses progress, which the next run redoes: a recomputed window replaces
/// itself), and a reader pairs it with its snapshot's commit number (`isComplete`), so a
/// reader whose snapshot predates the completing commit never takes the rollup as complete.
public struct BackfillProgress: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// Windows starting before this time (µs) are built.
        public var builtBelow: Int64
        /// The commit from which on the derived measurement is complete; 0 while it is not.
        public var completedAt: UInt64

        public init(builtBelow: Int64, completedAt: UInt64) {
            self.builtBelow = builtBelow
            self.completedAt = completedAt
        }
    }

    /// By stored (derived) measurement name.
    public var entries: [String: Entry] = [:]

    public init(entries: [String: Entry] = [:]) { self.entries = entries }

    static let magic: UInt32 = 0x4C46_4254  // "TBFL"
    static let version: UInt16 = 1

    /// Whether a reader of commit `commit` may take `name` as complete: the file does not name
    /// it, or it completed at or before that commit.
    public func isComplete(_ name: String, atCommit commit: UInt64) -> Bool {
        guard let e = entries[name] else { return true }
        return e.completedAt != 0 && commit >= e.completedAt
    }

    public func encode() -> [UInt8] {
        MetadataFile.encode(magic: Self.magic, version: Self.version, capacity: 16 + entries.count * 48) { w in
            w.writeVarint(UInt64(entries.count))
            for (name, e) in entries.sorted(by: { $0.key < $1.key }) {
                w.writeString(name)
                w.writeInt64(e.builtBelow)
                w.writeUInt64(e.completedAt)
            }
        }
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> BackfillProgress {
        let decoded: BackfillProgress? = MetadataFile.decode(bytes, magic: magic, version: version) { r, limit in
            guard let n = r.readLength(limit: limit) else { return nil }
            var out = BackfillProgress()
            for _ in 0..<n {
                guard let name = r.readString(limit: 64), !name.isEmpty, out.entries[name] == nil,
                      let below = r.readInt64(), let at = r.readUInt64()
                else { return nil }
                out.entries[name] = Entry(builtBelow: below, completedAt: at)
            }
            return out
        }
        guard let decoded else {
            throw StoreError(
                .corrupt, "read backfill progress", path: path,
                "expected a TBFL file of version 1 (FORMAT.md §9): magic, version, entries, CRC-32C; its bytes do not match")
        }
        return decoded
    }

    /// The progress file of the store at `layout`; empty when there is none.
    public static func read(_ layout: StoreLayout, fs: any StoreFileSystem) throws -> BackfillProgress {
        let bytes: [UInt8]
        do {
            bytes = try readFile(layout.backfill, fs: fs)
        } catch let e as StoreError where e.code == .notFound {
            return BackfillProgress()
        }
        return try decode(bytes, path: layout.backfill)
    }
}

extension Snapshot {
    /// The store's backfill progress as a reader sees it (pair it with `manifest.commit`).
    public func backfillProgress() throws -> BackfillProgress {
        try BackfillProgress.read(layout, fs: fs)
    }
}

extension StoreWriter {
    /// The store's backfill progress, read under the writer lock.
    public func backfillProgress() throws -> BackfillProgress {
        try BackfillProgress.read(layout, fs: fs)
    }

    /// Replaces the store's backfill progress: `BACKFILL.tmp` written and fsynced, renamed over
    /// `BACKFILL`, the directory fsynced. Call it only for what the manifest already publishes
    /// (after the commit), or to record a backfill as started before any commit of it.
    public func recordBackfill(_ progress: BackfillProgress) throws {
        try checkWritable("record backfill progress")
        try fs.unlink(layout.backfillTemp)
        try Self.writeNewFile(layout.backfillTemp, progress.encode(), fs: fs)
        try fs.rename(layout.backfillTemp, to: layout.backfill)
        try fs.syncDirectory(layout.root)
        CrashPoint.hit(CrashPoint.backfillRecorded)
    }
}
