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

    /// A footer field that does not parse: which one, and where in the footer it starts.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        /// The field, as FORMAT.md §3.3 names it: "column 2 type", "vehicle 7 chunk 0 block 3".
        public var field: String
        /// Byte offset of the field from the start of the footer.
        public var offset: Int

        public var description: String { field }
    }

    /// Parses a footer; throws `Malformed` naming the first field that does not parse.
    /// `dataEnd` (the footer's offset) bounds block offsets. Versions 1 and 2 (no column ids,
    /// flags 0/1) give column `k` the id `k + 1`.
    static func parse(_ raw: UnsafeRawBufferPointer, dataEnd: UInt64, version: UInt16) throws(Malformed) -> SegmentFooter {
        var r = ByteReader(raw)
        var at = 0
        func field(_ name: @autoclosure () -> String) -> Malformed { Malformed(field: name(), offset: at) }
        let maxCount = raw.count  // every entry takes at least one byte
        let v3 = version >= 3
        guard let mid = r.readUInt8() else { throw field("measurement id") }
        at = r.offset
        guard let mname = r.readString(limit: 256) else { throw field("measurement name") }
        at = r.offset
        guard let ncols = r.readLength(limit: v3 ? FormatConstants.maxColumns : 64) else { throw field("column count") }
        var cols: [ColumnSpec] = []
        var ids = Set<UInt32>()
        for k in 0..<ncols {
            at = r.offset
            var id = UInt32(k + 1)
            if v3 {
                guard let x = r.readVarint(), x >= 1, x <= UInt64(UInt32.max), ids.insert(UInt32(x)).inserted else {
                    throw field("column \(k) id (1…2³²−1, unique)")
                }
                id = UInt32(x)
                at = r.offset
            }
            guard let name = r.readString(limit: 256) else { throw field("column \(k) name") }
            at = r.offset
            guard let t = r.readUInt8().flatMap(ColumnType.init(rawValue:)), t.codec.sinceVersion <= version else {
                throw field("column \(k) type")
            }
            at = r.offset
            guard let flags = r.readUInt8(), flags <= (v3 ? 3 : 1) else { throw field("column \(k) flags") }
            cols.append(ColumnSpec(name, t, identity: flags & 1 == 1, nullable: flags & 2 == 2, id: id))
        }
        let m = Measurement(id: mid, name: mname, columns: cols)
        at = r.offset
        guard let pstart = r.readInt64(), let seq = r.readUInt64(), let rows = r.readLength(limit: Int.max >> 1),
              let minT = r.readSignedVarint(), let maxT = r.readSignedVarint()
        else { throw field("partition start, seq, row count, min/max time") }
        at = r.offset
        guard let nv = r.readLength(limit: maxCount) else { throw field("vehicle count") }
        var vehicles: [VehicleEntry] = []
        vehicles.reserveCapacity(nv)
        var total = 0
        for v in 0..<nv {
            at = r.offset
            guard let vid = r.readString(limit: 4096), let nc = r.readLength(limit: maxCount) else {
                throw field("vehicle \(v) id and chunk count")
            }
            if let last = vehicles.last, !byteLess(last.vehicle, vid) { throw field("vehicle \(v) id (ascending, unique)") }
            var chunks: [ChunkMeta] = []
            for c in 0..<nc {
                at = r.offset
                guard let n = r.readLength(limit: FormatConstants.maxChunkRows), n > 0, let cmin = r.readSignedVarint(),
                      let span = r.readVarint()
                else { throw field("vehicle \(v) chunk \(c) rows and times") }
                var blocks: [BlockRef] = []
                for b in 0...ncols {
                    at = r.offset
                    guard let off = r.readVarint(), let len = r.readLength(limit: Int(UInt32.max)),
                          let rawLen = r.readLength(limit: Int(UInt32.max)),
                          off >= UInt64(FormatConstants.segmentHeaderSize),
                          off <= dataEnd, UInt64(len) + UInt64(FormatConstants.blockTrailerSize) <= dataEnd - off,
                          rawLen <= FormatConstants.maxBlockBytes
                    else { throw field("vehicle \(v) chunk \(c) block \(b) (offset, length, raw length)") }
                    blocks.append(BlockRef(offset: off, length: UInt32(len), rawLength: UInt32(rawLen)))
                }
                var stats: [ColumnStats] = []
                for col in cols {
                    at = r.offset
                    var nulls = 0
                    if col.isNullable {
                        guard let k = r.readLength(limit: n) else { throw field("vehicle \(v) chunk \(c) \(col.name) null count") }
                        nulls = k
                    }
                    guard var st = col.type.codec.readStats(&r, rows: n) else { throw field("vehicle \(v) chunk \(c) \(col.name) stats") }
                    st.nulls = nulls
                    stats.append(st)
                }
                let cmax = cmin &+ Int64(bitPattern: span)
                chunks.append(ChunkMeta(rowCount: n, minTime: cmin, maxTime: cmax, blocks: blocks, stats: stats))
                total += n
            }
            vehicles.append(VehicleEntry(vehicle: vid, chunks: chunks))
        }
        at = r.offset
        guard r.isAtEnd else { throw field("end of footer (\(r.remaining) bytes left over)") }
        guard total == rows else { throw field("row count (\(rows), the chunks hold \(total))") }
        return SegmentFooter(
            measurement: m, partitionStart: pstart, seq: seq, rowCount: rows,
            minTime: minT, maxTime: maxT, vehicles: vehicles)
    }
}
