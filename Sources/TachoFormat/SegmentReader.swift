/// Random access to the bytes of a segment file. The store implements it over a file
/// descriptor (pread); tests implement it over memory.
public protocol SegmentSource {
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
            throw SegmentError(path: "<memory>", offset: offset, problem: "read past end of \(bytes.count) bytes")
        }
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: bytes[Int(offset)..<(Int(offset) + count)])
    }
}

/// A damaged or unreadable segment: the file, the byte offset of the damaged region, what
/// was expected there.
public struct SegmentError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var offset: UInt64
    public var problem: String

    public init(path: String, offset: UInt64, problem: String) {
        self.path = path
        self.offset = offset
        self.problem = problem
    }

    public var description: String { "corrupt segment \(path) at offset \(offset): \(problem)" }
}

/// Reads one segment: validates header and trailer, parses the footer at open, and decodes
/// chunks on demand, verifying each block's checksum before decoding it. Holds reusable
/// scratch buffers, so one reader serves one thread at a time.
public final class SegmentReader {
    public let path: String
    public let footer: SegmentFooter
    private let source: any SegmentSource
    private let decompressor = ZstdDecompressor()
    private var stored: [UInt8] = []
    private var rawBlock: [UInt8] = []

    public init(source: any SegmentSource, path: String) throws {
        self.source = source
        self.path = path
        let size = source.size
        let minSize = UInt64(FormatConstants.segmentHeaderSize + FormatConstants.segmentTrailerSize)
        guard size >= minSize else {
            throw SegmentError(path: path, offset: 0, problem: "file is \(size) bytes, shorter than header and trailer")
        }
        var buf: [UInt8] = []
        try source.read(at: 0, count: FormatConstants.segmentHeaderSize, into: &buf)
        let measurementID: UInt8 = try buf.withUnsafeBytes { b in
            var r = ByteReader(b)
            guard r.readUInt32() == FormatConstants.segmentMagic else {
                throw SegmentError(path: path, offset: 0, problem: "bad magic, expected TSEG")
            }
            let version = r.readUInt16() ?? 0
            let mid = r.readUInt8() ?? 0
            let reserved = r.readUInt8() ?? 1
            let crc = r.readUInt32() ?? 0
            guard crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[0..<8])) else {
                throw SegmentError(path: path, offset: 0, problem: "header checksum mismatch")
            }
            guard version == FormatConstants.segmentVersion, reserved == 0 else {
                throw SegmentError(path: path, offset: 4, problem: "unsupported segment version \(version)")
            }
            return mid
        }
        let trailerAt = size - UInt64(FormatConstants.segmentTrailerSize)
        try source.read(at: trailerAt, count: FormatConstants.segmentTrailerSize, into: &buf)
        let (footerOffset, footerLen, footerCRC): (UInt64, Int, UInt32) = try buf.withUnsafeBytes { b in
            var r = ByteReader(b)
            let off = r.readUInt64() ?? 0, len = r.readUInt32() ?? 0, crc = r.readUInt32() ?? 0
            let version = r.readUInt16() ?? 0, reserved = r.readUInt16() ?? 1
            let magic = r.readUInt32() ?? 0
            guard magic == FormatConstants.segmentTrailerMagic, version == FormatConstants.segmentVersion,
                  reserved == 0
            else {
                throw SegmentError(path: path, offset: trailerAt, problem: "bad trailer (magic or version)")
            }
            guard off >= UInt64(FormatConstants.segmentHeaderSize), off <= trailerAt, UInt64(len) == trailerAt - off else {
                throw SegmentError(
                    path: path, offset: trailerAt,
                    problem: "footer bounds \(off)+\(len) do not end at the trailer (\(trailerAt))")
            }
            return (off, Int(len), crc)
        }
        try source.read(at: footerOffset, count: footerLen, into: &buf)
        guard CRC32C.checksum(buf) == footerCRC else {
            throw SegmentError(path: path, offset: footerOffset, problem: "footer checksum mismatch")
        }
        guard let f = buf.withUnsafeBytes({ SegmentFooter.decode($0, dataEnd: footerOffset) }) else {
            throw SegmentError(path: path, offset: footerOffset, problem: "malformed footer")
        }
        guard f.measurement.id == measurementID else {
            throw SegmentError(path: path, offset: footerOffset, problem: "footer measurement differs from header")
        }
        footer = f
    }

    /// Reads, verifies and decompresses one block into `rawBlock`.
    private func loadBlock(_ ref: BlockRef) throws {
        let total = Int(ref.length) + FormatConstants.blockTrailerSize
        try source.read(at: ref.offset, count: total, into: &stored)
        let ok: Bool = stored.withUnsafeBytes { b in
            let payloadAndType = UnsafeRawBufferPointer(rebasing: b[0..<(Int(ref.length) + 1)])
            let crc = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: Int(ref.length) + 1, as: UInt32.self))
            return CRC32C.checksum(payloadAndType) == crc
        }
        guard ok else { throw SegmentError(path: path, offset: ref.offset, problem: "block checksum mismatch") }
        let payload = Int(ref.length)
        switch BlockCompression(rawValue: stored[payload]) {
        case .raw:
            guard payload == Int(ref.rawLength) else {
                throw SegmentError(path: path, offset: ref.offset, problem: "raw block length mismatch")
            }
            rawBlock.removeAll(keepingCapacity: true)
            rawBlock.append(contentsOf: stored[0..<payload])
        case .zstd:
            do {
                try stored.withUnsafeBytes { b in
                    try decompressor.decompress(
                        UnsafeRawBufferPointer(rebasing: b[0..<payload]), expectedSize: Int(ref.rawLength), into: &rawBlock)
                }
            } catch {
                throw SegmentError(path: path, offset: ref.offset, problem: "\(error)")
            }
        case nil:
            throw SegmentError(path: path, offset: ref.offset, problem: "unknown block encoding \(stored[payload])")
        }
    }

    /// Decodes the time column and the schema columns selected by `wanted` (all when nil)
    /// of `chunk` into `out`. Columns not wanted are left empty.
    public func decode(_ chunk: ChunkMeta, columns wanted: [Bool]? = nil, into out: inout DecodedChunk) throws {
        try loadBlock(chunk.blocks[0])
        let okTimes = rawBlock.withUnsafeBytes { TimeCodec.decode($0, expectedCount: chunk.rowCount, into: &out.times) }
        guard okTimes, out.times.first == chunk.minTime, out.times.last == chunk.maxTime else {
            throw SegmentError(path: path, offset: chunk.blocks[0].offset, problem: "malformed time block")
        }
        for i in footer.measurement.columns.indices {
            if let wanted, !wanted[i] {
                out.columns[i].ints.removeAll(keepingCapacity: true)
                out.columns[i].doubles.removeAll(keepingCapacity: true)
                out.columns[i].ids.removeAll(keepingCapacity: true)
                continue
            }
            let ref = chunk.blocks[i + 1]
            try loadBlock(ref)
            let n = chunk.rowCount
            let ok: Bool = rawBlock.withUnsafeBytes { raw in
                switch footer.measurement.columns[i].type {
                case .int64: IntCodec.decode(raw, count: n, into: &out.columns[i].ints)
                case .float64: FloatCodec.decode(raw, count: n, into: &out.columns[i].doubles)
                case .string: StringCodec.decode(raw, count: n, into: &out.columns[i])
                }
            }
            guard ok else {
                throw SegmentError(
                    path: path, offset: ref.offset,
                    problem: "malformed \(footer.measurement.columns[i].name) block")
            }
        }
    }
}
