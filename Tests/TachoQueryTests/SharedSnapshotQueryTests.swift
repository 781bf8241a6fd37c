import Testing
import TachoFormat
import TachoStore
@testable import TachoQuery
import TachoTestSupport

/// Issue 18 item 6: one `Snapshot` serves many concurrent queries (an HTTP front's).
@Suite struct SharedSnapshotQueryTests {
    enum Query: Sendable {
        case range(RangeQuery)
        case aggregate(AggregateQuery)
    }

    enum Answer: Sendable, Hashable {
        case rows([DetectionRow])
        case aggregate([AggregateRow])
    }

    static func answer(_ q: Query, on snap: Snapshot) throws -> Answer {
        switch q {
        case .range(let r): .rows(try readAll(RowCursor(snapshot: snap, query: r)))
        case .aggregate(let a): .aggregate(try a.run(on: snap))
        }
    }

    /// 8 tasks each run every range and aggregate query (each in its own order) on one shared
    /// snapshot whose handle cache holds 3 segments, so handles are dropped and re-opened
    /// under the readers' feet; every answer equals the one a sequential run on a snapshot
    /// of its own gives.
    @Test func concurrentQueriesOnOneSnapshotAnswerAsSequentialOnes() async throws {
        let f = try Fixture(seed: 5)
        var rng = SplitMix64(state: 77)
        let functions: [AggregateFunction] = [.count, .sum, .min, .max, .avg]
        var queries: [Query] = []
        for i in 0..<40 {
            let a = f.randomTime(&rng), b = f.randomTime(&rng)
            let (from, to) = (min(a, b), max(a, b) + 1)
            if i % 2 == 0 {
                queries.append(.range(.detections(vehicles: f.randomVehicles(&rng), from: from, to: to)))
            } else {
                queries.append(.aggregate(AggregateQuery(functions[i / 2 % functions.count], every: hour / 4,
                                                         groupBy: i % 4 == 1 ? ["vehicle"] : ["type"],
                                                         vehicles: f.randomVehicles(&rng), from: from, to: to)))
            }
        }
        queries.append(.range(.detections()))
        queries.append(.aggregate(AggregateQuery(.count, every: hour, groupBy: ["vehicle", "type"])))
        let sequentialSnap = try f.snapshot()
        let sequential = try queries.map { try Self.answer($0, on: sequentialSnap) }
        #expect(sequential.last != .aggregate([]))

        var o = f.options
        o.handleCache = SegmentHandleCache(capacity: 3)
        let shared = try Snapshot.open(path: f.dir.path, options: o)
        #expect(shared.manifest.segments.count > 6)
        let queryList = queries
        let results = try await withThrowingTaskGroup(of: [Answer].self) { group in
            for t in 0..<8 {
                group.addTask {
                    var answers = [Answer?](repeating: nil, count: queryList.count)
                    var order = SplitMix64(state: UInt64(t + 1))
                    for _ in 0..<3 {
                        for i in queryList.indices.shuffled(using: &order) {
                            let a = try Self.answer(queryList[i], on: shared)
                            if let before = answers[i], before != a { return [] }  // flagged below
                            answers[i] = a
                        }
                    }
                    return answers.compactMap { $0 }
                }
            }
            var all: [[Answer]] = []
            for try await r in group { all.append(r) }
            return all
        }
        #expect(results.count == 8)
        for r in results { #expect(r == sequential) }
        #expect(try shared.latestIndex() == sequentialSnap.latestIndex())
    }
}
