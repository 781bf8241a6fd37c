import Foundation
import Testing
import TachoFormat
import TachoStore
import TachoTestSupport

/// `tacho verify [--repair]` on stores damaged on disk: a flipped byte in a block or in the
/// footer, a truncated or deleted segment, a damaged latest-status index or ledger file. Verify
/// names the file (and the byte offset where there is one) and exits 1; --repair quarantines
/// the damaged segment, rebuilds the index, names the partition and vehicles that lost rows;
/// queries on the undamaged partitions answer the same before and after.
@Suite struct VerifyDamageTests {
    static let days = ["2024-07-01", "2024-07-02", "2024-07-03"]
    static let vehicles = ["veh-a", "veh-b", "veh-c"]

    enum Damage: String, CaseIterable, Sendable {
        case blockByte, footerByte, truncated, deleted, latestIndex, ledger
    }

    /// A store with one detections file per day (one commit, one segment per day), then one
    /// status file covering every day.
    func makeStore(_ dir: String) throws -> String {
        let inputs = dir + "/inputs"
        try FileManager.default.createDirectory(atPath: inputs, withIntermediateDirectories: true)
        var paths: [String] = []
        for (d, day) in Self.days.enumerated() {
            var events: [String] = []
            for (k, v) in Self.vehicles.enumerated() {
                for i in 0..<20 {
                    events.append(#"{"vehicle_id":"\#(v)","detection_time":"\#(day)T\#(String(format: "%02d", k + 1)):00:\#(String(format: "%02d", i)).000Z","detections":[{"object_type":"cars","object_value":\#(i % 7 + d)}]}"#)
                }
            }
            let p = inputs + "/objects_detection_\(d).json"
            try Data(#"{"objects_detection_events":[\#(events.joined(separator: ","))]}"#.utf8).write(to: URL(fileURLWithPath: p))
            paths.append(p)
        }
        var st: [String] = []
        for day in Self.days {
            for (k, v) in Self.vehicles.enumerated() {
                st.append(#"{"vehicle_id":"\#(v)","report_time":"\#(day)T0\#(k):30:00Z","status":"\#(["driving", "parking", "accident"][k])"}"#)
            }
        }
        let sp = inputs + "/vehicles_status_1.json"
        try Data(#"{"vehicle_status":[\#(st.joined(separator: ","))]}"#.utf8).write(to: URL(fileURLWithPath: sp))
        paths.append(sp)
        let store = dir + "/store"
        let r = try tacho(["ingest", "--store", store, "--log-level", "error", "--commit-per-file"] + paths)
        #expect(r.status == 0, "\(r.stderr)")
        return store
    }

    func query(_ store: String, from: String, to: String) throws -> RunResult {
        try tacho(["query", "detections", "--store", store, "--from", from, "--to", to, "--format", "csv", "--log-level", "error"])
    }

    func flip(_ path: String, at offset: Int) throws {
        var b = try Data(contentsOf: URL(fileURLWithPath: path))
        b[offset] ^= 0x5A
        try b.write(to: URL(fileURLWithPath: path))
    }

    @Test(arguments: Damage.allCases)
    func verifyReportsAndRepairQuarantines(_ damage: Damage) throws {
        let dir = TempDir("tacho-verify")
        let store = try makeStore(dir.path)
        #expect(try tacho(["verify", "--store", store]).status == 0)
        // Undamaged partitions: day 1 and day 3. The damage goes into day 2's segment.
        let okBefore = [try query(store, from: Self.days[0], to: Self.days[1]), try query(store, from: Self.days[2], to: "2024-07-04")]
        #expect(okBefore.allSatisfy { $0.status == 0 && $0.stdout.split(separator: "\n").count == 61 })
        let latestBefore = try tacho(["latest", "--store", store, "--format", "csv"])
        let segs = files(in: store + "/segments")
        guard let victim = segs.first(where: { $0.hasPrefix("detections-20240702") }) else {
            Issue.record("no day-2 segment in \(segs)")
            return
        }
        let victimPath = store + "/segments/" + victim
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: victimPath)))
        let reader = try SegmentReader(source: InMemorySegmentSource(bytes), path: victim)
        let victimVehicles = reader.footer.vehicles.map(\.vehicle)
        #expect(victimVehicles == Self.vehicles)
        let snap = try Snapshot.open(path: store, options: quietOptions())
        var expectedProblem: (file: String, offset: UInt64?, text: String)
        switch damage {
        case .blockByte:
            let block = reader.footer.vehicles[1].chunks[0].blocks[1]
            try flip(victimPath, at: Int(block.offset) + 2)
            expectedProblem = (victimPath, block.offset, "block checksum mismatch")
        case .footerByte:
            let trailer = bytes.count - FormatConstants.segmentTrailerSize
            let footerOffset = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: trailer, as: UInt64.self)) }
            try flip(victimPath, at: Int(footerOffset) + 3)
            expectedProblem = (victimPath, footerOffset, "footer checksum mismatch")
        case .truncated:
            try FileHandle(forWritingAtPath: victimPath)!.truncate(atOffset: UInt64(bytes.count / 2))
            expectedProblem = (victimPath, UInt64(bytes.count / 2 - FormatConstants.segmentTrailerSize), "bad trailer")
        case .deleted:
            try FileManager.default.removeItem(atPath: victimPath)
            expectedProblem = (victimPath, nil, "missing")
        case .latestIndex:
            let p = store + "/index/" + snap.manifest.latestIndex
            try flip(p, at: 5)
            expectedProblem = (p, nil, "latest-status index missing or damaged")
        case .ledger:
            let p = store + "/index/" + snap.manifest.ledgers[1]
            try flip(p, at: 9)
            expectedProblem = (p, nil, "ledger file missing or damaged")
        }
        let segmentDamage = [.blockByte, .footerByte, .truncated, .deleted].contains(damage)

        // verify: exit 1, one problem naming the file (and the offset).
        let v = try tacho(["verify", "--store", store])
        #expect(v.status == 1, "\(damage): \(v.stdout) \(v.stderr)")
        let problems = v.stdout.split(separator: "\n").filter { $0.hasPrefix("PROBLEM ") }
        #expect(problems.count == 1, "\(damage): \(v.stdout)")
        // One problem is "1 problem", not "1 problems" (issue 19); the JSON form counts it too.
        #expect(v.stdout.hasSuffix(": 1 problem\n"), "\(damage): \(v.stdout)")
        let vj = try tacho(["verify", "--store", store, "--format", "json"])
        #expect(vj.status == 1 && vj.stdout.contains(#""clean":false"#), "\(damage): \(vj.stdout)")
        let line = problems.first.map(String.init) ?? ""
        let want = "PROBLEM \(expectedProblem.file)" + (expectedProblem.offset.map { " at offset \($0)" } ?? "")
        #expect(line.hasPrefix(want), "\(damage): \(line) does not start with \(want)")
        #expect(line.contains(expectedProblem.text), "\(damage): \(line)")

        // While damaged: undamaged partitions answer as before; the damaged one fails naming its file.
        let okDuring = [try query(store, from: Self.days[0], to: Self.days[1]), try query(store, from: Self.days[2], to: "2024-07-04")]
        #expect(okDuring.map(\.stdout) == okBefore.map(\.stdout), "\(damage)")
        if segmentDamage {
            let bad = try query(store, from: Self.days[1], to: Self.days[2])
            #expect(bad.status != 0 && bad.stderr.contains(victim), "\(damage): \(bad.status) \(bad.stderr)")
        }

        // --repair: quarantine, rebuild the index, name what was lost; then clean.
        let r = try tacho(["verify", "--store", store, "--repair"])
        #expect(r.status == 0, "\(damage): \(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("rebuilt latest-status index"), "\(damage): \(r.stdout)")
        if segmentDamage {
            #expect(r.stdout.contains("quarantined \(victim)"), "\(damage): \(r.stdout)")
            let lost = r.stdout.split(separator: "\n").first { $0.hasPrefix("lost ") }.map(String.init) ?? ""
            #expect(lost.hasPrefix("lost 60 detections rows in partition 20240702T000000Z for vehicles: "), "\(damage): \(lost)")
            if damage == .blockByte {
                // The footer still parses: exactly the segment's vehicles are named.
                #expect(lost.hasSuffix(": " + Self.vehicles.joined(separator: ",")), "\(lost)")
            }
            #expect(!files(in: store + "/segments").contains(victim))
            if damage != .deleted {
                #expect(files(in: store + "/quarantine") == [victim], "\(damage)")
            }
        }
        if damage == .ledger {
            #expect(r.stdout.contains("dropped damaged ledger"), "\(r.stdout)")
        }
        let after = try tacho(["verify", "--store", store])
        #expect(after.status == 0 && after.stdout.contains("clean"), "\(damage): \(after.stdout)")
        let okAfter = [try query(store, from: Self.days[0], to: Self.days[1]), try query(store, from: Self.days[2], to: "2024-07-04")]
        #expect(okAfter.map(\.stdout) == okBefore.map(\.stdout), "\(damage)")
        let day2 = try query(store, from: Self.days[1], to: Self.days[2])
        #expect(day2.status == 0)
        #expect(day2.stdout.split(separator: "\n").count == (segmentDamage ? 1 : 61), "\(damage): day 2 after repair")
        // Status rows live in other segments: the latest status is unchanged.
        #expect(try tacho(["latest", "--store", store, "--format", "csv"]).stdout == latestBefore.stdout, "\(damage)")
        if segmentDamage {
            // Re-delivering the lost day-2 file is skipped (its ledger entry survives the
            // quarantine); --force ingests it again and restores the day.
            #expect(r.stdout.contains("tacho ingest --force"), "\(r.stdout)")
            let lostFile = dir.path + "/inputs/objects_detection_1.json"
            let skipped = try tacho(["ingest", "--store", store, "--log-level", "error", lostFile])
            #expect(skipped.status == 0 && skipped.stdout.contains("duplicate of objects_detection_1.json"), "\(skipped.stdout)")
            #expect(try query(store, from: Self.days[1], to: Self.days[2]).stdout.split(separator: "\n").count == 1)
            let forced = try tacho(["ingest", "--store", store, "--log-level", "error", "--force", lostFile, lostFile])
            #expect(forced.status == 0, "\(forced.stderr)")
            #expect(forced.stdout.contains(": 60 rows,"), "\(forced.stdout)")
            #expect(forced.stdout.contains("duplicate of objects_detection_1.json"), "the same file twice in one run: once")
            #expect(try query(store, from: Self.days[1], to: Self.days[2]).stdout.split(separator: "\n").count == 61)
            let stats = try tacho(["stats", "--store", store, "--format", "csv"]).stdout
            #expect(stats.contains("detections,3,3,180,180,"), "no row stored twice: \(stats)")
        }
        // The store takes writes again, also into the repaired partition.
        let fresh = dir.path + "/inputs/objects_detection_new.json"
        try Data(#"{"objects_detection_events":[{"vehicle_id":"veh-z","detection_time":"2024-07-02T12:00:00Z","object_type":"cars","object_value":1}]}"#.utf8)
            .write(to: URL(fileURLWithPath: fresh))
        let again = try tacho(["ingest", "--store", store, "--log-level", "error", fresh])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try query(store, from: Self.days[1], to: Self.days[2]).stdout.split(separator: "\n").count == 62)
        #expect(try tacho(["verify", "--store", store]).status == 0)
    }

    /// A segment from a newer tacho (header intact, version above what this one reads) is
    /// reported, but --repair refuses instead of quarantining good rows, and leaves it in place.
    @Test func repairRefusesToQuarantineASegmentFromANewerTacho() throws {
        let dir = TempDir("tacho-verify-newer")
        let store = try makeStore(dir.path)
        let snap = try Snapshot.open(path: store, options: quietOptions())
        let victim = snap.manifest.segments[0].name
        let path = store + "/segments/" + victim
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let newer = FormatConstants.readableSegmentVersions.upperBound + 1
        b[4] = UInt8(newer & 0xFF)
        b[5] = UInt8(newer >> 8)
        let crc = CRC32C.checksum(Array(b[0..<8]))
        for k in 0..<4 { b[8 + k] = UInt8((crc >> (8 * UInt32(k))) & 0xFF) }
        try Data(b).write(to: URL(fileURLWithPath: path))

        let v = try tacho(["verify", "--store", store])
        #expect(v.status == 1)
        #expect(v.stdout.contains("\(victim) at offset 4: unsupported segment version \(newer): written by a newer tacho"), "\(v.stdout)")
        let r = try tacho(["verify", "--store", store, "--repair"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("refusing to repair"), "\(r.stderr)")
        #expect(files(in: store + "/segments").contains(victim))
        #expect(!FileManager.default.fileExists(atPath: store + "/quarantine/" + victim))
        #expect(try Snapshot.open(path: store, options: quietOptions()).manifest.segments.map(\.name).contains(victim))
    }
}
