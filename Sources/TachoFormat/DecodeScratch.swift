import Synchronization

/// What a `SegmentReader` decodes with: the zstd context, the decompressed-block buffer and
/// the file-bytes window. Each costs an allocation (the context a set-up too), and a reader
/// is made per query and segment (`Snapshot.reader`), so they come from a small process-wide
/// pool: a reader takes one when it is made and gives it back when it goes.
///
/// Owned by one reader at a time (the pool hands it over under its lock), hence
/// `@unchecked Sendable`.
final class DecodeScratch: @unchecked Sendable {
    private var decompressorStorage: ZstdDecompressor?
    var decompressor: ZstdDecompressor {
        if let d = decompressorStorage { return d }
        let d = ZstdDecompressor()
        decompressorStorage = d
        return d
    }
    /// File bytes read for the blocks being decoded (`SegmentReader.load`).
    var stored: [UInt8] = []
    /// Decompressed block scratch, grown to the largest block seen.
    private(set) var raw: UnsafeMutableRawPointer?
    private(set) var rawCapacity = 0

    deinit { raw?.deallocate() }

    /// `raw` with room for `n` bytes.
    func rawBuffer(_ n: Int) -> UnsafeMutableRawBufferPointer {
        if n > rawCapacity {
            raw?.deallocate()
            rawCapacity = max(n, 1 << 16)
            raw = .allocate(byteCount: rawCapacity, alignment: 16)
        }
        return UnsafeMutableRawBufferPointer(start: raw, count: n)
    }

    /// Most scratches kept while unused: a few per core covers concurrent queries; more are
    /// made (and freed) when more readers are alive at once.
    static let kept = 16
    /// Buffers above this are freed rather than kept (a scan of huge blocks does not pin them).
    static let keptBytes = 4 << 20
    private static let pool = Mutex<[DecodeScratch]>([])

    static func take() -> DecodeScratch {
        pool.withLock { $0.popLast() } ?? DecodeScratch()
    }

    static func give(_ s: DecodeScratch) {
        guard s.rawCapacity <= keptBytes, s.stored.capacity <= keptBytes else { return }
        s.stored.removeAll(keepingCapacity: true)
        pool.withLock { p in if p.count < kept { p.append(s) } }
    }
}
