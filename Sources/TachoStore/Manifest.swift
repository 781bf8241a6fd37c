import TachoFormat

/// One live segment as the manifest records it (FORMAT.md §3).
public struct SegmentMeta: Sendable, Hashable {
    public var name: String
    public var measurementID: UInt8
    public var partitionStart: Int64
    /// Write order: among rows with the same identity, the one in the higher seq wins.
    public var seq: UInt64
    public var rowCount: Int
    public var minTime: Int64
    public var maxTime: Int64
    public var fileSize: UInt64
}

/// The store's state at one commit. Replaced whole by every commit (write MANIFEST.tmp,
/// fsync, rename over MANIFEST, fsync the directory), so readers see one commit or the next.
public struct Manifest: Sendable, Equatable {
    /// Number of commits so far.
    public var commit: UInt64 = 0
    /// Next number for a segment, index or ledger file (also the next segment seq).
    public var nextNumber: UInt64 = 1
    /// Partition width in microseconds (default one day). Fixed when the store is created.
    public var partitionWidth: Int64 = 86_400_000_000
    public var segments: [SegmentMeta] = []
    /// Latest-status index file name and its CRC32C ("" when none yet).
    public var latestIndex = ""
    public var latestIndexCRC: UInt32 = 0
    /// Ingest ledger files (FORMAT.md §5).
    public var ledgers: [String] = []
    /// Rows of a measurement older than its watermark are expired (retention): hidden from
    /// queries at once, deleted physically later. Keyed by measurement id.
    public var watermarks: [UInt8: Int64] = [:]
    /// The catalog generation of this commit (FORMAT.md §7), a file in `index/`, and its own
    /// trailing CRC; "" when the store has none (then the legacy `CATALOG` file, or the
    /// built-ins). A manifest naming one is written as version 2, else as version 1.
    public var catalog = ""
    public var catalogCRC: UInt32 = 0

    public init() {}

    public func encode() -> [UInt8] {
        let version = catalog.isEmpty ? FormatConstants.manifestVersionWithoutCatalog : FormatConstants.manifestVersion
        return MetadataFile.encode(
            magic: FormatConstants.manifestMagic, version: version, capacity: 64 + segments.count * 64
        ) { w in encodeBody(into: &w) }
    }

    private func encodeBody(into w: inout ByteWriter) {
        w.writeUInt64(commit)
        w.writeUInt64(nextNumber)
        w.writeInt64(partitionWidth)
        w.writeVarint(UInt64(segments.count))
        for s in segments {
            w.writeString(s.name)
            w.writeUInt8(s.measurementID)
            w.writeInt64(s.partitionStart)
            w.writeVarint(s.seq)
            w.writeVarint(UInt64(s.rowCount))
            w.writeSignedVarint(s.minTime)
            w.writeSignedVarint(s.maxTime)
            w.writeVarint(s.fileSize)
        }
        w.writeString(latestIndex)
        w.writeUInt32(latestIndexCRC)
        w.writeVarint(UInt64(ledgers.count))
        for l in ledgers { w.writeString(l) }
        w.writeVarint(UInt64(watermarks.count))
        for (k, v) in watermarks.sorted(by: { $0.key < $1.key }) {
            w.writeUInt8(k)
            w.writeInt64(v)
        }
        if !catalog.isEmpty {
            w.writeString(catalog)
            w.writeUInt32(catalogCRC)
        }
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> Manifest {
        func bad(_ what: String, _ offset: Int) -> StoreError {
            StoreError(.corrupt, "read manifest", path: path, "offset \(offset): \(what)")
        }
        guard bytes.count >= 12 else { throw bad("file is \(bytes.count) bytes", 0) }
        let body = bytes.count - 4
        return try bytes.withUnsafeBytes { raw in
            guard let b = MetadataFile.checkedBody(raw) else { throw bad("checksum mismatch", body) }
            var r = ByteReader(b)
            guard r.readUInt32() == FormatConstants.manifestMagic else { throw bad("bad magic, expected TMAN", 0) }
            guard let v = r.readUInt16(),
                  v == FormatConstants.manifestVersion || v == FormatConstants.manifestVersionWithoutCatalog,
                  r.readUInt16() == 0
            else {
                throw bad("unsupported manifest version", 4)
            }
            var m = Manifest()
            guard let c = r.readUInt64(), let nn = r.readUInt64(), let pw = r.readInt64(), pw > 0,
                  let ns = r.readLength(limit: body)
            else { throw bad("malformed header", r.offset) }
            (m.commit, m.nextNumber, m.partitionWidth) = (c, nn, pw)
            m.segments.reserveCapacity(ns)
            for _ in 0..<ns {
                guard let name = r.readString(limit: 255), let mid = r.readUInt8(), let ps = r.readInt64(),
                      let seq = r.readVarint(), let rows = r.readLength(limit: Int.max >> 1),
                      let lo = r.readSignedVarint(), let hi = r.readSignedVarint(), let size = r.readVarint()
                else { throw bad("malformed segment entry", r.offset) }
                m.segments.append(SegmentMeta(
                    name: name, measurementID: mid, partitionStart: ps, seq: seq, rowCount: rows,
                    minTime: lo, maxTime: hi, fileSize: size))
            }
            guard let li = r.readString(limit: 255), let lcrc = r.readUInt32(), let nl = r.readLength(limit: body)
            else { throw bad("malformed index section", r.offset) }
            (m.latestIndex, m.latestIndexCRC) = (li, lcrc)
            for _ in 0..<nl {
                guard let l = r.readString(limit: 255) else { throw bad("malformed ledger entry", r.offset) }
                m.ledgers.append(l)
            }
            guard let nw = r.readLength(limit: 256) else { throw bad("malformed watermarks", r.offset) }
            for _ in 0..<nw {
                guard let k = r.readUInt8(), let v = r.readInt64() else { throw bad("malformed watermark", r.offset) }
                m.watermarks[k] = v
            }
            if v == FormatConstants.manifestVersion {
                guard let name = r.readString(limit: 255), !name.isEmpty, let crc = r.readUInt32() else {
                    throw bad("malformed catalog entry", r.offset)
                }
                (m.catalog, m.catalogCRC) = (name, crc)
            }
            guard r.isAtEnd else { throw bad("\(r.remaining) trailing bytes", r.offset) }
            return m
        }
    }

    public func segments(of measurement: Measurement) -> [SegmentMeta] {
        segments.filter { $0.measurementID == measurement.id }
    }

    /// The partition width (µs) of `measurement`: its own (a rollup's, from its catalog entry,
    /// FORMAT.md §7), else the store's.
    public func partitionWidth(of measurement: Measurement) -> Int64 {
        measurement.partitionWidth ?? partitionWidth
    }

    /// The partition width (µs) of the measurement with id `id` in `catalog`; the store's for
    /// an id the catalog lacks.
    public func partitionWidth(of id: UInt8, in catalog: Catalog) -> Int64 {
        catalog.measurement(id: id)?.partitionWidth ?? partitionWidth
    }

    /// Partition start (µs) of a time under this store's partition width (measurements
    /// without a width of their own).
    public func partitionStart(of time: Int64) -> Int64 {
        Self.partitionStart(of: time, width: partitionWidth)
    }

    /// Partition start (µs) of a row of `measurement` at `time`.
    public func partitionStart(of time: Int64, in measurement: Measurement) -> Int64 {
        Self.partitionStart(of: time, width: partitionWidth(of: measurement))
    }

    /// End (exclusive, µs) of the partition that starts at `start` under this store's partition
    /// width; `Int64.max` for the last partition, whose end does not fit.
    public func partitionEnd(of start: Int64) -> Int64 {
        Self.partitionEnd(of: start, width: partitionWidth)
    }

    /// End (exclusive, µs) of the partition of `measurement` that starts at `start`.
    public func partitionEnd(of start: Int64, in measurement: Measurement) -> Int64 {
        Self.partitionEnd(of: start, width: partitionWidth(of: measurement))
    }

    /// End (exclusive, µs) of the partition of measurement `id` (widths from `catalog`).
    public func partitionEnd(of start: Int64, id: UInt8, in catalog: Catalog) -> Int64 {
        Self.partitionEnd(of: start, width: partitionWidth(of: id, in: catalog))
    }

    /// `floor(time / width) · width` (FORMAT.md §3.3), rounding toward −∞. `width` > 0.
    public static func partitionStart(of time: Int64, width: Int64) -> Int64 {
        let q = time / width
        let start = q * width
        return start > time ? start - width : start
    }

    /// `start + width`, or `Int64.max` when that does not fit (the last partition).
    public static func partitionEnd(of start: Int64, width: Int64) -> Int64 {
        let (end, o) = start.addingReportingOverflow(width)
        return o ? .max : end
    }
}
