import Foundation
import Testing
import TachoFormat
@testable import TachoStore
import TachoTestSupport

/// `verify` reports problems as cases naming the file the manifest knows (`VerifyProblem.File`)
/// and what is wrong (`Kind`, with `SegmentError.Kind` for segment damage); `repair` acts on
/// those cases, not on path text.
@Suite struct VerifyProblemTests {
    static func flip(_ path: String, at offset: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func damageIsReportedAsCasesAndRepairedByThem() throws {
        let dir = TempDir()
        let w = try fillStore(dir.path, commits: 4, rowsPerCommit: 100)
        let victim = try #require(w.manifest.segments.first)
        let footer = try w.snapshot().reader(victim).footer
        let block = try #require(footer.vehicles.first?.chunks.first?.blocks[1])
        try Self.flip(w.layout.segmentPath(victim.name), at: Int(block.offset) + 2)
        let ledger = w.manifest.ledgers[1]
        try Self.flip(w.layout.indexPath(ledger), at: 9)

        let report = Verifier.verify(snapshot: try w.snapshot())
        #expect(report.problems.count == 2, "\(report.problems)")
        let segment = try #require(report.problems.first { $0.segment != nil })
        #expect(segment.file == .segment(victim))
        #expect(segment.kind == .segment(.blockChecksum))
        #expect(segment.offset == block.offset)
        #expect(!segment.newerFormat)
        #expect(report.problems.contains { $0.file == .ledger(ledger) && $0.kind == .ledgerDamaged })

        let repaired = try w.repair(report)
        #expect(repaired.quarantined == [victim.name])
        #expect(repaired.droppedLedgers == [ledger])
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
        w.close()
    }
}
