import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// `tacho verify --repair` on a store whose MANIFEST is gone or damaged rebuilds it from the
/// segment and ledger files (FORMAT.md §3.6): every query answers as before, damaged segments
/// are quarantined and reported, and every error message leads to a command that works.
@Suite struct ManifestRebuildTests {
    enum Loss: String, CaseIterable, Sendable {
        /// MANIFEST deleted.
        case missing
        /// A byte of MANIFEST flipped: its checksum fails.
        case corrupted
        /// MANIFEST deleted, and the inputs of the compaction are back beside its output, as
        /// after a crash between the compaction's switch and its unlinks.
        case missingWithCompactionInputs
    }

    /// Detection files 0..<20 (one commit each) and status files, compacted (segments and
    /// ledgers merged), then files 20..<30 in commits after the compaction: their rows share
    /// times with files 10..<20, so they supersede them. Returns the input directory and the
    /// segment files the compaction replaced (copies).
    func buildStore(_ store: String, _ dir: String) throws -> (inputs: String, replaced: String) {
        let inputs = dir + "/inputs"
        let replaced = dir + "/replaced"
        for d in [inputs, replaced] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        for i in 0..<30 {
            writeFleetFile(inputs, index: i, day: 1 + i % 3)
            if i % 10 == 0 { writeStatusFile(inputs, index: i, day: 1 + i % 3) }
        }
        let first = files(in: inputs).filter { $0.hasPrefix("vehicles_status") || Int($0.dropFirst(18).prefix(4)).map { $0 < 20 } == true }
        let r1 = try tacho(["ingest", "--store", store, "--log-level", "error", "--commit-per-file"] + first.map { inputs + "/" + $0 })
        #expect(r1.status == 0, "\(r1.stderr)")
        for s in files(in: store + "/segments") {
            try FileManager.default.copyItem(atPath: store + "/segments/" + s, toPath: replaced + "/" + s)
        }
        let c = try tacho(["compact", "--store", store, "--compact-rate", "0"])
        #expect(c.status == 0 && c.stdout.contains("ledger:"), "\(c.stdout) \(c.stderr)")
        let rest = files(in: inputs).filter { !first.contains($0) }
        #expect(rest.count == 10)
        let r2 = try tacho(["ingest", "--store", store, "--log-level", "error", "--commit-per-file"] + rest.map { inputs + "/" + $0 })
        #expect(r2.status == 0, "\(r2.stderr)")
        return (inputs, replaced)
    }

    @Test(arguments: Loss.allCases)
    func rebuildAnswersEveryQueryAsBefore(_ loss: Loss) throws {
        let dir = TempDir("tacho-rebuild")
        let store = dir.path + "/store"
        let (inputs, replaced) = try buildStore(store, dir.path)
        let before = try queryAll(store)
        let m = try Snapshot.open(path: store, options: quietOptions()).manifest
        #expect(Set(m.segments.map(\.measurementID)) == [1, 2])
        let replacedNames = files(in: replaced).filter { !m.segments.map(\.name).contains($0) }
        #expect(replacedNames.count >= 10, "the compaction replaced segments: \(replacedNames.count)")

        switch loss {
        case .missing:
            try FileManager.default.removeItem(atPath: store + "/MANIFEST")
        case .corrupted:
            var b = try Data(contentsOf: URL(fileURLWithPath: store + "/MANIFEST"))
            b[b.count / 2] ^= 0x5A
            try b.write(to: URL(fileURLWithPath: store + "/MANIFEST"))
        case .missingWithCompactionInputs:
            try FileManager.default.removeItem(atPath: store + "/MANIFEST")
            for s in replacedNames {
                try FileManager.default.copyItem(atPath: replaced + "/" + s, toPath: store + "/segments/" + s)
            }
        }
        let damagedBytes = try? Data(contentsOf: URL(fileURLWithPath: store + "/MANIFEST"))

        // Every command's advice leads to verify --repair, and that works (no loop).
        let q = try tacho(["query", "detections", "--store", store])
        #expect(q.status != 0 && q.stderr.contains("tacho verify --repair"), "\(loss): \(q.stderr)")
        let ing = try tacho(["ingest", "--store", store, "--log-level", "error", inputs + "/objects_detection_0000.json"])
        #expect(ing.status != 0 && ing.stderr.contains("tacho verify --repair"), "\(loss): \(ing.stderr)")
        let v = try tacho(["verify", "--store", store])
        #expect(v.status != 0 && v.stderr.contains("tacho verify --repair"), "\(loss): \(v.stderr)")

        let r = try tacho(["verify", "--store", store, "--repair"])
        #expect(r.status == 0, "\(loss): \(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("rebuilt MANIFEST from the files on disk: "), "\(r.stdout)")
        #expect(r.stdout.contains("partition width 1 d, the default"), "\(r.stdout)")
        #expect(!r.stdout.contains("quarantined"), "\(r.stdout)")
        #expect(r.stdout.contains("not recovered: retention watermarks"), "\(r.stdout)")
        if loss == .corrupted {
            #expect(r.stdout.contains("MANIFEST was damaged (offset "), "\(r.stdout)")
            #expect(r.stdout.contains("kept it as MANIFEST.damaged-1"), "\(r.stdout)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: store + "/MANIFEST.damaged-1")) == damagedBytes)
        } else {
            #expect(r.stdout.contains("MANIFEST was missing"), "\(r.stdout)")
        }
        let rebuilt = try Snapshot.open(path: store, options: quietOptions()).manifest
        let expected = loss == .missingWithCompactionInputs ? m.segments.count + replacedNames.count : m.segments.count
        #expect(rebuilt.segments.count == expected)
        #expect(rebuilt.ledgers == m.ledgers, "the merged ledger and every later one, in commit order")
        #expect(rebuilt.nextNumber >= m.nextNumber)
        #expect(rebuilt.partitionWidth == m.partitionWidth)

        #expect(try queryAll(store) == before, "\(loss)")
        let after = try tacho(["verify", "--store", store])
        #expect(after.status == 0 && after.stdout.contains("clean"), "\(loss): \(after.stdout)")
        // The ledger came back: a re-delivered file is still recognised.
        let again = try tacho(["ingest", "--store", store, "--log-level", "error", inputs + "/objects_detection_0003.json"])
        #expect(again.status == 0 && again.stdout.contains("duplicate of objects_detection_0003.json"), "\(again.stdout)")
        // And the store takes new commits, numbered above every file on disk.
        writeFleetFile(inputs, index: 30, day: 2)
        let fresh = try tacho(["ingest", "--store", store, "--log-level", "error", inputs + "/objects_detection_0030.json"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(try tacho(["verify", "--store", store]).status == 0)
        if loss == .missingWithCompactionInputs {
            // The next compaction removes the duplicated bytes; answers stay the same.
            let before2 = try queryAll(store)
            #expect(try tacho(["compact", "--store", store, "--compact-rate", "0"]).status == 0)
            #expect(try queryAll(store) == before2)
            #expect(try segmentCount(store) <= 6)
        }
    }

    /// A damaged segment among the files: quarantined and reported, the other partitions
    /// answer as before, and `ingest --force` of the inputs brings the lost day back.
    @Test func damagedSegmentIsQuarantinedWhenRebuilding() throws {
        let dir = TempDir("tacho-rebuild-damaged")
        let store = try VerifyDamageTests().makeStore(dir.path)
        func day(_ from: String, _ to: String) throws -> String {
            try tacho(["query", "detections", "--store", store, "--from", from, "--to", to, "--format", "csv"]).stdout
        }
        let all = try queryAll(store)
        let (d1, d3) = (try day("2024-07-01", "2024-07-02"), try day("2024-07-03", "2024-07-04"))
        guard let victim = files(in: store + "/segments").first(where: { $0.hasPrefix("detections-20240702") }) else {
            Issue.record("no day-2 segment")
            return
        }
        let path = store + "/segments/" + victim
        let reader = try SegmentReader(source: InMemorySegmentSource([UInt8](Data(contentsOf: URL(fileURLWithPath: path)))), path: victim)
        var b = try Data(contentsOf: URL(fileURLWithPath: path))
        b[Int(reader.footer.vehicles[1].chunks[0].blocks[1].offset) + 2] ^= 0x5A
        try b.write(to: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: store + "/MANIFEST")

        let r = try tacho(["verify", "--store", store, "--repair"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("quarantined \(victim): at offset "), "\(r.stdout)")
        #expect(r.stdout.contains("lost 60 detections rows in partition 20240702T000000Z for vehicles: veh-a,veh-b,veh-c"), "\(r.stdout)")
        #expect(r.stdout.contains("tacho ingest --force"), "\(r.stdout)")
        #expect(r.stdout.contains("rebuilt MANIFEST from the files on disk: 5 segments, 129 rows (120 detections, 9 status) in 5 partitions"), "\(r.stdout)")
        #expect(files(in: store + "/quarantine") == [victim])
        #expect(!files(in: store + "/segments").contains(victim))
        #expect(try day("2024-07-01", "2024-07-02") == d1)
        #expect(try day("2024-07-03", "2024-07-04") == d3)
        #expect(try day("2024-07-02", "2024-07-03").split(separator: "\n").count == 1)
        #expect(try tacho(["verify", "--store", store]).status == 0)

        let forced = try tacho(["ingest", "--store", store, "--log-level", "error", "--force", dir.path + "/inputs"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try queryAll(store) == all)
    }

    /// The advice on a store without MANIFEST or segments is still "not a Tacho store", and
    /// --repair does not invent one.
    @Test func nothingToRebuildIsNotAStore() throws {
        let dir = TempDir("tacho-rebuild-empty")
        let r = try tacho(["verify", "--store", dir.path + "/nothing", "--repair"])
        #expect(r.status != 0 && r.stderr.contains("not a Tacho store"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/nothing/MANIFEST"))
    }
}
