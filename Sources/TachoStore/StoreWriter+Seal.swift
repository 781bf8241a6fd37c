import TachoFormat

/// What sealing rows off the writer's thread needs to know of the writer: how it partitions
/// rows, when it spills, how it encodes segments.
public struct SealParameters: Sendable {
    var manifest: Manifest
    var bufferBytes: Int
    var segment: SegmentBuilder.Options
    /// Encode a large partition's vehicles on two threads (`sealBody`); same bytes either way.
    var splitSeal = true
}

/// Rows sealed into segment bodies by `StoreWriter.seal`, waiting for the writer to number,
/// write and publish them (`StoreWriter.append(_:)`).
public struct SealedRows: Sendable {
    /// In the order the writer would have sealed them.
    let bodies: [SegmentBody]
    /// Batches of measurements with a latest-status column, each with the number of bodies
    /// sealed before it was appended.
    let latestBatches: [(batch: RowBatch, bodiesBefore: Int)]
    public let rowCount: Int
    /// Rows dropped because a later row of the same source and identity replaced them.
    public let superseded: SupersededRows
}

/// Per input (`RowBatch.source`), the rows that sealing dropped because a later row of the
/// same input had the same identity (the last one wins): e.g. one event listing the same
/// object_type twice. Counted where the dedupe happens, only when it drops a row (no cost
/// per kept row). Rows replaced by another input's, or by rows sealed in another segment
/// (a large file's earlier spill; an earlier commit), are not counted here: those are
/// "last ingested wins" between inputs, or resolved when read.
public struct SupersededRows: Sendable, Equatable {
    public private(set) var bySource: [Int32: Int] = [:]

    public init() {}

    public subscript(source: Int32) -> Int { bySource[source] ?? 0 }

    public var total: Int { bySource.values.reduce(0, +) }

    mutating func add(_ source: Int32, _ rows: Int) { bySource[source, default: 0] += rows }

    mutating func add(_ other: SupersededRows) {
        for (s, n) in other.bySource { bySource[s, default: 0] += n }
    }
}

extension StoreWriter {
    public var sealParameters: SealParameters {
        var m = Manifest()
        m.partitionWidth = manifest.partitionWidth
        return SealParameters(manifest: m, bufferBytes: options.bufferBytes, segment: options.segment)
    }

    /// Sorts, deduplicates and encodes `batches` on the calling thread (any thread) exactly as
    /// appending them to an empty transaction of the writer `parameters` came from would: the
    /// same segments, split where it would spill, minus the footers' segment numbers.
    /// Empties `batches` as it goes: each batch's memory goes once its rows are buffered (a
    /// group of files holds tens of MiB of rows), except status batches, which the writer
    /// still needs for the latest-status index.
    public static func seal(_ batches: inout [RowBatch], _ parameters: SealParameters) throws -> SealedRows {
        var rows = RowBuffers()
        var bodies: [SegmentBody] = []
        var latestBatches: [(batch: RowBatch, bodiesBefore: Int)] = []
        var rowCount = 0
        var superseded = SupersededRows()
        func sealAll() throws {
            let strings = rows.strings
            while let (key, buf) = rows.takeFirst() {
                bodies.append(
                    try sealBody(
                        buf, partitionStart: key.start, strings: strings, options: parameters.segment,
                        split: parameters.splitSeal, superseded: &superseded))
            }
        }
        defer { batches.removeAll() }
        for i in batches.indices {
            let batch = batches[i]
            batches[i] = RowBatch(batch.measurement)  // the array's reference goes; `batch` is the last
            guard !batch.isEmpty else { continue }
            let full = rows.add(batch, budget: parameters.bufferBytes, in: parameters.manifest)
            if batch.measurement.latestColumn != nil { latestBatches.append((batch, bodies.count)) }
            rowCount += batch.count
            if full { try sealAll() }
        }
        try sealAll()
        return SealedRows(bodies: bodies, latestBatches: latestBatches, rowCount: rowCount, superseded: superseded)
    }

    /// Seals a partition buffer into a new segment file (fsynced, not yet published).
    func sealSegment(_ buf: PartitionBuffer, partitionStart: Int64) throws -> SegmentMeta {
        let strings = rows.strings
        return try writeSegmentFile(buf.measurement, partitionStart: partitionStart) { seq, write in
            var builder = SegmentBuilder(measurement: buf.measurement, partitionStart: partitionStart, seq: seq, options: options.segment)
            try Self.encode(buf, strings: strings, into: &builder, superseded: &superseded) { b in
                // Stream to the file as it grows.
                if b.pending.count >= 1 << 20 {
                    try b.pending.bytes.withUnsafeBytes(write)
                    b.pending.removeAll(keepingCapacity: true)
                }
            }
            let footer = builder.finish()
            try builder.pending.bytes.withUnsafeBytes(write)
            return footer
        }
    }

    /// Writes a body sealed elsewhere as a new segment file with the next number.
    func writeSegment(_ body: SegmentBody) throws -> SegmentMeta {
        try writeSegmentFile(body.measurement, partitionStart: body.partitionStart) { seq, write in
            let (tail, footer) = body.tail(seq: seq)
            try body.bytes.withUnsafeBytes(write)
            try tail.withUnsafeBytes(write)
            return footer
        }
    }

    /// Creates the segment file with the next number, lets `fill` write it (given the number),
    /// fsyncs and closes it; removes it on any error.
    private func writeSegmentFile(
        _ m: Measurement, partitionStart: Int64,
        _ fill: (UInt64, (UnsafeRawBufferPointer) throws -> Void) throws -> SegmentFooter
    ) throws -> SegmentMeta {
        let number = manifest.nextNumber
        manifest.nextNumber += 1
        let name = StoreLayout.segmentName(measurement: m, partitionStart: partitionStart, number: number)
        let path = layout.segmentPath(name)
        let fd = try fs.createFile(path)
        var closing = false  // close releases the descriptor even when it fails: never twice
        var size: UInt64 = 0
        do {
            let footer = try fill(number) { bytes in
                size += UInt64(bytes.count)
                try fs.write(fd, bytes, path: path)
            }
            try fs.sync(fd, path: path)
            closing = true
            try fs.close(fd, path: path)
            CrashPoint.hit(CrashPoint.segmentWritten)
            return SegmentMeta(
                name: name, measurementID: m.id, partitionStart: partitionStart, seq: number,
                rowCount: footer.rowCount, minTime: footer.minTime, maxTime: footer.maxTime, fileSize: size)
        } catch {
            if !closing { try? fs.close(fd, path: path) }
            try? fs.unlink(path)
            throw error
        }
    }

    /// Sorts a partition buffer by (vehicle, time, identity), keeps the last appended row of
    /// each identity, and appends it to `builder`, vehicle by vehicle, calling `afterVehicle`
    /// after each. Rows are not copied in sorted order: the builder gathers each chunk by
    /// row index. String ids index `strings`. Rows dropped for a later one of the same
    /// source are added to `superseded`.
    static func encode(
        _ buf: PartitionBuffer, strings: [String], into builder: inout SegmentBuilder,
        superseded: inout SupersededRows, afterVehicle: (inout SegmentBuilder) throws -> Void
    ) throws {
        let (order, runs) = sortedUniqueOrder(buf, strings: strings, superseded: &superseded)
        try order.withUnsafeBufferPointer { order in
            for run in runs {
                try builder.appendVehicle(
                    strings[Int(run.vehicle)], rows: UnsafeBufferPointer(rebasing: order[run.rows]),
                    times: buf.times, columns: buf.columns, dictionary: strings)
                try afterVehicle(&builder)
            }
        }
    }

    /// One vehicle's rows in a sorted order: `order[rows]`.
    struct VehicleRun {
        var vehicle: UInt32
        var rows: Range<Int>
    }

    /// Row indexes of `buf` in (vehicle id bytes, time, identity columns) order, with only the
    /// last appended row of each identity kept, and the range of each vehicle's rows in it.
    /// A dropped row whose keeper came from the same source counts in `superseded`.
    static func sortedUniqueOrder(
        _ buf: PartitionBuffer, strings: [String], superseded: inout SupersededRows
    ) -> (order: [Int32], runs: [VehicleRun]) {
        var v = vehicleOrder(buf, strings: strings)
        let identity = IdentityOrder(buf, strings: strings)
        var order = v.order
        v.order = []
        let (runs, end) = order.withUnsafeMutableBufferPointer { order in
            uniqueRuns(buf, order, v, vehicles: 0..<v.distinct.count, identity, &superseded)
        }
        order.removeLast(order.count - end)
        return (order, runs)
    }

    /// Row indexes of a buffer grouped by vehicle (ids in byte order), appended order within
    /// a vehicle: vehicle `r` (`distinct[r]`) holds `order[starts[r]..<starts[r + 1]]`.
    struct VehicleOrder {
        var order: [Int32]
        var starts: [Int]
        var distinct: [UInt32]
    }

    static func vehicleOrder(_ buf: PartitionBuffer, strings: [String]) -> VehicleOrder {
        let n = buf.count
        // Writer string ids are small and dense: rank tables are arrays indexed by id.
        let vehicleRank = byteOrderRanks(of: buf.vehicles, strings: strings)
        let distinct = vehicleRank.distinct
        // Counting sort by vehicle rank (stable: appended order within a vehicle).
        var counts = [Int](repeating: 0, count: distinct.count + 1)
        var order = [Int32](repeating: 0, count: n)
        vehicleRank.rank.withUnsafeBufferPointer { rank in
            buf.vehicles.withUnsafeBufferPointer { vehicles in
                for v in vehicles { counts[Int(rank[Int(v)]) + 1] += 1 }
                for r in 0..<distinct.count { counts[r + 1] += counts[r] }
                var next = counts
                order.withUnsafeMutableBufferPointer { order in
                    for i in 0..<n {
                        let r = Int(rank[Int(vehicles[i])])
                        order[next[r]] = Int32(i)
                        next[r] += 1
                    }
                }
            }
        }
        return VehicleOrder(order: order, starts: counts, distinct: distinct)
    }

    /// Sorts the rows of vehicles `vehicles` (ranks into `v`) by (time, identity) and keeps the
    /// last appended row of each identity, compacting them in place from
    /// `v.starts[vehicles.lowerBound]` on. Touches only that vehicles' part of `order`, so
    /// disjoint ranges may run on different threads. Returns each vehicle's kept rows and
    /// where the kept rows end.
    static func uniqueRuns(
        _ buf: PartitionBuffer, _ order: UnsafeMutableBufferPointer<Int32>, _ v: VehicleOrder, vehicles: Range<Int>,
        _ identity: IdentityOrder, _ superseded: inout SupersededRows
    ) -> (runs: [VehicleRun], end: Int) {
        var runs: [VehicleRun] = []
        runs.reserveCapacity(vehicles.count)
        var kept = v.starts[vehicles.lowerBound]
        buf.times.withUnsafeBufferPointer { times in
            for r in vehicles {
                let lo = v.starts[r], hi = v.starts[r + 1]
                identity.sort(order, lo, hi, times)
                // Keep the last appended row of each identity (they are adjacent,
                // index-ascending); `kept` ≤ i, so compacting in place is safe.
                let start = kept
                var i = lo
                while i < hi {
                    var j = i
                    while j + 1 < hi && identity.same(order[j + 1], order[i], times) { j += 1 }
                    if j > i { countSuperseded(buf, order, i, j, &superseded) }
                    order[kept] = order[j]
                    kept += 1
                    i = j + 1
                }
                runs.append(VehicleRun(vehicle: v.distinct[r], rows: start..<kept))
            }
        }
        return (runs, kept)
    }

    /// Rows `order[i..<j]` were dropped for `order[j]`, all of one identity in appended
    /// order (rare: only then is this called). Each dropped row whose successor came from
    /// the same source was superseded within that source.
    private static func countSuperseded(
        _ buf: PartitionBuffer, _ order: UnsafeMutableBufferPointer<Int32>, _ i: Int, _ j: Int,
        _ superseded: inout SupersededRows
    ) {
        guard buf.sources.count > 1 else {
            superseded.add(buf.sources.first?.source ?? 0, j - i)
            return
        }
        var next = buf.source(ofRow: Int(order[j]))
        for k in stride(from: j - 1, through: i, by: -1) {
            let s = buf.source(ofRow: Int(order[k]))
            if s == next { superseded.add(s, 1) }
            next = s
        }
    }

    /// The distinct ids among `ids` sorted by the bytes of their strings, and each one's rank
    /// (indexed by id; ids not present have rank 0).
    static func byteOrderRanks(of ids: [UInt32], strings: [String]) -> (distinct: [UInt32], rank: [UInt32]) {
        var rank = [UInt32](repeating: 0, count: strings.count)
        var distinct: [UInt32] = []
        rank.withUnsafeMutableBufferPointer { seen in
            for id in ids where seen[Int(id)] == 0 {
                seen[Int(id)] = 1
                distinct.append(id)
            }
        }
        distinct.sort { Identity.less(strings[Int($0)], strings[Int($1)]) }
        for (r, id) in distinct.enumerated() { rank[Int(id)] = UInt32(r) }
        return (distinct, rank)
    }
}
