import TachoFormat
import TachoStore

/// What the store holds for one vehicle. Row counts are distinct identities (duplicates
/// resolved, expired rows excluded); `firstTime`/`lastTime` span every measurement counted.
public struct VehicleSummary: Sendable, Hashable {
    public var vehicle: String
    public var firstTime: Int64
    public var lastTime: Int64
    /// Rows per measurement id (measurements without rows of this vehicle are absent).
    public var rowsByMeasurement: [UInt8: Int]

    public var detectionRows: Int {
        get { rowsByMeasurement[Measurement.detections.id] ?? 0 }
        set { rowsByMeasurement[Measurement.detections.id] = newValue == 0 ? nil : newValue }
    }
    public var statusRows: Int {
        get { rowsByMeasurement[Measurement.status.id] ?? 0 }
        set { rowsByMeasurement[Measurement.status.id] = newValue == 0 ? nil : newValue }
    }

    public init(vehicle: String, firstTime: Int64, lastTime: Int64, rowsByMeasurement: [UInt8: Int]) {
        (self.vehicle, self.firstTime, self.lastTime, self.rowsByMeasurement) = (vehicle, firstTime, lastTime, rowsByMeasurement)
    }

    public init(vehicle: String, firstTime: Int64, lastTime: Int64, detectionRows: Int, statusRows: Int) {
        var rows: [UInt8: Int] = [:]
        if detectionRows > 0 { rows[Measurement.detections.id] = detectionRows }
        if statusRows > 0 { rows[Measurement.status.id] = statusRows }
        self.init(vehicle: vehicle, firstTime: firstTime, lastTime: lastTime, rowsByMeasurement: rows)
    }

    /// Rows of measurement `m`.
    public func rows(of m: Measurement) -> Int { rowsByMeasurement[m.id] ?? 0 }

    /// The vehicle id compares by bytes (`Identity`), not by Unicode canonical equivalence.
    public static func == (a: Self, b: Self) -> Bool {
        Identity.equal(a.vehicle, b.vehicle) && (a.firstTime, a.lastTime) == (b.firstTime, b.lastTime)
            && a.rowsByMeasurement == b.rowsByMeasurement
    }

    public func hash(into h: inout Hasher) {
        h.combine(ByteString(vehicle)); h.combine(firstTime); h.combine(lastTime); h.combine(rowsByMeasurement)
    }

    /// Every vehicle with rows of `measurements` (nil: every measurement), or those in
    /// `vehicles`, ordered by vehicle id bytes. Chunks no other segment overlaps are counted
    /// from their footers; only overlapping ones (or chunks cut by the retention watermark)
    /// are decoded, and then only their time column plus what deduplication needs.
    public static func compute(on snapshot: Snapshot, vehicles: Set<ByteString>? = nil,
                               measurements: [Measurement]? = nil) throws -> [VehicleSummary] {
        var byVehicle: [ByteString: VehicleSummary] = [:]
        for m in measurements ?? MeasurementLookup.all(in: snapshot) {
            try countRows(m, snapshot: snapshot, vehicles: vehicles) { v, n, lo, hi in
                let key = ByteString(v)
                var s = byVehicle[key] ?? VehicleSummary(vehicle: v, firstTime: lo, lastTime: hi, rowsByMeasurement: [:])
                s.firstTime = min(s.firstTime, lo)
                s.lastTime = max(s.lastTime, hi)
                s.rowsByMeasurement[m.id, default: 0] += n
                byVehicle[key] = s
            }
        }
        return byVehicle.values.sorted { Identity.less($0.vehicle, $1.vehicle) }
    }

    /// Distinct, unexpired rows of `m` (footers where they suffice).
    public static func rowCount(of m: Measurement, on snapshot: Snapshot) throws -> Int {
        var n = 0
        try countRows(m, snapshot: snapshot, vehicles: nil) { _, c, _, _ in n += c }
        return n
    }

    /// Calls `body(vehicle, rows, minTime, maxTime)` for each non-empty scan item.
    static func countRows(_ m: Measurement, snapshot: Snapshot, vehicles: Set<ByteString>?,
                          _ body: (String, Int, Int64, Int64) -> Void) throws {
        let from = snapshot.manifest.watermarks[m.id] ?? .min
        let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(
            m, vehicles: vehicles, columns: Array(repeating: false, count: m.columns.count)))
        while let item = try cursor.nextItem() {
            if case .chunk(let v, _, let meta) = item, meta.minTime >= from {
                body(v, meta.rowCount, meta.minTime, meta.maxTime)
                continue
            }
            let b = try cursor.decode(item)
            guard !b.range.isEmpty else { continue }
            body(b.vehicle, b.count, b.chunk.times[b.range.lowerBound], b.chunk.times[b.range.upperBound - 1])
        }
    }
}

/// Per-measurement figures of `StoreStats`.
public struct MeasurementStats: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    public var segments: Int
    /// Rows in live segment files, superseded copies and expired-not-yet-deleted rows included.
    public var storedRows: Int
    /// Distinct, unexpired rows (what queries see); nil unless asked for (it needs a scan).
    public var rows: Int?
    public var segmentBytes: UInt64
    /// Segment bytes per row (`rows` when known, else `storedRows`); 0 when there are none.
    public var bytesPerRow: Double
}

/// Size and shape of a store at one snapshot.
public struct StoreStats: Sendable, Hashable {
    /// Distinct partitions with live segments, all measurements together.
    public var partitions: Int
    public var segments: Int
    public var measurements: [MeasurementStats]
    public var storedRows: Int
    /// nil unless `exactRows`.
    public var rows: Int?
    public var segmentBytes: UInt64
    /// MANIFEST, the latest-status index and the ingest ledgers.
    public var metadataBytes: UInt64
    public var totalBytes: UInt64 { segmentBytes + metadataBytes }
    /// Total bytes per row (`rows` when known, else `storedRows`).
    public var bytesPerRow: Double

    /// Reads the manifest only, plus one stat per metadata file; with `exactRows` also counts
    /// distinct rows the way `VehicleSummary` does. Files that vanished count as 0 bytes.
    ///
    /// `measurements` lists every measurement with segments; detections and status always
    /// appear (with zeros when empty), as they did before other measurements existed.
    /// `only`: these measurements' figures instead (the totals stay the store's).
    public static func compute(on snapshot: Snapshot, exactRows: Bool = false, measurements only: [Measurement]? = nil,
                               fileSystem: any StoreFileSystem = PosixFileSystem()) throws -> StoreStats {
        let man = snapshot.manifest
        var per: [MeasurementStats] = []
        for m in only ?? MeasurementLookup.all(in: snapshot) {
            let segs = man.segments(of: m)
            let always = only != nil || m.id == Measurement.detections.id || m.id == Measurement.status.id
            guard always || !segs.isEmpty else { continue }
            var rows: Int?
            if exactRows {
                var n = 0
                try VehicleSummary.countRows(m, snapshot: snapshot, vehicles: nil) { _, c, _, _ in n += c }
                rows = n
            }
            let stored = segs.reduce(0) { $0 + $1.rowCount }
            let bytes = segs.reduce(UInt64(0)) { $0 + $1.fileSize }
            per.append(MeasurementStats(
                name: m.name, partitions: Set(segs.map(\.partitionStart)).count, segments: segs.count,
                storedRows: stored, rows: rows, segmentBytes: bytes,
                bytesPerRow: ratio(bytes, rows ?? stored)))
        }
        let layout = snapshot.layout
        var meta: [String] = [layout.manifest]
        if !man.latestIndex.isEmpty { meta.append(layout.indexPath(man.latestIndex)) }
        meta += man.ledgers.map { layout.indexPath($0) }
        let metaBytes = meta.reduce(UInt64(0)) { $0 + ((try? fileSystem.fileSize($1)) ?? 0) }
        let segBytes = man.segments.reduce(UInt64(0)) { $0 + $1.fileSize }
        let stored = man.segments.reduce(0) { $0 + $1.rowCount }
        let rows = exactRows && only == nil ? per.reduce(0) { $0 + ($1.rows ?? 0) } : nil
        return StoreStats(
            partitions: Set(man.segments.map(\.partitionStart)).count, segments: man.segments.count,
            measurements: per, storedRows: stored, rows: rows, segmentBytes: segBytes, metadataBytes: metaBytes,
            bytesPerRow: ratio(segBytes + metaBytes, rows ?? stored))
    }

    static func ratio(_ bytes: UInt64, _ rows: Int) -> Double { rows == 0 ? 0 : Double(bytes) / Double(rows) }
}
