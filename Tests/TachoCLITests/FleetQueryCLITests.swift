import Foundation
import Testing
import TachoTestSupport

/// The fleet lake end to end: two boxes export into one prefix (one of them twice, after a
/// later commit), and tools/fleet-query's answers from DuckDB, pyarrow and Spark (local mode)
/// equal `tacho agg` summed over the two stores.
@Suite(.serialized) struct FleetQueryCLITests {
    @Test func duckdbPyarrowAndSparkAgreeWithTachoAgg() throws {
        let a = TempDir("fleet-a"), b = TempDir("fleet-b"), lake = TempDir("fleet-lake")
        try ExportCLITests.makeStore(a.path, vehicles: ["box-a-1", "box-a-2 ✓"])
        try ExportCLITests.makeStore(b.path, vehicles: ["box-b-1", String(repeating: "b", count: 128)])
        for (store, box) in [(a.path, "box-a"), (b.path, "box-b")] {
            let r = try tacho(["export", "--store", store, "--out", lake.path, "--box-id", box])
            #expect(r.status == 0, "\(r.stderr)")
        }
        // A later commit into box a's partitions: its next export writes files of a higher seq
        // beside the old ones, and the lake's readers take only those.
        try ExportCLITests.makeStore(a.path, vehicles: ["box-a-1", "box-a-3"], offset: 7)
        let again = try tacho(["export", "--store", a.path, "--out", lake.path, "--box-id", "box-a"])
        #expect(again.status == 0 && !again.stdout.isEmpty, "\(again.stderr)")
        let check = ["--lake", lake.path, "--check", a.path, "--check", b.path, "--tacho", tachoPath]
        for (python, engine) in [(try ParquetReadBack.python(), "duckdb"), (try ParquetReadBack.python(), "pyarrow"),
                                 (try ParquetReadBack.sparkPython(), "spark")] {
            let r = try ParquetReadBack.runTool(python, "fleet-query", ["--engine", engine] + check)
            #expect(r.status == 0, "\(engine): \(r.err.suffix(3000))")
            let lines = r.err.split(separator: "\n")
            for q in ["detections", "alarms", "energy"] {
                let verdict = lines.first { $0.hasPrefix("fleet-query: \(q)/\(engine): ") }
                #expect(verdict?.hasSuffix("groups, agree with tacho agg") == true, "\(engine) \(q): \(r.err.suffix(2000))")
            }
            #expect(r.out.split(separator: "\n").count > 20, "\(engine) printed \(r.out.count) bytes")
        }
    }
}
