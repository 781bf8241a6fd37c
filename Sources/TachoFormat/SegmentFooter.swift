/// Where one block lives in a segment file (FORMAT.md §2.2). `length` counts the stored
/// payload only; the 5-byte block trailer (encoding, crc32c) follows it.
public struct BlockRef: Sendable, Hashable {
    public var offset: UInt64
    public var length: UInt32
    public var rawLength: UInt32
}

/// Per-column statistics of one chunk (FORMAT.md §2.4.2). Ints and floats carry
/// min/max/sum; every column carries its value at the chunk's last row (the row with the
/// greatest time), which is what rebuilds the latest-status index from footers.
public struct ColumnStats: Sendable, Hashable {
    public var minInt: Int64 = 0, maxInt: Int64 = 0, sumInt: Int64 = 0, sumOverflow = false
    public var minDouble = 0.0, maxDouble = 0.0, sumDouble = 0.0
    public var distinct = 0
    public var lastInt: Int64 = 0
    public var lastDouble = 0.0
    public var lastString = ""
    /// Bool columns: rows that are true; the last non-null row's value.
    public var trues = 0
    public var lastBool = false
    /// Nullable columns (segment version 3): rows without a value. The other stats cover the
    /// rows with one (all zero when there is none).
    public var nulls = 0
}

public struct ChunkMeta: Sendable, Hashable {
    public var rowCount: Int
    public var minTime: Int64
    public var maxTime: Int64
    /// Block 0 is the time column, then one per schema column.
    public var blocks: [BlockRef]
    public var stats: [ColumnStats]
}

public struct VehicleEntry: Sendable, Hashable {
    public var vehicle: String
    public var chunks: [ChunkMeta]

    public var rowCount: Int { chunks.reduce(0) { $0 + $1.rowCount } }
    public var minTime: Int64 { chunks.first?.minTime ?? 0 }
    public var maxTime: Int64 { chunks.last?.maxTime ?? 0 }
}

/// The index at the end of a segment: what a reader needs to find any vehicle's chunks and
/// answer some aggregates without decoding.
public struct SegmentFooter: Sendable, Hashable {
    public var measurement: Measurement
    public var partitionStart: Int64
    public var seq: UInt64
    public var rowCount: Int
    public var minTime: Int64
    public var maxTime: Int64
    /// Sorted by vehicle id (byte order).
    public var vehicles: [VehicleEntry]

    public func vehicle(_ id: String) -> VehicleEntry? {
        var lo = 0, hi = vehicles.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if byteLess(vehicles[mid].vehicle, id) { lo = mid + 1 } else { hi = mid }
        }
        return lo < vehicles.count && byteEqual(vehicles[lo].vehicle, id) ? vehicles[lo] : nil
    }
}

extension SegmentFooter {
    func encode(into w: inout ByteWriter) {
        w.writeUInt8(measurement.id)
        w.writeString(measurement.name)
        w.writeVarint(UInt64(measurement.columns.count))
        for c in measurement.columns {
            w.writeVarint(UInt64(c.id))
            w.writeString(c.name)
            w.writeUInt8(c.type.rawValue)
            w.writeUInt8((c.isIdentity ? 1 : 0) | (c.isNullable ? 2 : 0))
        }
        w.writeInt64(partitionStart)
        w.writeUInt64(seq)
        w.writeVarint(UInt64(rowCount))
        w.writeSignedVarint(minTime)
        w.writeSignedVarint(maxTime)
        w.writeVarint(UInt64(vehicles.count))
        for v in vehicles {
            w.writeString(v.vehicle)
            w.writeVarint(UInt64(v.chunks.count))
            for c in v.chunks {
                w.writeVarint(UInt64(c.rowCount))
                w.writeSignedVarint(c.minTime)
                w.writeVarint(UInt64(bitPattern: c.maxTime &- c.minTime))
                for b in c.blocks {
                    w.writeVarint(b.offset)
                    w.writeVarint(UInt64(b.length))
                    w.writeVarint(UInt64(b.rawLength))
                }
                for (i, s) in c.stats.enumerated() {
                    let col = measurement.columns[i]
                    if col.isNullable { w.writeVarint(UInt64(s.nulls)) }
                    col.type.codec.writeStats(s, into: &w)
                }
            }
        }
    }

    /// Parses a footer; nil when any field is malformed. `fileSize` bounds block offsets.
    /// Versions 1 and 2 (no column ids, flags 0/1) give column `k` the id `k + 1`.
    static func decode(_ raw: UnsafeRawBufferPointer, dataEnd: UInt64, version: UInt16) -> SegmentFooter? {
        var r = ByteReader(raw)
        let maxCount = raw.count  // every entry takes at least one byte
        let v3 = version >= 3
        guard let mid = r.readUInt8(), let mname = r.readString(limit: 256),
              let ncols = r.readLength(limit: v3 ? FormatConstants.maxColumns : 64)
        else { return nil }
        var cols: [ColumnSpec] = []
        var ids = Set<UInt32>()
        for k in 0..<ncols {
            var id = UInt32(k + 1)
            if v3 {
                guard let x = r.readVarint(), x >= 1, x <= UInt64(UInt32.max), ids.insert(UInt32(x)).inserted else { return nil }
                id = UInt32(x)
            }
            guard let name = r.readString(limit: 256), let t = r.readUInt8().flatMap(ColumnType.init(rawValue:)),
                  t.codec.sinceVersion <= version, let flags = r.readUInt8(), flags <= (v3 ? 3 : 1)
            else { return nil }
            cols.append(ColumnSpec(name, t, identity: flags & 1 == 1, nullable: flags & 2 == 2, id: id))
        }
        let m = Measurement(id: mid, name: mname, columns: cols)
        guard let pstart = r.readInt64(), let seq = r.readUInt64(), let rows = r.readLength(limit: Int.max >> 1),
              let minT = r.readSignedVarint(), let maxT = r.readSignedVarint(),
              let nv = r.readLength(limit: maxCount)
        else { return nil }
        var vehicles: [VehicleEntry] = []
        vehicles.reserveCapacity(nv)
        var total = 0
        for _ in 0..<nv {
            guard let vid = r.readString(limit: 4096), let nc = r.readLength(limit: maxCount) else { return nil }
            if let last = vehicles.last, !byteLess(last.vehicle, vid) { return nil }
            var chunks: [ChunkMeta] = []
            for _ in 0..<nc {
                guard let n = r.readLength(limit: FormatConstants.maxChunkRows), n > 0, let cmin = r.readSignedVarint(),
                      let span = r.readVarint()
                else { return nil }
                var blocks: [BlockRef] = []
                for _ in 0...ncols {
                    guard let off = r.readVarint(), let len = r.readLength(limit: Int(UInt32.max)),
                          let rawLen = r.readLength(limit: Int(UInt32.max)),
                          off >= UInt64(FormatConstants.segmentHeaderSize),
                          off <= dataEnd, UInt64(len) + UInt64(FormatConstants.blockTrailerSize) <= dataEnd - off,
                          rawLen <= FormatConstants.maxBlockBytes
                    else { return nil }
                    blocks.append(BlockRef(offset: off, length: UInt32(len), rawLength: UInt32(rawLen)))
                }
                var stats: [ColumnStats] = []
                for c in cols {
                    var nulls = 0
                    if c.isNullable {
                        guard let k = r.readLength(limit: n) else { return nil }
                        nulls = k
                    }
                    guard var s = c.type.codec.readStats(&r, rows: n) else { return nil }
                    s.nulls = nulls
                    stats.append(s)
                }
                let cmax = cmin &+ Int64(bitPattern: span)
                chunks.append(ChunkMeta(rowCount: n, minTime: cmin, maxTime: cmax, blocks: blocks, stats: stats))
                total += n
            }
            vehicles.append(VehicleEntry(vehicle: vid, chunks: chunks))
        }
        guard r.isAtEnd, total == rows else { return nil }
        return SegmentFooter(
            measurement: m, partitionStart: pstart, seq: seq, rowCount: rows,
            minTime: minT, maxTime: maxT, vehicles: vehicles)
    }
}
