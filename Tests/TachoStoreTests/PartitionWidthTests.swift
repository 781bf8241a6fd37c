import Foundation
import Testing
import TachoFormat
import TachoTestSupport
@testable import TachoStore

/// Measurements with a partition width of their own (FORMAT.md §3.3, §7): rows round-trip
/// through wide partitions, a store written before widths existed opens and reads as it did,
/// a stored width is fixed, and retention, the disk budget, compaction, verify and the
/// manifest rebuild use each measurement's width.
@Suite struct PartitionWidthTests {
    static let width = 32 * dayMicros
    /// Partition-aligned (a multiple of 32 days), 2024-07-12.
    static let p0 = (july1 / (32 * dayMicros) + 1) * (32 * dayMicros)

    /// A rollup-like measurement: (vehicle, time, kind) → n.
    static func wide(_ width: Int64? = PartitionWidthTests.width) -> Measurement {
        Measurement(id: 0, name: "wide", columns: [ColumnSpec("kind", .string, identity: true), ColumnSpec("n", .int64)],
                    partitionWidth: width)
    }

    struct Row: Hashable, Comparable {
        var vehicle: String
        var time: Int64
        var kind: String
        var n: Int64
        static func < (a: Row, b: Row) -> Bool {
            (ByteString(a.vehicle), a.time, ByteString(a.kind)) < (ByteString(b.vehicle), b.time, ByteString(b.kind))
        }
    }

    static func options(_ declared: Measurement) -> StoreOptions {
        var o = smallOptions()
        o.measurements = [declared]
        return o
    }

    /// Random rows over `days` days from `from`, one hour apart at most per vehicle and kind.
    static func rows(_ count: Int, from: Int64 = p0, days: Int64 = 80, seed: UInt64) -> [Row] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            Row(vehicle: ["v1", "v2", "v3"].randomElement(using: &rng)!,
                time: from + Int64.random(in: 0..<(days * 24), using: &rng) * hourMicros,
                kind: ["cars", "signs"].randomElement(using: &rng)!, n: Int64.random(in: 0...9, using: &rng))
        }
    }

    static func append(_ w: StoreWriter, _ rows: [Row]) throws {
        let m = try #require(w.catalog.measurement(named: "wide"))
        var b = RowBatch(m)
        for r in rows { b.append(vehicle: r.vehicle, time: r.time, [.string(r.kind), .int(r.n)]) }
        try w.append(b)
        try w.commit()
    }

    static func scan(_ snap: Snapshot, from: Int64 = .min, to: Int64 = .max) throws -> [Row] {
        let m = try #require(snap.catalog.measurement(named: "wide"))
        let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(m, from: from, to: to))
        var out: [Row] = []
        while let b = try cursor.next() {
            for i in b.range {
                out.append(Row(vehicle: b.vehicle, time: b.chunk.times[i], kind: b.chunk.columns[0].string(at: i), n: b.chunk.columns[1].ints[i]))
            }
        }
        return out
    }

    /// The last appended row per identity, in scan order.
    static func model(_ rows: [Row]) -> [Row] {
        var last: [String: Row] = [:]
        for r in rows { last["\(r.vehicle)|\(r.time)|\(r.kind)"] = r }
        return last.values.sorted()
    }

    static func wideSegments(_ m: Manifest, _ catalog: Catalog) -> [SegmentMeta] {
        m.segments.filter { $0.measurementID == catalog.measurement(named: "wide")?.id }
    }

    @Test func rowsRoundTripThroughWidePartitions() throws {
        let dir = TempDir()
        var all: [Row] = []
        do {
            let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide()))
            for c in 0..<4 {
                let r = Self.rows(300, seed: UInt64(c + 1))
                try Self.append(w, r)
                all += r
            }
            // Raw rows beside them keep the store's one-day partitions.
            var det = RowBatch(.detections)
            for i in 0..<50 { det.append(vehicle: "v1", time: Self.p0 + Int64(i) * 6 * hourMicros, [.string("cars"), .int(1)]) }
            try w.append(det)
            try w.commit()
            #expect(try Self.scan(w.snapshot()) == Self.model(all))
            w.close()
        }
        let snap = try Snapshot.open(path: dir.path, options: smallOptions())
        #expect(snap.catalog.measurement(named: "wide")?.partitionWidth == Self.width)
        #expect(try Self.scan(snap) == Self.model(all))
        let from = Self.p0 + 20 * dayMicros, to = Self.p0 + 50 * dayMicros
        #expect(try Self.scan(snap, from: from, to: to) == Self.model(all).filter { $0.time >= from && $0.time < to })
        // 80 days from a partition start: three partitions of 32 days, each segment inside its own.
        let segs = Self.wideSegments(snap.manifest, snap.catalog)
        #expect(Set(segs.map(\.partitionStart)) == [Self.p0, Self.p0 + Self.width, Self.p0 + 2 * Self.width])
        for s in segs {
            #expect(s.partitionStart % Self.width == 0 && s.minTime >= s.partitionStart && s.maxTime < s.partitionStart + Self.width, "\(s)")
        }
        let det = snap.manifest.segments.filter { $0.measurementID == Measurement.detections.id }
        #expect(Set(det.map(\.partitionStart)).count == 13 && det.allSatisfy { $0.maxTime < $0.partitionStart + dayMicros })
        #expect(snap.manifest.partitionWidth == dayMicros)
        #expect(Verifier.verify(snapshot: snap).isClean)
        // The writer opened again with the measurement declared without a width: the stored one stays.
        let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide(nil)))
        #expect(w.catalog.measurement(named: "wide")?.partitionWidth == Self.width)
        w.close()
    }

    /// A store written before partition widths (the rollup's catalog entry without one, version
    /// 1 bytes; one-day partitions) opens with today's declaration of a width and reads as
    /// before; new rows go on into one-day partitions and the catalog file is not rewritten.
    @Test func storeWithoutWidthsOpensAndReadsAsBefore() throws {
        let dir = TempDir()
        let first = Self.rows(400, days: 5, seed: 7)
        let catalogName: String
        let catalogBytes: [UInt8]
        let before: [Row]
        do {
            let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide(nil)))
            try Self.append(w, first)
            before = try Self.scan(w.snapshot())
            catalogName = w.manifest.catalog
            catalogBytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/index/" + catalogName)))
            #expect(Array(catalogBytes[4..<6]) == [1, 0], "version 1, as before widths")
            w.close()
        }
        let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide()))
        #expect(w.catalog.measurement(named: "wide")?.partitionWidth == nil)
        #expect(try Self.scan(w.snapshot()) == before)
        let more = Self.rows(100, from: Self.p0 + 5 * dayMicros, days: 2, seed: 8)
        try Self.append(w, more)
        #expect(w.manifest.catalog == catalogName, "no new catalog generation")
        let segs = Self.wideSegments(w.manifest, w.catalog)
        #expect(segs.allSatisfy { $0.partitionStart % dayMicros == 0 && $0.maxTime < $0.partitionStart + dayMicros })
        #expect(Set(segs.map(\.partitionStart)).count == 7)
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: smallOptions())
        #expect(try Self.scan(snap) == Self.model(first + more))
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/index/" + catalogName))) == catalogBytes)
        #expect(Verifier.verify(snapshot: snap).isClean)
    }

    /// Age retention on a wide measurement: a partition goes only when all of it lies below the
    /// watermark; the partition the watermark cuts stays, its older rows hidden at once and
    /// deleted by compaction, which rewrites the whole partition (not its first day).
    @Test func ageRetentionAndCompactionOfWidePartitions() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide()))
        var all: [Row] = []
        for c in 0..<3 {
            // Each commit spans all three partitions, so each of its segments straddles the cut below.
            let r = Self.rows(300, seed: UInt64(20 + c)) + [
                Row(vehicle: "v1", time: Self.p0 + Self.width, kind: "edge\(c)", n: 1),
                Row(vehicle: "v1", time: Self.p0 + 2 * Self.width - 1, kind: "edge\(c)", n: 1),
            ]
            try Self.append(w, r)
            all += r
        }
        let mid = try #require(w.catalog.measurement(named: "wide")?.id)
        let cut = Self.p0 + Self.width + 8 * dayMicros
        let age = 10 * dayMicros
        var policy = RetentionPolicy()
        policy.maxAge = [mid: age]
        let r = RetentionEnforcer(policy: policy, logger: w.logger, clock: StoreClock.Manual(wallMicros: cut + age).clock)
        _ = try r.enforceAge(w)
        #expect(w.manifest.watermarks[mid] == cut)
        let segs = Self.wideSegments(w.manifest, w.catalog)
        #expect(Set(segs.map(\.partitionStart)) == [Self.p0 + Self.width, Self.p0 + 2 * Self.width], "only the first partition is wholly expired")
        #expect(segs.filter { $0.partitionStart == Self.p0 + Self.width }.count == 3)
        let expected = Self.model(all).filter { $0.time >= cut }
        #expect(try Self.scan(w.snapshot()) == expected)

        // Compaction (now past every partition's end) rewrites the cut partition without its
        // expired rows, and merges the last one: one segment each, the same rows.
        let out = try w.compact(compactOptions(now: Self.p0 + 4 * Self.width))
        #expect(out.tasks.filter(\.applied).count == 2)
        let after = Self.wideSegments(w.manifest, w.catalog)
        #expect(after.count == 2)
        let cutPartition = try #require(after.first { $0.partitionStart == Self.p0 + Self.width })
        #expect(cutPartition.minTime >= cut && cutPartition.maxTime == Self.p0 + 2 * Self.width - 1)
        #expect(try Self.scan(w.snapshot()) == expected)
        #expect(try Verifier.verify(snapshot: w.snapshot()).isClean)
        w.close()
    }

    /// Compaction merges every segment of a closed wide partition into one; an open one (its
    /// end after now, though its first day is long past) merges only its newest segments.
    @Test func compactionOfWidePartitions() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide()))
        var all: [Row] = []
        for c in 0..<8 {
            let r = Self.rows(200, days: 60, seed: UInt64(40 + c))
            try Self.append(w, r)
            all += r
        }
        let mid = try #require(w.catalog.measurement(named: "wide")?.id)
        // Now is 40 days in: the first partition is closed, the second open.
        let open = CompactionPlanner.plan(w.manifest, catalog: w.catalog, options: compactOptions(now: Self.p0 + 40 * dayMicros),
                                          defaultLevel: 3) { _ in nil }
        let tasks = open.tasks.filter { $0.measurementID == mid }
        #expect(tasks.first { $0.partitionStart == Self.p0 }?.inputs.count == 8)
        // Merged whole only if it were taken as closed (its first day ended long ago): it is
        // not; at most its newest segments merge (size tiers).
        let second = tasks.first { $0.partitionStart == Self.p0 + Self.width }
        #expect(second.map { t in t.reasons.contains { $0.contains("open partition") } } ?? true, "\(String(describing: second))")

        _ = try w.compact(compactOptions(now: Self.p0 + 3 * Self.width))
        let segs = Self.wideSegments(w.manifest, w.catalog)
        #expect(segs.count == 2 && Set(segs.map(\.partitionStart)) == [Self.p0, Self.p0 + Self.width])
        #expect(try Self.scan(w.snapshot()) == Self.model(all))
        w.close()
        let snap = try Snapshot.open(path: dir.path, options: smallOptions())
        #expect(try Self.scan(snap) == Self.model(all))
        #expect(Verifier.verify(snapshot: snap).isClean)
    }

    /// The disk budget drops a wide partition with the watermark at its end (not a day after
    /// its start), and weighs it by its oldest row, not its start: one-day partitions of
    /// older rows go first.
    @Test func diskBudgetUsesTheWidth() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide()))
        // Wide rows from day 20 of the partition on; raw rows of days 10 and 25.
        try Self.append(w, Self.rows(100, from: Self.p0 + 20 * dayMicros, days: 5, seed: 3))
        var det = RowBatch(.detections)
        det.append(vehicle: "v1", time: Self.p0 + 10 * dayMicros, [.string("cars"), .int(1)])
        det.append(vehicle: "v1", time: Self.p0 + 25 * dayMicros, [.string("cars"), .int(1)])
        try w.append(det)
        try w.commit()
        let mid = try #require(w.catalog.measurement(named: "wide")?.id)
        let r = RetentionEnforcer(policy: RetentionPolicy(), logger: w.logger)
        let first = try #require(r.oldestUnit(w.manifest, catalog: w.catalog))
        #expect(first.measurementID == Measurement.detections.id && first.partitionStart == Self.p0 + 10 * dayMicros)
        var report = RetentionReport()
        try r.drop(w, first, label: "test", report: &report)
        let second = try #require(r.oldestUnit(w.manifest, catalog: w.catalog))
        #expect(second.measurementID == mid && second.partitionStart == Self.p0)
        try r.drop(w, second, label: "test", report: &report)
        #expect(w.manifest.watermarks[mid] == Self.p0 + Self.width)
        #expect(try Self.scan(w.snapshot()).isEmpty)
        w.close()
    }

    /// The rebuild tells the store's width from the segments of measurements without one of
    /// their own: wide partitions would not fit one day.
    @Test func manifestRebuildKeepsWidths() throws {
        let dir = TempDir()
        let before: [Row]
        do {
            let w = try StoreWriter(path: dir.path, options: Self.options(Self.wide()))
            try Self.append(w, Self.rows(200, seed: 9))
            var det = RowBatch(.detections)
            det.append(vehicle: "v1", time: Self.p0 + 33 * dayMicros, [.string("cars"), .int(1)])
            try w.append(det)
            try w.commit()
            before = try Self.scan(w.snapshot())
            w.close()
        }
        try FileManager.default.removeItem(atPath: dir.path + "/MANIFEST")
        var quiet = StoreOptions()
        quiet.logger.logLevel = .error
        let r = try #require(try StoreWriter.rebuildManifest(path: dir.path, options: quiet))
        #expect(r.partitionWidth == dayMicros && r.widthDetermined, "\(r.widthReason)")
        let snap = try Snapshot.open(path: dir.path, options: quiet)
        #expect(try Self.scan(snap) == before)
        #expect(Verifier.verify(snapshot: snap).isClean)
    }
}
