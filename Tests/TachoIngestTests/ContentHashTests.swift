import Foundation
import TachoFormat
import TachoIngest
import TachoStore
import TachoTestSupport
import Testing

/// The ledger's content hashes (FORMAT.md §5): both algorithms against values computed from
/// the format text by an independent implementation (Python, the formulas of §5 as written),
/// split invariance, and a store written before ledger version 2 keeping its hashes.
@Suite struct ContentHashTests {
    static func hash(_ bytes: [UInt8], _ algorithm: ContentHashAlgorithm) -> String {
        var h = ContentHasher(algorithm)
        bytes.withUnsafeBytes { h.update($0) }
        return h.finish().description
    }

    @Test func bothAlgorithmsMatchTheFormatText() throws {
        let vectors: [(String, String, String)] = [
            ("", "0b82b2df01bc4321fa4a8f73860dd0b7", "7acdbb98b1344213a880bb603e6b4361"),
            ("a", "c99f239cad9768cd16ac6810c3af3d89", "a6a872a5d56a6248f653fdc20a9ed225"),
            ("0123456789abcdef0123456789abcdef", "15568fe3e04dee0e3bfe081ad053528a", "d9599b4e90a887706b2bef61c5b00d53"),
            ("0123456789abcdef0123456789abcdef!", "9fab5d4321a3f48553b5f3664b9fe9d7", "6b5fd1bd163b1780dbd8cccc314c0884"),
        ]
        for (text, stripes, pairs) in vectors {
            #expect(Self.hash(Array(text.utf8), .stripes) == stripes, "\(text)")
            #expect(Self.hash(Array(text.utf8), .pairs) == pairs, "\(text)")
        }
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixturesDirectory + "/fleet-power/post_example2_kW_5min.json")))
        #expect(Self.hash(file, .stripes) == "e20178108cb832f0ba5faf3084ae604f")
        #expect(Self.hash(file, .pairs) == "396a964436ebb2c46cf265dad8577985")
    }

    @Test func theHashDoesNotDependOnHowTheBytesArriveSplit() {
        var rng = SplitMix64(seed: 0x1ED6E5)
        for _ in 0..<200 {
            let n = Int.random(in: 0..<300, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            for algorithm in ContentHashAlgorithm.allCases {
                var h = ContentHasher(algorithm)
                var i = 0
                while i < n {
                    let k = min(n - i, Int.random(in: 1...40, using: &rng))
                    bytes[i..<i + k].withUnsafeBytes { h.update($0) }
                    i += k
                }
                #expect(h.finish().description == Self.hash(bytes, algorithm))
                #expect(h.length == UInt64(n))
            }
        }
    }

    @Test func oneFlippedBitChangesTheHash() {
        var rng = SplitMix64(seed: 77)
        let bytes = (0..<257).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for algorithm in ContentHashAlgorithm.allCases {
            let base = Self.hash(bytes, algorithm)
            var seen: Set<String> = [base]
            for bit in stride(from: 0, to: bytes.count * 8, by: 7) {
                var b = bytes
                b[bit / 8] ^= UInt8(1 << (bit % 8))
                #expect(seen.insert(Self.hash(b, algorithm)).inserted)
            }
            // Trailing zero bytes are not padding: the length is hashed.
            #expect(Self.hash(bytes + [0], algorithm) != base)
        }
    }

    @Test func theCurrentAlgorithmIsTheLedgerVersionWritten() {
        #expect(ContentHashAlgorithm.current.rawValue == FormatConstants.ledgerVersion)
    }

    /// `Tests/Fixtures/stores/v0.2-ledger-v1`: `tacho ingest` of `mobileye-nested/` by release
    /// 0.2 (commit 377e8ae), whose ledger is version 1.
    static func copyOldStore(into dir: TempDir) throws -> String {
        let store = dir.path + "/store"
        try FileManager.default.copyItem(atPath: fixturesDirectory + "/stores/v0.2-ledger-v1", toPath: store)
        return store
    }

    static func ledgerVersions(_ store: String) throws -> [UInt16] {
        let index = store + "/index"
        return try FileManager.default.contentsOfDirectory(atPath: index).filter { $0.hasPrefix("ledger-") }.sorted().map {
            let b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: index + "/" + $0)))
            return UInt16(b[4]) | UInt16(b[5]) << 8
        }
    }

    @Test func aStoreWithVersion1LedgersStillRecognisesItsFilesAndKeepsVersion1() throws {
        let dir = TempDir()
        let store = try Self.copyOldStore(into: dir)
        #expect(try Self.ledgerVersions(store) == [1])
        let nested = fixturesDirectory + "/mobileye-nested/objects_detection_20240718_140532.json"
        let results = try ingest(store, [nested])
        guard case .duplicate(_, let of) = results[0].outcome else {
            Issue.record("expected the old store's ledger to recognise \(nested): \(results[0].outcome)")
            return
        }
        #expect(of.name == "objects_detection_20240718_140532.json")
        // A new file goes into a version 1 ledger, and is recognised again.
        let flat = fixturesDirectory + "/mobileye-flat/objects_detection_20240703T210234.json"
        #expect(try ingest(store, [flat])[0].rows > 0)
        #expect(try Self.ledgerVersions(store) == [1, 1])
        guard case .duplicate = try ingest(store, [flat])[0].outcome else {
            Issue.record("a file ingested into the old store was not recognised")
            return
        }
        let w = try StoreWriter(path: store, options: quietOptions())
        defer { w.close() }
        #expect(w.hashAlgorithm == .pairs)
    }

    @Test func aNewStoreWritesVersion2LedgersAndRecognisesReDeliveries() throws {
        let dir = TempDir()
        let store = dir.path + "/store"
        let flat = fixturesDirectory + "/mobileye-flat/objects_detection_20240703T210234.json"
        #expect(try ingest(store, [flat])[0].rows > 0)
        #expect(try Self.ledgerVersions(store) == [2])
        guard case .duplicate = try ingest(store, [flat])[0].outcome else {
            Issue.record("a re-delivered file was not recognised")
            return
        }
        let w = try StoreWriter(path: store, options: quietOptions())
        defer { w.close() }
        #expect(w.hashAlgorithm == .stripes)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: flat)))
        #expect(w.ledger.values.map(\.hash.description) == [Self.hash(bytes, .stripes)])
    }
}
