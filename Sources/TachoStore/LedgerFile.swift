import TachoFormat

/// `index/ledger-<n>.led` (FORMAT.md §5): the ledger entries of one commit, or of a merge,
/// and the content-hash algorithm they were computed with.

/// One ingested input file, recorded in the same commit as its rows (FORMAT.md §5), so a
/// re-delivered file is recognised after any crash.
public struct LedgerEntry: Sendable, Hashable {
    public var name: String
    public var size: UInt64
    /// 128-bit content hash, by the algorithm of the ledger file that holds the entry.
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

/// How a ledger's content hashes are computed (FORMAT.md §5); the raw value is the version of
/// the ledger files that hold them.
public enum ContentHashAlgorithm: UInt16, Sendable, CaseIterable {
    /// Ledger version 1: two serial multiply-rotate lanes over 8-byte words.
    case pairs = 1
    /// Ledger version 2: four independent lanes over 32-byte stripes, ~8× faster.
    case stripes = 2

    /// What a new store uses.
    public static let current = ContentHashAlgorithm.stripes
}

/// A decoded ledger file: its entries and the algorithm their hashes were computed with.
struct LedgerContents {
    var algorithm: ContentHashAlgorithm
    var entries: [LedgerEntry]
}

enum LedgerFile {
    static func encode(_ entries: [LedgerEntry], algorithm: ContentHashAlgorithm) -> [UInt8] {
        MetadataFile.encode(magic: FormatConstants.ledgerMagic, version: algorithm.rawValue, capacity: 32 + entries.count * 64) { w in
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

    /// The entries of a ledger file of any version this build reads; nil when damaged.
    static func decode(_ bytes: [UInt8]) -> [LedgerEntry]? { decodeContents(bytes)?.entries }

    static func decodeContents(_ bytes: [UInt8]) -> LedgerContents? {
        for algorithm in ContentHashAlgorithm.allCases {
            let entries = MetadataFile.decode(bytes, magic: FormatConstants.ledgerMagic, version: algorithm.rawValue) { r, limit in
                decodeEntries(&r, limit: limit)
            }
            if let entries { return LedgerContents(algorithm: algorithm, entries: entries) }
        }
        return nil
    }

    private static func decodeEntries(_ r: inout ByteReader, limit: Int) -> [LedgerEntry]? {
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
