import TachoFormat
import TachoStore
import TachoTime

/// Runs an `AggregateQuery`: walks the scan's items vehicle by vehicle, answers whole chunks
/// from footer stats where it can, and otherwise folds decoded rows bucket run by bucket run
/// (rows are time-sorted per batch), mapping each chunk's dictionary ids to groups once so
/// no string is hashed per row. Each run's partial result goes into an integer-keyed
/// `GroupTable` once per (bucket, group), not once per row.
struct AggregateEngine {
    struct GroupKey {
        var bucket: Int64
        var vehicle: Int32
        var type: Int32
    }

    let query: AggregateQuery
    let snapshot: Snapshot
    let useFooterStats: Bool
    let width: Int64
    let byVehicle: Bool
    let byType: Bool
    /// Either grouping by type or filtering on it: the object_type column matters.
    let typeMatters: Bool
    let needValues: Bool
    /// The scan's effective lower bound (the range start or the retention watermark).
    let effectiveFrom: Int64
    /// The last bucket index; its end does not fit in Int64.
    let lastBucket: Int64

    var vehicleNames: [String] = []
    var typeNames: [String] = []
    var typeLookup: [ByteString: Int32] = [:]
    var table = GroupTable()
    var groups: [Accumulator] = []
    var keys: [GroupKey] = []
    /// Stored chunks answered from footer stats (for tests and `explain`).
    var footerChunks = 0
    // Scratch reused across chunks.
    var localGroup: [Int32] = []
    var runAcc: [Accumulator] = []
    var touched: [Int32] = []

    init(query: AggregateQuery, snapshot: Snapshot, useFooterStats: Bool) {
        self.query = query
        self.snapshot = snapshot
        self.useFooterStats = useFooterStats
        width = query.bucketWidth
        byVehicle = query.groupBy.contains(.vehicle)
        byType = query.groupBy.contains(.type)
        typeMatters = byType || query.types != nil
        needValues = query.function != .count
        effectiveFrom = max(query.from, snapshot.manifest.watermarks[Measurement.detections.id] ?? .min)
        lastBucket = CivilDate.floorDiv(.max, query.bucketWidth)
    }

    @inline(__always)
    func bucketStart(_ q: Int64) -> Int64 {
        let (s, o) = q.multipliedReportingOverflow(by: width)
        return o ? .min : s
    }

    mutating func run() throws {
        let spec = ScanSpec(.detections, vehicles: query.vehicles, from: query.from, to: query.to,
                            columns: [typeMatters, needValues])
        let cursor = try ScanCursor(snapshot: snapshot, spec: spec)
        var vehicle: Int32 = -1
        while let item = try cursor.nextItem() {
            if byVehicle {
                let name: String
                switch item {
                case .chunk(let v, _, _): name = v
                case .merged(let b): name = b.vehicle
                }
                if vehicleNames.last.map({ !Identity.equal($0, name) }) ?? true {
                    vehicleNames.append(name)
                    vehicle = Int32(vehicleNames.count - 1)
                }
            }
            if useFooterStats, case .chunk(_, _, let meta) = item, fromFooter(meta, vehicle: vehicle) { continue }
            let batch = try cursor.decode(item)
            if !batch.range.isEmpty { fold(batch, vehicle: vehicle) }
        }
    }

    mutating func intern(_ type: String) -> Int32 {
        let key = ByteString(type)
        if let id = typeLookup[key] { return id }
        let id = Int32(typeNames.count)
        typeNames.append(type)
        typeLookup[key] = id
        return id
    }

    mutating func add(_ acc: Accumulator, bucket: Int64, vehicle: Int32, type: Int32) {
        let (i, isNew) = table.index(bucket: bucket, group: GroupTable.pack(vehicle: vehicle, type: type))
        if isNew {
            groups.append(acc)
            keys.append(GroupKey(bucket: bucket, vehicle: vehicle, type: type))
        } else {
            groups[i].merge(acc)
        }
    }

    /// Folds a whole stored chunk from its footer stats when it lies inside one bucket and
    /// the range and its groups are known; false when it must be decoded.
    mutating func fromFooter(_ meta: ChunkMeta, vehicle: Int32) -> Bool {
        guard meta.minTime >= effectiveFrom, meta.maxTime < query.to else { return false }
        let q = CivilDate.floorDiv(meta.minTime, width)
        guard q == CivilDate.floorDiv(meta.maxTime, width) else { return false }
        var type: Int32 = -1
        if typeMatters {
            let ts = meta.stats[0]
            guard ts.distinct == 1 else { return false }
            if let f = query.types, !f.contains(bytesOf: ts.lastString) {  // no row passes the filter
                footerChunks += 1
                return true
            }
            if byType { type = intern(ts.lastString) }
        }
        let vs = meta.stats[1]
        if vs.sumOverflow && (query.function == .sum || query.function == .avg) { return false }
        var acc = Accumulator()
        acc.count = Int64(meta.rowCount)
        if !vs.sumOverflow { acc.sum = vs.sumInt }
        acc.min = vs.minInt
        acc.max = vs.maxInt
        add(acc, bucket: bucketStart(q), vehicle: vehicle, type: type)
        footerChunks += 1
        return true
    }

    /// Folds decoded rows.
    mutating func fold(_ batch: ScanBatch, vehicle: Int32) {
        let chunk = batch.chunk
        if typeMatters {
            let dict = chunk.columns[0].dictionary
            localGroup.removeAll(keepingCapacity: true)
            var any = false
            for s in dict {
                if let f = query.types, !f.contains(bytesOf: s) {
                    localGroup.append(-1)
                } else {
                    localGroup.append(byType ? intern(s) : 0)
                    any = true
                }
            }
            guard any else { return }
            if runAcc.count < max(typeNames.count, 1) {
                runAcc.append(contentsOf: repeatElement(Accumulator(), count: max(typeNames.count, 1) - runAcc.count))
            }
        }
        chunk.times.withUnsafeBufferPointer { times in
            chunk.columns[1].ints.withUnsafeBufferPointer { values in
                chunk.columns[0].ids.withUnsafeBufferPointer { ids in
                    var i = batch.range.lowerBound
                    let end = batch.range.upperBound
                    while i < end {
                        let q = CivilDate.floorDiv(times[i], width)
                        var j = i + 1
                        if q == lastBucket {
                            j = end
                        } else {
                            let bound = q &* width &+ width
                            while j < end && times[j] < bound { j += 1 }
                        }
                        let start = bucketStart(q)
                        if typeMatters {
                            foldTyped(i..<j, ids: ids, values: values, bucket: start, vehicle: vehicle)
                        } else {
                            var acc = Accumulator()
                            if needValues {
                                for r in i..<j { acc.add(values[r]) }
                            } else {
                                acc.count = Int64(j - i)
                            }
                            add(acc, bucket: start, vehicle: vehicle, type: -1)
                        }
                        i = j
                    }
                }
            }
        }
    }

    /// Rows of one bucket, split by object type through the chunk's id → group table.
    mutating func foldTyped(_ rows: Range<Int>, ids: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Int64>,
                            bucket: Int64, vehicle: Int32) {
        localGroup.withUnsafeBufferPointer { groupOf in
            runAcc.withUnsafeMutableBufferPointer { acc in
                for r in rows {
                    let g = groupOf[Int(ids[r])]
                    if g < 0 { continue }
                    let slot = Int(g)
                    if acc[slot].count == 0 { touched.append(g) }
                    if needValues { acc[slot].add(values[r]) } else { acc[slot].count += 1 }
                }
            }
        }
        for g in touched {
            add(runAcc[Int(g)], bucket: bucket, vehicle: vehicle, type: byType ? g : -1)
            runAcc[Int(g)] = Accumulator()
        }
        touched.removeAll(keepingCapacity: true)
    }

    /// The groups in (bucket, vehicle, type) order with the function applied.
    func rows() throws -> [AggregateRow] {
        var typeRank = [Int32](repeating: 0, count: typeNames.count)
        for (rank, id) in typeNames.indices.sorted(by: { Identity.less(typeNames[$0], typeNames[$1]) }).enumerated() {
            typeRank[id] = Int32(rank)
        }
        let order = keys.indices.sorted { a, b in
            let x = keys[a], y = keys[b]
            if x.bucket != y.bucket { return x.bucket < y.bucket }
            if x.vehicle != y.vehicle { return x.vehicle < y.vehicle }  // vehicles were seen in sorted order
            return (x.type < 0 ? -1 : typeRank[Int(x.type)]) < (y.type < 0 ? -1 : typeRank[Int(y.type)])
        }
        var out: [AggregateRow] = []
        out.reserveCapacity(order.count)
        for k in order {
            let key = keys[k]
            let g = groups[k]
            let value: AggregateValue
            switch query.function {
            case .count: value = .int(g.count)
            case .min: value = .int(g.min)
            case .max: value = .int(g.max)
            case .avg: value = .double(g.average)
            case .sum:
                guard let s = g.exactSum else {
                    throw QueryError(.sumOverflow, "the sum of a group in bucket \(key.bucket) µs does not fit in a 64-bit integer; use avg or narrower groups")
                }
                value = .int(s)
            }
            out.append(AggregateRow(
                bucket: key.bucket,
                vehicle: key.vehicle < 0 ? nil : vehicleNames[Int(key.vehicle)],
                objectType: key.type < 0 ? nil : typeNames[Int(key.type)],
                value: value))
        }
        return out
    }
}
