import TachoFormat

/// What to scan: one measurement, a vehicle set, a time range `[from, to)`.
public struct ScanSpec: Sendable {
    public var measurement: Measurement
    /// nil: every vehicle. Byte strings: ids are matched by their bytes (`Identity`).
    public var vehicles: Set<ByteString>?
    public var from: Int64
    public var to: Int64
    /// Which schema columns to decode (nil: all). The time column is always decoded.
    public var columns: [Bool]?

    public init(_ measurement: Measurement, vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max,
                columns: [Bool]? = nil) {
        self.measurement = measurement
        self.vehicles = vehicles
        self.from = from
        self.to = to
        self.columns = columns
    }
}

/// Rows `range` of `chunk`, all of `vehicle`, in (time, identity) order.
public struct ScanBatch {
    public var vehicle: String
    public var chunk: DecodedChunk
    public var range: Range<Int>
    public var count: Int { range.count }
}

/// One step of a scan before decoding: a stored chunk that can be used as it is (no other
/// segment overlaps it), or rows merged from overlapping segments with duplicates removed.
public enum ScanItem {
    case chunk(vehicle: String, reader: SegmentReader, meta: ChunkMeta)
    case merged(ScanBatch)
}

/// A single-pass, throwing cursor over the rows of a snapshot, ordered by (vehicle, time,
/// identity), each identity once (the row from the highest-seq segment wins). Reads only
/// the chunks whose vehicle and time range match.
public final class ScanCursor {
    public let spec: ScanSpec
    let snapshot: Snapshot
    private let from: Int64
    private var vehicles: [String] = []
    private var vehicleIndex = 0
    /// Readers of the matching segments grouped by partition, ascending.
    private var partitions: [[(reader: SegmentReader, seq: UInt64)]] = []
    private var pending: [ScanItem] = []
    private var pendingIndex = 0
    private var scratch: DecodedChunk

    public init(snapshot: Snapshot, spec: ScanSpec) throws {
        self.snapshot = snapshot
        self.spec = spec
        from = max(spec.from, snapshot.manifest.watermarks[spec.measurement.id] ?? .min)
        scratch = DecodedChunk(measurement: spec.measurement)
        guard from < spec.to else { return }
        var names = Set<ByteString>()
        var lastPartition = Int64.min
        for s in snapshot.segments(of: spec.measurement, from: from, to: spec.to) {
            let r = try snapshot.reader(s)
            if partitions.isEmpty || s.partitionStart != lastPartition {
                partitions.append([])
                lastPartition = s.partitionStart
            }
            partitions[partitions.count - 1].append((r, s.seq))
            if let want = spec.vehicles {
                for v in want where r.footer.vehicle(v.string) != nil { names.insert(v) }
            } else {
                for v in r.footer.vehicles { names.insert(ByteString(v.vehicle)) }
            }
        }
        vehicles = names.sorted().map(\.string)
    }

    /// The next step of the scan, not yet decoded.
    public func nextItem() throws -> ScanItem? {
        while pendingIndex >= pending.count {
            guard vehicleIndex < vehicles.count else { return nil }
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            try plan(vehicles[vehicleIndex])
            vehicleIndex += 1
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }

    /// The next batch of rows (decoded and trimmed to the range), or nil at the end.
    public func next() throws -> ScanBatch? {
        while let item = try nextItem() {
            let b = try decode(item)
            if !b.range.isEmpty { return b }
        }
        return nil
    }

    /// Decodes an item from `nextItem()` and trims it to the scan's range.
    public func decode(_ item: ScanItem) throws -> ScanBatch {
        switch item {
        case .merged(let b):
            return b
        case .chunk(let vehicle, let reader, let meta):
            do {
                try reader.decode(meta, columns: spec.columns, into: &scratch)
            } catch let e as SegmentError {
                throw StoreError.corrupt(e)
            }
            return ScanBatch(vehicle: vehicle, chunk: scratch, range: trim(scratch.times))
        }
    }

    func trim(_ times: [Int64]) -> Range<Int> {
        let lo = lowerBound(times, from)
        let hi = spec.to == .max ? times.count : lowerBound(times, spec.to)
        return lo..<max(lo, hi)
    }

    private func plan(_ vehicle: String) throws {
        for part in partitions {
            var pieces: [(reader: SegmentReader, seq: UInt64, meta: ChunkMeta)] = []
            for (r, seq) in part {
                guard let entry = r.footer.vehicle(vehicle) else { continue }
                for c in entry.chunks where c.maxTime >= from && c.minTime < spec.to {
                    pieces.append((r, seq, c))
                }
            }
            guard !pieces.isEmpty else { continue }
            pieces.sort { ($0.meta.minTime, $0.seq) < ($1.meta.minTime, $1.seq) }
            // Cluster chunks whose time ranges touch; a cluster from one segment is already
            // sorted and duplicate-free, one spanning segments must be merged.
            var start = 0
            while start < pieces.count {
                var end = start + 1
                var hi = pieces[start].meta.maxTime
                var mixed = false
                while end < pieces.count && pieces[end].meta.minTime <= hi {
                    if pieces[end].seq != pieces[start].seq { mixed = true }
                    hi = max(hi, pieces[end].meta.maxTime)
                    end += 1
                }
                if mixed {
                    pending.append(.merged(try merge(vehicle, Array(pieces[start..<end]))))
                } else {
                    for p in pieces[start..<end] { pending.append(.chunk(vehicle: vehicle, reader: p.reader, meta: p.meta)) }
                }
                start = end
            }
        }
    }
}

func lowerBound(_ a: [Int64], _ x: Int64) -> Int {
    var lo = 0, hi = a.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if a[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
