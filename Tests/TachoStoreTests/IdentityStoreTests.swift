import Foundation
import Testing
import TachoFormat
import TachoTestSupport
@testable import TachoStore

/// Issue 17 item 3: one identity and one order (`Identity`, `RowComparator`) on every path.
@Suite struct IdentityStoreTests {
    /// U+00E9 and "e" + U+0301: canonically equivalent (Swift `String ==` says equal), two
    /// byte strings, so two vehicles.
    static let composed = "\u{E9}"
    static let decomposed = "e\u{301}"
    /// Ids whose byte order differs from Swift's `String` order ("e\u{301}" sorts before "f"
    /// by bytes, after it as a String), plus ones where the two agree.
    static let ids = ["f", composed, "\u{FFFF}", "😀", decomposed, "Z", "a", "e"]

    static func byteSorted(_ a: [String]) -> [String] {
        a.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func bytes(_ a: [String]) -> [[UInt8]] { a.map { Array($0.utf8) } }

    @Test func theFixtureReallyDisagreesWithStringOrder() {
        #expect(Self.composed == Self.decomposed)  // what the old code keyed by
        #expect(!Identity.equal(Self.composed, Self.decomposed))
        #expect(Set(bytesOf: [Self.composed, Self.decomposed]).count == 2)
        #expect(Self.bytes(Self.ids.sorted()) != Self.bytes(Self.byteSorted(Self.ids)))
        #expect(Self.bytes(Identity.sorted(Self.ids)) == Self.bytes(Self.byteSorted(Self.ids)))
    }

    /// Canonically equivalent ids stay two vehicles through the writer (one commit, so one
    /// segment: interning and seal), the scan, the latest index (persisted and rebuilt), and
    /// compaction; vehicles come out in byte order everywhere.
    @Test func canonicallyEquivalentIdsStayTwoVehicles() throws {
        let dir = TempDir()
        let w = try StoreWriter(path: dir.path, options: smallOptions())
        defer { w.close() }
        let t = july1 + 3_600_000_000
        var det = RowBatch(.detections)
        var st = RowBatch(.status)
        for (k, v) in Self.ids.enumerated() {
            det.append(vehicle: v, time: t, [.string("cars"), .int(Int64(k))])
            st.append(vehicle: v, time: t, [.string("s\(k)")])
        }
        try w.append(det)
        try w.append(st)
        try w.commit()
        // A second commit of the same identities for the two equivalent ids: merged at read.
        var det2 = RowBatch(.detections)
        det2.append(vehicle: Self.decomposed, time: t, [.string("cars"), .int(100)])
        det2.append(vehicle: Self.composed, time: t, [.string("cars"), .int(200)])
        try w.append(det2)
        try w.commit()

        let want = Self.byteSorted(Self.ids)
        func check(_ snap: Snapshot, _ what: String) throws {
            let rows = try scanDetections(snap)
            #expect(Self.bytes(rows.map(\.vehicle)) == Self.bytes(want), "\(what): detections")
            let value = Dictionary(uniqueKeysWithValues: rows.map { (ByteString($0.vehicle), $0.value) })
            #expect(value[ByteString(Self.decomposed)] == 100 && value[ByteString(Self.composed)] == 200, "\(what)")
            let status = try scanStatus(snap)
            #expect(Self.bytes(status.map(\.vehicle)) == Self.bytes(want), "\(what): status")
            let idx = try snap.latestIndex()
            #expect(idx.entries.count == Self.ids.count, "\(what): latest index")
            for (k, v) in Self.ids.enumerated() { #expect(idx.entry(v)?.status == "s\(k)", "\(what): latest of \(v)") }
            let rebuilt = try rebuildLatestIndex(manifest: snap.manifest) { try snap.reader($0) }
            #expect(rebuilt.entries.mapValues(\.status) == idx.entries.mapValues(\.status), "\(what): rebuilt index")
            // The persisted index lists vehicles in byte order.
            let decoded = LatestIndex.decode(idx.encode())
            #expect(decoded == idx)
            for s in snap.manifest.segments {
                #expect(Self.bytes(try snap.reader(s).footer.vehicles.map(\.vehicle)) == Self.bytes(
                    Self.byteSorted(try snap.reader(s).footer.vehicles.map(\.vehicle))))
            }
        }
        try check(try w.snapshot(), "as written")
        let out = try w.compact(compactOptions())
        #expect(out.tasks.contains { $0.applied })
        try check(try w.snapshot(), "after compaction")
        #expect(Verifier.verify(snapshot: try w.snapshot()).isClean)
    }

    // MARK: float identity columns

    /// A test measurement with a float64 identity column (no built-in schema has one yet).
    static let probe = Measurement(
        id: 77, name: "probe", columns: [ColumnSpec("x", .float64, identity: true), ColumnSpec("v", .int64)])

    static let negativeNaN = Double(bitPattern: 0xFFF8_0000_0000_0001)
    static let payloadNaN = Double(bitPattern: 0x7FF0_0000_0000_0BAD)
    static let floats: [Double] = [0.0, -0.0, .nan, negativeNaN, payloadNaN, 1, -1, .infinity, -.infinity,
                                   .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude]

    struct ProbeRow: Equatable, CustomStringConvertible {
        var time: Int64
        var bits: UInt64
        var v: Int64
        var description: String { "(\(time), \(Double(bitPattern: bits)) \(String(bits, radix: 16)), \(v))" }
    }

    /// -0/0 and every NaN dedupe the same way whether the duplicates meet in one segment (the
    /// seal) or in several (the scan merge), for random row sets split into random commits:
    /// the result always equals the model keyed by `Identity.floatKey` (last appended wins),
    /// in (time, floatKey) order. Before the fix the seal kept -0 and 0 apart while the merge
    /// joined them, and NaN broke the merge's order.
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func floatIdentityDedupesTheSameInOneSegmentAndAcross(seed: UInt64) throws {
        var rng = SplitMix64(state: seed)
        var rows: [(t: Int64, x: Double, v: Int64)] = []
        for k in 0..<Int.random(in: 10...60, using: &rng) {
            rows.append((Int64.random(in: 0..<3, using: &rng), Self.floats.randomElement(using: &rng)!, Int64(k)))
        }
        struct Key: Hashable { var t: Int64; var x: Int64 }
        var model: [Key: (bits: UInt64, v: Int64)] = [:]
        for r in rows { model[Key(t: r.t, x: Identity.floatKey(r.x))] = (r.x.bitPattern, r.v) }
        let want = model.sorted { ($0.key.t, $0.key.x) < ($1.key.t, $1.key.x) }
            .map { ProbeRow(time: july1 + $0.key.t, bits: $0.value.bits, v: $0.value.v) }

        // Layouts: one commit (one segment), one commit per row, random splits.
        var layouts: [[Int]] = [[rows.count], Array(repeating: 1, count: rows.count)]
        for _ in 0..<3 {
            var parts: [Int] = []
            var left = rows.count
            while left > 0 { let n = Int.random(in: 1...left, using: &rng); parts.append(n); left -= n }
            layouts.append(parts)
        }
        for parts in layouts {
            let dir = TempDir()
            var options = smallOptions()
            options.measurements = [Self.probe]  // a declared measurement: the catalog numbers it
            let w = try StoreWriter(path: dir.path, options: options)
            defer { w.close() }
            let probe = try #require(w.catalog.measurement(named: "probe"))
            #expect(probe.id == 3 && probe.columns == Self.probe.columns)
            var start = 0
            for n in parts {
                var b = RowBatch(probe)
                for r in rows[start..<(start + n)] { b.append(vehicle: "v", time: july1 + r.t, [.double(r.x), .int(r.v)]) }
                start += n
                try w.append(b)
                try w.commit()
            }
            let cursor = try ScanCursor(snapshot: try w.snapshot(), spec: ScanSpec(probe))
            var got: [ProbeRow] = []
            while let b = try cursor.next() {
                for i in b.range {
                    got.append(ProbeRow(time: b.chunk.times[i], bits: b.chunk.columns[0].doubles[i].bitPattern,
                                        v: b.chunk.columns[1].ints[i]))
                }
            }
            #expect(got == want, "layout \(parts)")
        }
    }

    /// The seal's specialised order (`IdentityOrder` over rank tables and float keys) is
    /// `RowComparator`'s: random buffers with string, int and float identity columns sort to
    /// the same order and keep the same rows as sorting decoded rows with `RowComparator`.
    @Test(arguments: [7, 8, 9] as [UInt64])
    func sealOrderIsTheRowComparatorsOrder(seed: UInt64) throws {
        let m = Measurement(id: 78, name: "mixed", columns: [
            ColumnSpec("s", .string, identity: true), ColumnSpec("x", .float64, identity: true),
            ColumnSpec("i", .int64, identity: true), ColumnSpec("v", .int64)])
        var rng = SplitMix64(state: seed)
        // Writer string ids index one table for vehicles and values alike.
        let strings = ["f", Self.composed, Self.decomposed, "e", "\u{FFFF}", "😀", "", "v"]
        let vehicle = UInt32(strings.count - 1)
        var buf = StoreWriter.PartitionBuffer(m, capacity: 512)
        var chunk = DecodedChunk(measurement: m)
        chunk.columns[0].dictionary = strings
        for k in 0..<Int.random(in: 50...400, using: &rng) {
            let t = Int64.random(in: 0..<4, using: &rng)
            let s = UInt32.random(in: 0..<vehicle, using: &rng)
            let x = Self.floats.randomElement(using: &rng)!
            let i = Int64.random(in: -1...1, using: &rng)
            buf.vehicles.append(vehicle)
            buf.times.append(t)
            buf.columns[0].ids.append(s)
            buf.columns[1].doubles.append(x)
            buf.columns[2].ints.append(i)
            buf.columns[3].ints.append(Int64(k))
            chunk.times.append(t)
            chunk.columns[0].ids.append(s)
            chunk.columns[1].doubles.append(x)
            chunk.columns[2].ints.append(i)
            chunk.columns[3].ints.append(Int64(k))
        }
        buf.sources = [(0, 0)]
        var superseded = SupersededRows()
        let (order, runs) = StoreWriter.sortedUniqueOrder(buf, strings: strings, superseded: &superseded)
        #expect(runs.count == 1)

        let cmp = RowComparator(m)
        let sorted = chunk.times.indices.sorted { a, b in
            let c = cmp.compare(chunk, a, chunk, b)
            return c != 0 ? c < 0 : a < b
        }
        var want: [Int32] = []
        for (n, r) in sorted.enumerated() {
            // Keep the last appended row of each identity.
            if n + 1 < sorted.count && cmp.compare(chunk, r, chunk, sorted[n + 1]) == 0 { continue }
            want.append(Int32(r))
        }
        #expect(order == want)
        #expect(superseded.total == chunk.count - want.count)
    }
}
