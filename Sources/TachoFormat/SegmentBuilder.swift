/// Builds the bytes of one segment file (FORMAT.md §2) incrementally, so a caller can stream
/// them to disk chunk by chunk: call `appendVehicle` for each vehicle in ascending id order,
/// draining `pending` as it grows, then `finish()`.
///
/// REQUIRES: vehicles appended in strictly ascending order (byte order of their ids); within a
/// vehicle, rows sorted by (time, identity columns) with no duplicate identities.
public struct SegmentBuilder {
    public struct Options: Sendable {
        /// zstd level for column blocks. Default 3: fast, and encoding does most of the work.
        public var zstdLevel: Int32 = 3
        /// Most rows in one chunk. Default 8192: small enough that a one-hour range reads
        /// little, large enough that zstd and the per-chunk overhead stay cheap.
        public var chunkRows = 8192
        public init() {}
    }

    public enum BuildError: Error, Sendable, CustomStringConvertible {
        case vehiclesOutOfOrder(previous: String, next: String)
        case columnMismatch(expected: Int, got: Int)
        /// A column that is not nullable holds a null row.
        case nullInNonNullableColumn(column: String, vehicle: String)
        public var description: String {
            switch self {
            case .vehiclesOutOfOrder(let p, let n): "segment builder: vehicle \(n) appended after \(p)"
            case .columnMismatch(let e, let g): "segment builder: expected \(e) columns, got \(g)"
            case .nullInNonNullableColumn(let c, let v): "segment builder: column \(c) is not nullable but vehicle \(v) has a row without it"
            }
        }
    }

    public let measurement: Measurement
    public let partitionStart: Int64
    public let seq: UInt64
    public let options: Options
    /// Bytes produced and not yet taken by the caller.
    public var pending = ByteWriter(capacity: 1 << 16)
    /// Bytes produced so far, including those already taken.
    public private(set) var offset: UInt64 = 0

    private var vehicles: [VehicleEntry] = []
    private var rowCount = 0
    private var minTime = Int64.max, maxTime = Int64.min
    private let compressor: ZstdCompressor
    private var raw = ByteWriter(capacity: 1 << 16)
    private var stringScratch = StringCodec.Scratch()
    /// One chunk's rows gathered by `appendVehicle(_:rows:…)`.
    private var gatheredTimes: [Int64] = []
    private var gathered: [ColumnValues] = []

    /// `header: false` builds a part: blocks only, with offsets from 0, for another builder's
    /// `append(part:)` to take after its own (vehicles encoded on another thread).
    public init(measurement: Measurement, partitionStart: Int64, seq: UInt64, options: Options = Options(), header: Bool = true) {
        self.measurement = measurement
        self.partitionStart = partitionStart
        self.seq = seq
        self.options = options
        compressor = ZstdCompressor(level: options.zstdLevel)
        guard header else { return }
        var h = ByteWriter(capacity: FormatConstants.segmentHeaderSize)
        h.writeUInt32(FormatConstants.segmentMagic)
        h.writeUInt16(FormatConstants.segmentVersion)
        h.writeUInt8(measurement.id)
        h.writeUInt8(0)
        h.writeUInt32(CRC32C.checksum(h.bytes))
        emit(h.bytes)
    }

    /// Hands the produced bytes to the caller and clears them.
    public mutating func takePending() -> [UInt8] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending.bytes
    }

    /// Appends rows `range` of one vehicle, splitting them into chunks of `chunkRows`.
    /// `columns` follow the measurement's schema; string ids index `dictionary`.
    public mutating func appendVehicle(
        _ vehicle: String, times: [Int64], columns: [ColumnValues], range: Range<Int>, dictionary: [String]
    ) throws {
        try check(vehicle, columns)
        guard !range.isEmpty else { return }
        var entry = VehicleEntry(vehicle: vehicle, chunks: [])
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(start + chunkLimit, range.upperBound)
            entry.chunks.append(try appendChunk(times: times, columns: columns, range: start..<end, dictionary: dictionary))
            start = end
        }
        vehicles.append(entry)
    }

    /// REQUIRES of both `appendVehicle`s: the schema's columns, vehicles in ascending order.
    private func check(_ vehicle: String, _ columns: [ColumnValues]) throws {
        guard columns.count == measurement.columns.count else {
            throw BuildError.columnMismatch(expected: measurement.columns.count, got: columns.count)
        }
        if let last = vehicles.last?.vehicle, !byteLess(last, vehicle) {
            throw BuildError.vehiclesOutOfOrder(previous: last, next: vehicle)
        }
        for (c, spec) in measurement.columns.enumerated() where !spec.isNullable && columns[c].nulls.contains(true) {
            throw BuildError.nullInNonNullableColumn(column: spec.name, vehicle: vehicle)
        }
    }

    /// Rows per chunk.
    private var chunkLimit: Int { max(1, min(options.chunkRows, FormatConstants.maxChunkRows)) }

    /// Appends one vehicle's rows given by position: row k of the vehicle is row `rows[k]` of
    /// `times` and `columns` (which follow the measurement's schema). Splits them into chunks
    /// exactly as `appendVehicle(_:times:columns:range:dictionary:)` does with the rows in
    /// that order, gathering one chunk at a time instead of the caller copying every column.
    public mutating func appendVehicle(
        _ vehicle: String, rows: UnsafeBufferPointer<Int32>, times: [Int64], columns: [ColumnValues], dictionary: [String]
    ) throws {
        try check(vehicle, columns)
        guard !rows.isEmpty else { return }
        if gathered.count != columns.count { gathered = measurement.columns.map { ColumnValues(type: $0.type) } }
        var entry = VehicleEntry(vehicle: vehicle, chunks: [])
        var start = 0
        while start < rows.count {
            let end = min(start + chunkLimit, rows.count)
            let part = UnsafeBufferPointer(rebasing: rows[start..<end])
            gatherArray(part, from: times, into: &gatheredTimes)
            for c in columns.indices {
                let src = columns[c]
                src.type.codec.gather(part, from: src, into: &gathered[c])
                gathered[c].nulls.removeAll(keepingCapacity: true)
                if !src.nulls.isEmpty { gathered[c].nulls.append(contentsOf: part.lazy.map { src.isNull(Int($0)) }) }
            }
            entry.chunks.append(
                try appendChunk(times: gatheredTimes, columns: gathered, range: 0..<part.count, dictionary: dictionary))
            start = end
        }
        vehicles.append(entry)
    }

    private mutating func appendChunk(
        times: [Int64], columns: [ColumnValues], range: Range<Int>, dictionary: [String]
    ) throws -> ChunkMeta {
        let n = range.count
        var blocks: [BlockRef] = []
        var stats: [ColumnStats] = []
        raw.removeAll()
        times.withUnsafeBufferPointer { TimeCodec.encode(UnsafeBufferPointer(rebasing: $0[range]), into: &raw) }
        blocks.append(try writeBlock())
        for (i, col) in columns.enumerated() {
            raw.removeAll()
            let spec = measurement.columns[i]
            if spec.isNullable { NullBitmap.encode(col, range, into: &raw) }
            var s = times.withUnsafeBufferPointer { t in
                spec.type.codec.encode(
                    col, range, times: UnsafeBufferPointer(rebasing: t[range]), dictionary: dictionary,
                    scratch: &stringScratch, into: &raw)
            }
            if spec.isNullable, col.hasNulls(in: range) { s.nulls = range.reduce(0) { $0 + (col.isNull($1) ? 1 : 0) } }
            blocks.append(try writeBlock())
            stats.append(s)
        }
        let lo = times[range.lowerBound], hi = times[range.upperBound - 1]
        rowCount += n
        minTime = min(minTime, lo)
        maxTime = max(maxTime, hi)
        return ChunkMeta(rowCount: n, minTime: lo, maxTime: hi, blocks: blocks, stats: stats)
    }

    /// Compresses `raw` (or keeps it raw when zstd does not help) and appends
    /// payload | encoding(1) | crc32c(4).
    private mutating func writeBlock() throws -> BlockRef {
        let start = offset
        let before = pending.count
        let rawCount = raw.count
        let written = try raw.bytes.withUnsafeBytes { try compressor.compress($0, appendingTo: &pending.bytes) }
        var encoding = BlockCompression.zstd
        if written >= rawCount {
            pending.bytes.removeLast(written)
            pending.writeBytes(raw.bytes)
            encoding = .raw
        }
        pending.writeUInt8(encoding.rawValue)
        let crc = pending.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[before...])) }
        pending.writeUInt32(crc)
        let stored = pending.count - before - FormatConstants.blockTrailerSize
        offset += UInt64(pending.count - before)
        return BlockRef(offset: start, length: UInt32(stored), rawLength: UInt32(rawCount))
    }

    private mutating func emit(_ bytes: [UInt8]) {
        pending.writeBytes(bytes)
        offset += UInt64(bytes.count)
    }

    /// Appends footer and trailer. Returns the footer (what the manifest summarises).
    public mutating func finish() -> SegmentFooter {
        let (tail, footer) = Self.tail(
            measurement: measurement, partitionStart: partitionStart, seq: seq, rowCount: rowCount,
            minTime: minTime, maxTime: maxTime, vehicles: vehicles, footerOffset: offset)
        emit(tail)
        return footer
    }

    /// Ends the segment without its footer and trailer, which are the only bytes that depend
    /// on `seq`: the body can be built anywhere and numbered later (`SegmentBody.tail`).
    /// REQUIRES: nothing taken from `pending` yet.
    public mutating func finishBody() -> SegmentBody {
        precondition(UInt64(pending.count) == offset, "finishBody after bytes were taken")
        defer { pending.removeAll(keepingCapacity: false) }
        return SegmentBody(
            measurement: measurement, partitionStart: partitionStart, bytes: pending.bytes, vehicles: vehicles,
            rowCount: rowCount, minTime: minTime, maxTime: maxTime)
    }

    /// Appends a part built by `init(…, header: false)` from the following vehicles: its blocks
    /// after these, its vehicles' block offsets moved by where they land. The bytes are those
    /// that appending its vehicles here would have made (a chunk's blocks do not depend on
    /// where they sit). REQUIRES: the part's vehicles follow this builder's in byte order.
    public mutating func append(part: SegmentBody) throws {
        guard part.rowCount > 0 else { return }
        if let last = vehicles.last?.vehicle, let next = part.vehicles.first?.vehicle, !byteLess(last, next) {
            throw BuildError.vehiclesOutOfOrder(previous: last, next: next)
        }
        let shift = offset
        for var entry in part.vehicles {
            for c in entry.chunks.indices {
                for b in entry.chunks[c].blocks.indices { entry.chunks[c].blocks[b].offset += shift }
            }
            vehicles.append(entry)
        }
        emit(part.bytes)
        rowCount += part.rowCount
        minTime = min(minTime, part.minTime)
        maxTime = max(maxTime, part.maxTime)
    }

    /// Footer and trailer (FORMAT.md §2.4) of a segment whose footer starts at `footerOffset`.
    static func tail(
        measurement: Measurement, partitionStart: Int64, seq: UInt64, rowCount: Int, minTime: Int64, maxTime: Int64,
        vehicles: [VehicleEntry], footerOffset: UInt64
    ) -> (bytes: [UInt8], footer: SegmentFooter) {
        let footer = SegmentFooter(
            measurement: measurement, partitionStart: partitionStart, seq: seq, rowCount: rowCount,
            minTime: rowCount == 0 ? 0 : minTime, maxTime: rowCount == 0 ? 0 : maxTime, vehicles: vehicles)
        var f = ByteWriter(capacity: 4096)
        footer.encode(into: &f)
        let footerCRC = CRC32C.checksum(f.bytes)
        let footerLength = UInt32(f.count)
        f.writeUInt64(footerOffset)
        f.writeUInt32(footerLength)
        f.writeUInt32(footerCRC)
        f.writeUInt16(FormatConstants.segmentVersion)
        f.writeUInt16(0)
        f.writeUInt32(FormatConstants.segmentTrailerMagic)
        return (f.bytes, footer)
    }
}

/// A segment's header and blocks plus what its footer will say, built before the segment has
/// a number (on a parser's thread): `tail(seq:)` completes it.
public struct SegmentBody: Sendable {
    public let measurement: Measurement
    public let partitionStart: Int64
    /// The segment file's first bytes: header and blocks.
    public let bytes: [UInt8]
    let vehicles: [VehicleEntry]
    public let rowCount: Int
    let minTime: Int64
    let maxTime: Int64

    /// The footer and trailer that follow `bytes` in the segment numbered `seq`.
    public func tail(seq: UInt64) -> (bytes: [UInt8], footer: SegmentFooter) {
        SegmentBuilder.tail(
            measurement: measurement, partitionStart: partitionStart, seq: seq, rowCount: rowCount,
            minTime: minTime, maxTime: maxTime, vehicles: vehicles, footerOffset: UInt64(bytes.count))
    }
}
