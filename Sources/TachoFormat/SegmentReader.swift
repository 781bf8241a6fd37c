/// Random access to the bytes of a segment file. The store implements it over a file
/// descriptor (pread); tests implement it over memory. Positioned reads only, no cursor:
/// one source is shared by every thread reading the segment (`SegmentHandle`).
public protocol SegmentSource: Sendable {
    var size: UInt64 { get }
    /// Reads exactly `count` bytes at `offset` into `buffer` (replacing its contents).
    func read(at offset: UInt64, count: Int, into buffer: inout [UInt8]) throws
}

public struct InMemorySegmentSource: SegmentSource {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var size: UInt64 { UInt64(bytes.count) }
    public func read(at offset: UInt64, count: Int, into buffer: inout [UInt8]) throws {
        guard offset <= UInt64(bytes.count), count <= bytes.count - Int(offset) else {
            throw SegmentError(path: "<memory>", offset: offset, .readPastEnd(count: count, size: UInt64(bytes.count)))
        }
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes[Int(offset)..<(Int(offset) + count)])
    }
}

/// A damaged or unreadable segment: the file, the byte offset of the damaged region, and what
/// is wrong there (`kind`, with its facts). `problem` is the text derived from `kind`.
public struct SegmentError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// The file is shorter than a header and a trailer.
        case tooShort(size: UInt64)
        /// A read of `count` bytes at the offset would pass the end of the `size`-byte file.
        case readPastEnd(count: Int, size: UInt64)
        /// A read returned `read` of the `expected` bytes.
        case shortRead(read: Int, expected: Int)
        case badMagic
        case headerChecksum
        /// A well-formed header (checksum intact) with a version newer than this reader knows
        /// (`readable`): a file from a newer tacho, not damage.
        case newerVersion(UInt16, readable: ClosedRange<UInt16>)
        case unsupportedVersion(UInt16)
        /// The trailer's magic or version (the header says `headerVersion`) is wrong.
        case badTrailer(headerVersion: UInt16)
        case footerBounds(offset: UInt64, length: UInt32, trailer: UInt64)
        case footerChecksum
        /// The footer's checksum holds but a field does not parse.
        case malformedFooter(SegmentFooter.Malformed)
        case footerMeasurement(header: UInt8, footer: UInt8)
        case blockChecksum
        case rawBlockLength(expected: UInt32, found: Int)
        /// zstd refused the block (its message).
        case decompression(String)
        case unknownBlockEncoding(UInt8)
        /// A block whose checksum holds but whose values break the codec's rules.
        case malformedBlock(column: String)

        public var description: String {
            switch self {
            case .tooShort(let size): "file is \(size) bytes, shorter than header and trailer"
            case .readPastEnd(let count, let size): "read of \(count) bytes past end of file (\(size))"
            case .shortRead(let read, let expected): "short read: \(read) of \(expected) bytes"
            case .badMagic: "bad magic, expected TSEG"
            case .headerChecksum: "header checksum mismatch"
            case .newerVersion(let v, let known):
                "unsupported segment version \(v): written by a newer tacho (this one reads versions \(known.lowerBound)–\(known.upperBound))"
            case .unsupportedVersion(let v): "unsupported segment version \(v)"
            case .badTrailer(let v): "bad trailer (magic, or version differs from header's \(v))"
            case .footerBounds(let off, let len, let trailer): "footer bounds \(off)+\(len) do not end at the trailer (\(trailer))"
            case .footerChecksum: "footer checksum mismatch"
            case .malformedFooter(let m): "malformed footer: \(m.field)"
            case .footerMeasurement(let h, let f): "footer measurement differs from header (\(f), header \(h))"
            case .blockChecksum: "block checksum mismatch"
            case .rawBlockLength(let expected, let found): "raw block length mismatch (footer says \(expected), block holds \(found))"
            case .decompression(let why): why
            case .unknownBlockEncoding(let b): "unknown block encoding \(b)"
            case .malformedBlock(let column): "malformed \(column) block"
            }
        }
    }

    public var path: String
    public var offset: UInt64
    public var kind: Kind

    public init(path: String, offset: UInt64, _ kind: Kind) {
        self.path = path
        self.offset = offset
        self.kind = kind
    }

    /// What is wrong, in words (derived from `kind`).
    public var problem: String { kind.description }
    /// A file from a newer tacho, not damage: nothing may quarantine or rewrite it.
    public var newerFormat: Bool { if case .newerVersion = kind { true } else { false } }

    public var description: String { "corrupt segment \(path) at offset \(offset): \(problem)" }
}

/// Per-cursor scratch over a shared, immutable `SegmentHandle`: decodes chunks on demand,
/// verifying each block's checksum before decoding it. Holds reusable buffers (the read
/// window, the decompression context and output), so one reader serves one thread at a time;
/// make one per cursor from the handle, which many threads share.
///
/// A reader made with `reopen` holds its handle weakly: when the store's bounded cache
/// evicts the handle (closing the descriptor once no read is using it), the next read asks
/// `reopen` for a new one, so a cursor over thousands of segments keeps no more descriptors
/// open than the cache allows. Without `reopen` it keeps its handle.
public final class SegmentReader {
    public var path: String { parsed.path }
    public var footer: SegmentFooter { parsed.footer }
    /// The segment format version of the file (header and trailer agree), one of
    /// `FormatConstants.readableSegmentVersions`.
    public var version: UInt16 { parsed.version }
    /// What the segment's handle validated and parsed (the same for any re-opened handle).
    public let parsed: SegmentHandle.Parsed
    private let keptHandle: SegmentHandle?
    private weak var weakHandle: SegmentHandle?
    private let reopen: (() throws -> SegmentHandle)?
    /// The zstd context and buffers, from a pool (`DecodeScratch`). `scratch.stored` holds
    /// file bytes [windowStart, windowStart + count): the blocks being decoded, and during a
    /// scan the chunks after them (see `load`).
    private let scratch = DecodeScratch.take()
    /// Which pooled scratch this reader holds (tests).
    var scratchIdentity: ObjectIdentifier { ObjectIdentifier(scratch) }
    private var windowStart: UInt64 = 0
    /// End of the last range loaded, and how far past a range to read while loads run in
    /// file order (a scan): 16 KiB doubling to 64 KiB, 0 after a jump (a point query).
    private var lastEnd: UInt64 = 0
    private var readAhead = 0
    /// Where the blocks end (the footer's offset).
    private var dataEnd: UInt64 { parsed.dataEnd }

    /// Opens the segment in `source`: validates header, trailer and footer (`SegmentHandle`).
    public convenience init(source: any SegmentSource, path: String) throws {
        try self.init(handle: SegmentHandle(source: source, path: path))
    }

    /// Scratch over `handle`. With `reopen`, the handle is held weakly and `reopen` gives a
    /// new one (of the same file) after the owner of `handle` let it go.
    public init(handle: SegmentHandle, reopen: (() throws -> SegmentHandle)? = nil) {
        parsed = handle.parsed
        self.reopen = reopen
        if reopen == nil { keptHandle = handle } else { keptHandle = nil }
        weakHandle = handle
        schema = handle.footer.measurement
        projection = Array(handle.footer.measurement.columns.indices)
    }

    /// The handle to read through now: the kept or still-cached one, or a re-opened one.
    private func currentHandle() throws -> SegmentHandle {
        if let keptHandle { return keptHandle }
        if let weakHandle { return weakHandle }
        guard let reopen else { preconditionFailure("a reader without reopen keeps its handle") }
        let h = try reopen()
        weakHandle = h
        return h
    }

    /// The schema `decode` fills: the segment's own (its footer's) unless `project(onto:)`
    /// gave the catalog's.
    public private(set) var schema: Measurement
    /// For each column of `schema`, the segment's column holding it, or nil (a column added
    /// to the measurement after this segment was written: every row null).
    public private(set) var projection: [Int?]

    public enum ProjectionError: Error, Sendable, Hashable, CustomStringConvertible {
        case typeDiffers(path: String, column: String, segment: ColumnType, catalog: ColumnType)
        case measurementDiffers(path: String, segment: UInt8, catalog: UInt8)
        public var description: String {
            switch self {
            case .typeDiffers(let p, let c, let s, let k):
                "segment \(p): column \(c) is \(s) in the segment but \(k) in the catalog"
            case .measurementDiffers(let p, let s, let k): "segment \(p): measurement \(s), not \(k)"
            }
        }
    }

    /// Decodes into `m`'s columns from now on, matching columns by their stable ids
    /// (FORMAT.md §2.4): a column the segment lacks reads as null. Throws when a column of
    /// the same id has another type, or `m` is another measurement.
    public func project(onto m: Measurement) throws {
        guard m.id == footer.measurement.id else {
            throw ProjectionError.measurementDiffers(path: path, segment: footer.measurement.id, catalog: m.id)
        }
        var p: [Int?] = []
        for c in m.columns {
            let k = footer.measurement.columnIndex(id: c.id)
            if let k, footer.measurement.columns[k].type != c.type {
                throw ProjectionError.typeDiffers(path: path, column: c.name, segment: footer.measurement.columns[k].type, catalog: c.type)
            }
            p.append(k)
        }
        schema = m
        projection = p
    }

    /// The stats of `schema` column `column` in `chunk`, or nil when the segment lacks it.
    public func stats(_ chunk: ChunkMeta, column: Int) -> ColumnStats? { projection[column].map { chunk.stats[$0] } }

    deinit { DecodeScratch.give(scratch) }

    /// Verifies the block `ref`, stored in `bytes` from `at`, and calls `body` with its
    /// decompressed payload (valid only inside `body`).
    private func withBlock<R>(
        _ ref: BlockRef, in bytes: UnsafeRawBufferPointer, at: Int, _ body: (UnsafeRawBufferPointer) -> R
    ) throws -> R {
        let payload = Int(ref.length)
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at + payload + 1, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[at..<(at + payload + 1)])) == crc else {
            throw SegmentError(path: path, offset: ref.offset, .blockChecksum)
        }
        let data = UnsafeRawBufferPointer(rebasing: bytes[at..<(at + payload)])
        switch BlockCompression(rawValue: bytes[at + payload]) {
        case .raw:
            guard payload == Int(ref.rawLength) else {
                throw SegmentError(path: path, offset: ref.offset, .rawBlockLength(expected: ref.rawLength, found: payload))
            }
            return body(data)
        case .zstd:
            let n = Int(ref.rawLength)
            let out = scratch.rawBuffer(n)
            if n > 0 {
                do {
                    try scratch.decompressor.decompress(data, into: out)
                } catch {
                    throw SegmentError(path: path, offset: ref.offset, .decompression("\(error)"))
                }
            }
            return body(UnsafeRawBufferPointer(out))
        case nil:
            throw SegmentError(path: path, offset: ref.offset, .unknownBlockEncoding(bytes[at + payload]))
        }
    }

    /// Makes file bytes [lo, hi) available in `stored` and returns where they start there.
    /// Loads that continue where the last one ended read ahead, so a scan of a segment with
    /// small chunks costs a few reads instead of one per chunk.
    private func load(_ lo: UInt64, _ hi: UInt64) throws -> Int {
        if lo >= windowStart && hi <= windowStart + UInt64(scratch.stored.count) {
            lastEnd = hi
            return Int(lo - windowStart)
        }
        let sequential = lo >= lastEnd && lo - lastEnd <= 4096
        readAhead = sequential ? min(max(readAhead * 2, 16 << 10), 64 << 10) : 0
        let end = max(hi, min(lo + UInt64(readAhead), dataEnd))
        do {
            // The local strong reference keeps the descriptor open for this read even when
            // another thread evicts the handle meanwhile.
            let handle = try currentHandle()
            try handle.source.read(at: lo, count: Int(end - lo), into: &scratch.stored)
        } catch {
            scratch.stored.removeAll(keepingCapacity: true)
            throw error
        }
        windowStart = lo
        lastEnd = hi
        return 0
    }

    /// Decodes the time column and the `schema` columns selected by `wanted` (all when nil)
    /// of `chunk` into `out` (made for `schema`). Columns not wanted are left empty; columns
    /// the segment lacks are all null.
    public func decode(_ chunk: ChunkMeta, columns wanted: [Bool]? = nil, into out: inout DecodedChunk) throws {
        let columns = footer.measurement.columns
        // The blocks of a chunk lie one after another: read the span of the wanted ones at
        // once when it holds little else.
        var lo = UInt64.max, hi: UInt64 = 0, needed: UInt64 = 0
        var blockWanted = [Bool](repeating: wanted == nil, count: chunk.blocks.count)
        blockWanted[0] = true
        if let wanted {
            for (i, k) in projection.enumerated() where wanted[i] { if let k { blockWanted[k + 1] = true } }
        }
        for b in chunk.blocks.indices where blockWanted[b] {
            let ref = chunk.blocks[b]
            let end = ref.offset + UInt64(ref.length) + UInt64(FormatConstants.blockTrailerSize)
            lo = min(lo, ref.offset)
            hi = max(hi, end)
            needed += end - ref.offset
        }
        let oneRead = hi - lo <= 2 * needed
        if oneRead { _ = try load(lo, hi) }
        /// Calls `body` with block `b`'s payload.
        func block<R>(_ b: Int, _ body: (UnsafeRawBufferPointer) -> R) throws -> R {
            let ref = chunk.blocks[b]
            let total = Int(ref.length) + FormatConstants.blockTrailerSize
            let at = oneRead ? Int(ref.offset - windowStart) : try load(ref.offset, ref.offset + UInt64(total))
            guard scratch.stored.count >= at + total else {
                throw SegmentError(path: path, offset: ref.offset, .shortRead(read: max(0, scratch.stored.count - at), expected: total))
            }
            return try scratch.stored.withUnsafeBytes { try withBlock(ref, in: $0, at: at, body) }
        }
        let n = chunk.rowCount
        let okTimes = try block(0) { TimeCodec.decode($0, expectedCount: n, version: version, into: &out.times) }
        guard okTimes, out.times.first == chunk.minTime, out.times.last == chunk.maxTime else {
            throw SegmentError(path: path, offset: chunk.blocks[0].offset, .malformedBlock(column: "time"))
        }
        let segmentVersion = version
        for i in projection.indices {
            if let wanted, !wanted[i] {
                out.columns[i].clear()
                continue
            }
            guard let k = projection[i] else {
                // Added to the measurement after this segment was written: every row null.
                out.columns[i].clear()
                for _ in 0..<n { out.columns[i].values.appendNull() }
                if out.columns[i].type.codec.usesDictionary { out.columns[i].dictionary = [""] }
                continue
            }
            let spec = columns[k]
            let ok: Bool = try block(k + 1) { raw in
                var payload = raw
                if spec.isNullable {
                    guard let rest = NullBitmap.decode(raw, count: n, into: &out.columns[i].values.nulls) else { return false }
                    payload = rest
                } else {
                    out.columns[i].values.nulls.removeAll(keepingCapacity: true)
                }
                return spec.type.codec.decode(payload, count: n, version: segmentVersion, times: out.times, into: &out.columns[i])
            }
            guard ok else {
                throw SegmentError(path: path, offset: chunk.blocks[k + 1].offset, .malformedBlock(column: spec.name))
            }
        }
    }
}
