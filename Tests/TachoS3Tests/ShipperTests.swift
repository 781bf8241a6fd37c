import Foundation
import Logging
import TachoS3
import TachoTestSupport
import Testing

@Suite(.serialized) struct ShipperTests {
    static func logger() -> Logger {
        var l = Logger(label: "ship-test")
        l.logLevel = .critical
        return l
    }

    /// Files under `dir`: key → bytes.
    static func writeFiles(_ dir: String, _ files: [String: [UInt8]]) throws -> [ShipItem] {
        var items: [ShipItem] = []
        for (key, bytes) in files.sorted(by: { $0.key < $1.key }) {
            let path = dir + "/" + key
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            items.append(ShipItem(key: key, path: path))
        }
        return items
    }

    @Test func shipsEachFileOnceAndRefusesToReplaceShippedBytes() async throws {
        let moto = try await MotoServer()
        let dir = TempDir()
        let files = [
            "detections/date=2024-07-01/box-1.parquet": S3ClientTests.randomBytes(3000, seed: 1),
            "status/date=2024-07-01/box-1.parquet": S3ClientTests.randomBytes(20, seed: 2),
            "big/date=2024-07-02/box-1.parquet": S3ClientTests.randomBytes(6 << 20, seed: 3),
        ]
        let items = try Self.writeFiles(dir.path + "/out", files)
        let ledgerPath = dir.path + "/ship/target.log"
        var shipper = Shipper(client: moto.client(prefix: "lake"), ledger: try ShipLedger(path: ledgerPath), logger: Self.logger())
        shipper.multipartThreshold = 5 << 20
        shipper.partSize = 5 << 20
        let first = try await shipper.ship(items)
        #expect(Set(first.uploaded) == Set(files.keys))
        let listed = try await moto.client().listObjects(prefix: "lake/")
        #expect(listed.count == files.count)
        for (key, bytes) in files { #expect(try await moto.client().getObject(key: "lake/" + key) == bytes) }
        // Again, from a reopened ledger: nothing is sent.
        let again = try await Shipper(client: moto.client(prefix: "lake"), ledger: try ShipLedger(path: ledgerPath), logger: Self.logger()).ship(items)
        #expect(again.uploaded.isEmpty && Set(again.alreadyShipped) == Set(files.keys))
        // A shipped key whose local bytes changed is refused, not overwritten.
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: items[0].path))
        do {
            _ = try await shipper.ship([items[0]])
            Issue.record("changed bytes were shipped over a shipped object")
        } catch let e as ShipError {
            guard case .conflict(let key, _, _, _) = e else { return }
            #expect(key == "lake/" + items[0].key)
        }
    }

    @Test func aMultipartUploadLeftOpenIsAbortedByTheNextRun() async throws {
        let moto = try await MotoServer()
        let dir = TempDir()
        let ledgerPath = dir.path + "/ship/t.log"
        let ledger = try ShipLedger(path: ledgerPath)
        let c = moto.client()
        let id = try await c.createMultipartUpload(key: "a.parquet")
        try ledger.recordBegun(key: "a.parquet", uploadID: id)
        let items = try Self.writeFiles(dir.path + "/out", ["a.parquet": [7, 7, 7]])
        let report = try await Shipper(client: c, ledger: try ShipLedger(path: ledgerPath), logger: Self.logger()).ship(items)
        #expect(report.abortedStale == 1 && report.uploaded == ["a.parquet"])
        #expect(try ShipLedger(path: ledgerPath).openUploads.isEmpty)
    }

    @Test func aTornOrDamagedLedgerLineIsIgnoredAndDropped() throws {
        let dir = TempDir()
        let path = dir.path + "/ship/t.log"
        let ledger = try ShipLedger(path: path)
        try ledger.recordShipped(key: "k one/é", size: 5, sha256: "ab", at: 1)
        try ledger.recordShipped(key: "k2", size: 6, sha256: "cd", at: 2)
        var text = try String(contentsOfFile: path, encoding: .utf8)
        // Damage the first line's size, and leave half a line at the end.
        text = text.replacingOccurrences(of: "\t5\t", with: "\t9\t") + "done\tk3\t7"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let reopened = try ShipLedger(path: path)
        #expect(reopened.ignoredLines == 2)
        #expect(reopened.shipped == ["k2": .init(size: 6, sha256: "cd", at: 2)])
        let clean = try ShipLedger(path: path)
        #expect(clean.ignoredLines == 0 && clean.shipped.count == 1)
    }
}
