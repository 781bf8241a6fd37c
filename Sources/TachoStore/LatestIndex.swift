import TachoFormat

/// The latest-status index: per vehicle, the status row with the greatest time (ties: the
/// one written last). Persisted as `index/latest-<n>.idx` in every commit that changes it
/// (FORMAT.md §4) and rebuilt from segment footers when missing or damaged.
public struct LatestEntry: Sendable, Hashable {
    public var time: Int64
    public var seq: UInt64
    public var status: String

    /// The status compares by bytes (`Identity`).
    public static func == (a: Self, b: Self) -> Bool { a.time == b.time && a.seq == b.seq && Identity.equal(a.status, b.status) }

    public func hash(into h: inout Hasher) { h.combine(time); h.combine(seq); h.combine(ByteString(status)) }

    /// True when `self` should replace `old`: a later time, or the same identity written later.
    func supersedes(_ old: LatestEntry) -> Bool {
        time > old.time || (time == old.time && seq >= old.seq)
    }
}

public struct LatestIndex: Sendable, Equatable {
    /// Keyed by vehicle id bytes (`Identity`): byte-distinct ids are distinct vehicles.
    public var entries: [ByteString: LatestEntry] = [:]

    public init() {}

    /// The entry of `vehicle` (matched by bytes).
    public func entry(_ vehicle: String) -> LatestEntry? { entries[ByteString(vehicle)] }

    /// Keeps `e` when it supersedes the vehicle's entry; returns whether it did.
    @discardableResult
    public mutating func offer(vehicle: String, _ e: LatestEntry) -> Bool {
        let key = ByteString(vehicle)
        if let old = entries[key], !e.supersedes(old) { return false }
        entries[key] = e
        return true
    }

    public func encode() -> [UInt8] {
        MetadataFile.encode(
            magic: FormatConstants.latestMagic, version: FormatConstants.latestVersion, capacity: 32 + entries.count * 64
        ) { w in
            w.writeVarint(UInt64(entries.count))
            for (v, e) in entries.sorted(by: { $0.key < $1.key }) {  // byte order (FORMAT.md §4)
                w.writeString(v.string)
                w.writeSignedVarint(e.time)
                w.writeVarint(e.seq)
                w.writeString(e.status)
            }
        }
    }

    public static func decode(_ bytes: [UInt8]) -> LatestIndex? {
        MetadataFile.decode(bytes, magic: FormatConstants.latestMagic, version: FormatConstants.latestVersion) { r, limit in
            guard let n = r.readLength(limit: limit) else { return nil }
            var idx = LatestIndex()
            idx.entries.reserveCapacity(n)
            for _ in 0..<n {
                guard let v = r.readString(limit: 4096), let t = r.readSignedVarint(), let s = r.readVarint(),
                      let st = r.readString(limit: 4096)
                else { return nil }
                idx.entries[ByteString(v)] = LatestEntry(time: t, seq: s, status: st)
            }
            return idx
        }
    }
}

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

public struct ContentHash: Sendable, Hashable, CustomStringConvertible {
    public var hi: UInt64
    public var lo: UInt64
    public init(hi: UInt64, lo: UInt64) { (self.hi, self.lo) = (hi, lo) }
    public var description: String {
        let a = String(hi, radix: 16), b = String(lo, radix: 16)
        return String(repeating: "0", count: 16 - a.count) + a + String(repeating: "0", count: 16 - b.count) + b
    }
}

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
