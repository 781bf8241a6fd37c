import CZstd

/// zstd one-shot compression of page bodies (CompressionCodec ZSTD: one zstd frame per page),
/// through the libzstd the store already links (the CZstd system library target).
final class ZstdPageCompressor {
    private let cctx: OpaquePointer
    let level: Int32
    private var scratch: [UInt8] = []

    init(level: Int32) {
        // ZSTD_createCCtx fails only when memory runs out, which Swift treats as fatal anyway.
        guard let ctx = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        cctx = ctx
        self.level = level
    }

    deinit { ZSTD_freeCCtx(cctx) }

    /// The compressed frame of `input`, valid until the next call.
    func compress(_ input: [UInt8], column: String) throws -> ArraySlice<UInt8> {
        let bound = ZSTD_compressBound(input.count)
        if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
        let n = input.withUnsafeBytes { src in
            scratch.withUnsafeMutableBytes { dst in
                ZSTD_compressCCtx(cctx, dst.baseAddress, dst.count, src.baseAddress, src.count, level)
            }
        }
        if ZSTD_isError(n) != 0 {
            throw ParquetError.compression(column: column, message: String(cString: ZSTD_getErrorName(n)))
        }
        return scratch[0..<n]
    }
}
