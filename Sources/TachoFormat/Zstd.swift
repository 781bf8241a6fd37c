import CZstd

/// zstd one-shot compression for column blocks (FORMAT.md §2.2). Blocks are small (one
/// column of one chunk), so simple one-shot calls with a reused context are enough.
public struct ZstdError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { "zstd: \(message)" }
}

public final class ZstdCompressor {
    private let cctx: OpaquePointer
    public let level: Int32
    /// Output scratch, grown to the largest compress bound seen.
    private var scratch: UnsafeMutableRawPointer?
    private var scratchSize = 0

    public init(level: Int32 = 3) {
        // ZSTD_createCCtx only fails on allocation failure, which Swift treats as fatal anyway.
        guard let ctx = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        cctx = ctx
        self.level = level
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        scratch?.deallocate()
    }

    /// Appends the compressed frame of `input` to `output`; returns the number of bytes appended.
    public func compress(_ input: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) throws -> Int {
        let bound = ZSTD_compressBound(input.count)
        if bound > scratchSize {
            scratch?.deallocate()
            scratch = .allocate(byteCount: bound, alignment: 16)
            scratchSize = bound
        }
        let written = ZSTD_compressCCtx(cctx, scratch!, bound, input.baseAddress, input.count, level)
        if ZSTD_isError(written) != 0 {
            throw ZstdError(message: String(cString: ZSTD_getErrorName(written)))
        }
        output.append(contentsOf: UnsafeRawBufferPointer(start: scratch!, count: written))
        return written
    }
}

public final class ZstdDecompressor {
    private let dctx: OpaquePointer

    public init() {
        guard let ctx = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        dctx = ctx
    }

    deinit { ZSTD_freeDCtx(dctx) }

    /// Decompresses one frame whose decompressed size must be exactly `expectedSize`.
    public func decompress(_ input: UnsafeRawBufferPointer, expectedSize: Int, into output: inout [UInt8]) throws {
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: expectedSize))
        guard expectedSize > 0 else { return }
        try output.withUnsafeMutableBytes { try decompress(input, into: $0) }
    }

    /// Decompresses one frame into `output`, whose size it must fill exactly.
    public func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        let n = ZSTD_decompressDCtx(dctx, output.baseAddress, output.count, input.baseAddress, input.count)
        if ZSTD_isError(n) != 0 {
            throw ZstdError(message: String(cString: ZSTD_getErrorName(n)))
        }
        guard n == output.count else {
            throw ZstdError(message: "decompressed \(n) bytes, expected \(output.count)")
        }
    }
}
