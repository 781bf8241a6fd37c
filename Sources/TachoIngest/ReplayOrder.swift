import SystemPackage
import TachoStore

extension Ingestor {
    /// `paths` in the order `tacho ingest --force` replays them: files whose content the
    /// ledger lists first, in the order of their most recent ledger entries (the order they
    /// were committed in), then the others in the order given. Replaying in name order instead
    /// would let an older file undo a correction ingested after it from a file whose name
    /// sorts first. Files of a size no ledger entry has are not read here; the others are
    /// hashed once more (a file that cannot be read counts as unknown: ingesting it reports why).
    public func replayOrder(_ paths: [String]) -> [String] {
        let sizes = Set(writer.ledger.values.map(\.size))
        let fs = writer.environment.files
        var known: [(position: Int, index: Int)] = []
        var unknown: [String] = []
        for (k, p) in paths.enumerated() {
            if case .file(_, let size, _) = InputFiles.stat(p, fs: fs), sizes.contains(size),
               let hash = Self.contentHash(p, writer.hashAlgorithm, fs: fs), writer.ledger[hash]?.size == size,
               let position = writer.ledgerPosition[hash] {
                known.append((position, k))
            } else {
                unknown.append(p)
            }
        }
        known.sort { ($0.position, $0.index) < ($1.position, $1.index) }
        return known.map { paths[$0.index] } + unknown
    }

    /// The ledger's content hash of the file at `path`, nil when it cannot be read.
    static func contentHash(_ path: String, _ algorithm: ContentHashAlgorithm, fs: any StoreFileSystem) -> ContentHash? {
        guard let fd = try? fs.openForReading(path) else { return nil }
        defer { try? fd.close() }
        var hasher = ContentHasher(algorithm)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            guard let n = try? buffer.withUnsafeMutableBytes({ try fs.read(fd, into: $0, path: path) }) else { return nil }
            if n == 0 { return hasher.finish() }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}
