import Foundation
import Testing
import TachoStore
import TachoTestSupport

/// `tacho ingest --force` replays files in ledger order (the order they were committed in),
/// not name order, so a restore does not revert corrections.
@Suite struct ReplayOrderTests {
    /// B corrects a value of A (same identity) and is ingested after it, but its name sorts
    /// first. After the segments are lost, `ingest --force` of both restores B's value.
    @Test func forceReplaysInLedgerOrderSoCorrectionsWin() throws {
        let dir = TempDir("tacho-replay-order")
        let store = dir.path + "/store"
        let processed = dir.path + "/processed"
        try FileManager.default.createDirectory(atPath: processed, withIntermediateDirectories: true)
        func write(_ name: String, _ value: Int, vehicle: String = "veh-1") throws -> String {
            let p = processed + "/" + name
            try Data(#"{"objects_detection_events":[{"vehicle_id":"\#(vehicle)","detection_time":"2024-07-01T10:00:00Z","detections":[{"object_type":"cars","object_value":\#(value)}]},{"vehicle_id":"\#(vehicle)","detection_time":"2024-07-01T10:00:05Z","detections":[{"object_type":"cars","object_value":\#(value + 100)}]}]}"#.utf8)
                .write(to: URL(fileURLWithPath: p))
            return p
        }
        let a = try write("objects_detection_20240701_b_original.json", 1)
        let b = try write("objects_detection_20240701_a_correction.json", 2)
        for p in [a, b] {
            let r = try tacho(["ingest", "--store", store, "--log-level", "error", p])
            #expect(r.status == 0, "\(r.stderr)")
        }
        func rows() throws -> String {
            try tacho(["query", "detections", "--store", store, "--format", "csv"]).stdout
        }
        let corrected = try rows()
        #expect(corrected.contains(",cars,2\n") && corrected.contains(",cars,102\n") && !corrected.contains(",cars,1\n"), "\(corrected)")

        // Lose every segment: damaged, quarantined by verify --repair.
        for s in files(in: store + "/segments") {
            let path = store + "/segments/" + s
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[14] ^= 0x5A
            try bytes.write(to: URL(fileURLWithPath: path))
        }
        let repair = try tacho(["verify", "--store", store, "--repair"])
        #expect(repair.status == 0, "\(repair.stdout) \(repair.stderr)")
        #expect(try rows().split(separator: "\n").count == 1)

        // A file the ledger does not know (name sorts first) comes after the known ones.
        let unknown = try write("objects_detection_0_unknown.json", 7, vehicle: "veh-2")
        let forced = try tacho(["ingest", "--store", store, "--log-level", "error", "--force", processed])
        #expect(forced.status == 0, "\(forced.stderr)")
        let lines = forced.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[0].hasPrefix(a) && lines[1].hasPrefix(b) && lines[2].hasPrefix(unknown),
                "replayed in ledger order, unknown files last: \(lines)")
        let restored = try rows()
        #expect(restored.split(separator: "\n").filter { !$0.hasPrefix("veh-2,") }.joined(separator: "\n") + "\n" == corrected, "\(restored)")
        #expect(restored.contains("veh-2,"), "\(restored)")
    }
}
