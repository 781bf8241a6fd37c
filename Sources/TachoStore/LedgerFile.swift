import TachoFormat

/// One ingested input file, recorded in the same commit as its rows (FORMAT.md §5), so a
/// re-delivered file is recognised after any crash.
public struct LedgerEntry: Sendable, Hashable {
    public var name: String
    public var size: UInt64
    /// 128-bit content hash.
    public var hash: ContentHash
    public var rows: Int
    /// Commit time, µs since the epoch.
    public var ingestedAt: Int64

    public init(name: String, size: UInt64, hash: ContentHash, rows: Int, ingestedAt: Int64) {
        self.name = name
        self.size = size
        self.hash = hash
        self.rows = rows
        self.ingestedAt = ingestedAt
    }
}

/// `index/ledger-<n>.led` (FORMAT.md §5): the ledger entries of one commit, or of a merge.
enum LedgerFile {
    static func encode(_ entries: [LedgerEntry]) -> [UInt8] {
        MetadataFile.encode(
            magic: FormatConstants.ledgerMagic, version: FormatConstants.ledgerVersion, capacity: 32 + entries.count * 64
        ) { w in
            w.writeVarint(UInt64(entries.count))
            for e in entries {
                w.writeString(e.name)
                w.writeVarint(e.size)
                w.writeUInt64(e.hash.hi)
                w.writeUInt64(e.hash.lo)
                w.writeVarint(UInt64(e.rows))
                w.writeSignedVarint(e.ingestedAt)
            }
        }
    }

    static func decode(_ bytes: [UInt8]) -> [LedgerEntry]? {
        MetadataFile.decode(bytes, magic: FormatConstants.ledgerMagic, version: FormatConstants.ledgerVersion) { r, limit in
            guard let n = r.readLength(limit: limit) else { return nil }
            var out: [LedgerEntry] = []
            for _ in 0..<n {
                guard let name = r.readString(limit: 4096), let size = r.readVarint(), let hi = r.readUInt64(),
                      let lo = r.readUInt64(), let rows = r.readLength(limit: Int.max >> 1), let at = r.readSignedVarint()
                else { return nil }
                out.append(LedgerEntry(name: name, size: size, hash: ContentHash(hi: hi, lo: lo), rows: rows, ingestedAt: at))
            }
            return out
        }
    }
}
