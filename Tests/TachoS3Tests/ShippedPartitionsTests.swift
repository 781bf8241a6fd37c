import Foundation
import TachoLake
import TachoS3
import TachoTestSupport
import Testing

/// Retention's view of the ship ledgers: a partition counts as shipped under its newest seq only.
@Suite struct ShippedPartitionsTests {
    @Test func readsEveryTargetsLedgerAndMatchesTheSeq() throws {
        let dir = TempDir()
        let july1: Int64 = 1_719_792_000_000_000
        let a = try ShipLedger(path: dir.path + "/ship/aaaa.log")
        try a.recordShipped(key: "lake/detections/date=2024-07-01/box-1-20240701T000000Z-17.parquet", size: 1, sha256: "x", at: 0)
        let shipped = ShippedPartitions(store: dir.path)
        #expect(shipped.contains("detections", july1, 17))
        #expect(!shipped.contains("detections", july1, 18))  // rows came after it was shipped
        #expect(!shipped.contains("status", july1, 17))
        // A second target's ledger, written later, is read too (box ids may hold '-').
        let b = try ShipLedger(path: dir.path + "/ship/bbbb.log")
        try b.recordShipped(key: "status/date=2024-07-02/my-box-2-20240702T000000Z-3.parquet", size: 1, sha256: "y", at: 0)
        #expect(shipped.contains("status", july1 + 86_400_000_000, 3))
        #expect(shipped.contains("detections", july1, 17))
    }
}
