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
        /// Index into `keyNames` (the grouping strings), -1 without string grouping.
        var key: Int32
    }

    let query: AggregateQuery
    let plan: AggregatePlan
    let snapshot: Snapshot
    let useFooterStats: Bool
    let width: Int64
    /// The raw measurement's retention watermark.
    let watermark: Int64
    /// The current raw pass's effective bounds (its start or the retention watermark; its end).
    var passFrom: Int64 = .min
    var passTo: Int64 = .max
    /// The last bucket index; its end does not fit in Int64.
    let lastBucket: Int64

    /// Vehicles by first sight; a pass sees them in sorted order, but a query of several
    /// passes (raw rows and a rollup) sees each again, hence the lookup.
    var vehicleNames: [String] = []
    var vehicleLookup: [ByteString: Int32] = [:]
    /// The grouping strings of each key, and their lookup.
    var keyNames: [[String]] = []
    var keyLookup: [[ByteString]: Int32] = [:]
    var table = GroupTable()
    var groups: [Accumulator] = []
    var keys: [GroupKey] = []
    /// Stored chunks answered from footer stats (for tests and `explain`).
    var footerChunks = 0
    // Scratch reused across chunks.
    var keep: [Bool] = []
    /// Per chunk: mixed-radix index of the grouping columns' dictionary ids → key, -2 unknown.
    var localKey: [Int32] = []
    var strides: [Int] = []
    /// Per chunk-dictionary entry of `units`: 0 kW, 1 kWh, -1 other.
    var unitKind: [Int8] = []
    var runAcc: [Accumulator] = []
    var touched: [Int32] = []

    init(query: AggregateQuery, plan: AggregatePlan, snapshot: Snapshot, useFooterStats: Bool) throws {
        self.query = query
        self.plan = plan
        self.snapshot = snapshot
        self.useFooterStats = useFooterStats
        width = query.bucketWidth
        watermark = snapshot.manifest.watermarks[query.measurement.id] ?? .min
        lastBucket = CivilDate.floorDiv(.max, query.bucketWidth)
    }

    @inline(__always)
    func bucketStart(_ q: Int64) -> Int64 {
        let (s, o) = q.multipliedReportingOverflow(by: width)
        return o ? .min : s
    }

    /// The id of vehicle `name`.
    mutating func internVehicle(_ name: String) -> Int32 {
        let k = ByteString(name)
        if let id = vehicleLookup[k] { return id }
        let id = Int32(vehicleNames.count)
        vehicleNames.append(name)
        vehicleLookup[k] = id
        return id
    }

    /// Folds the raw rows of `[from, to)` (a part of the query's range).
    mutating func run(from: Int64, to: Int64) throws {
        passFrom = max(from, watermark)
        passTo = to
        let spec = ScanSpec(query.measurement, vehicles: query.vehicles, from: from, to: to,
                            columns: plan.columns(query.measurement))
        let cursor = try ScanCursor(snapshot: snapshot, spec: spec)
        var vehicle: Int32 = -1
        var last: String?
        while let item = try cursor.nextItem() {
            if plan.byVehicle {
                let name: String
                switch item {
                case .chunk(let v, _, _): name = v
                case .merged(let b): name = b.vehicle
                }
                if last.map({ !Identity.equal($0, name) }) ?? true {
                    vehicle = internVehicle(name)
                    last = name
                }
            }
            var all = plan.predicate.isEmpty
            if useFooterStats, case .chunk(_, _, let meta) = item {
                if !all {
                    switch plan.predicate.verdict(meta) {
                    case .none:
                        footerChunks += 1
                        continue
                    case .all: all = true
                    case .unknown: break
                    }
                }
                if all && fromFooter(meta, vehicle: vehicle) { continue }
            }
            let batch = try cursor.decode(item)
            if batch.range.isEmpty { continue }
            if all {
                fold(batch, batch.range, vehicle: vehicle)
            } else {
                switch plan.predicate.select(batch.chunk, batch.range, keep: &keep) {
                case .range(let r): fold(batch, r, vehicle: vehicle)
                case .indexes(let a): if !a.isEmpty { fold(batch, a, vehicle: vehicle) }
                }
            }
        }
    }

    mutating func intern(_ strings: [String]) -> Int32 {
        let k = strings.map { ByteString($0) }
        if let id = keyLookup[k] { return id }
        let id = Int32(keyNames.count)
        keyNames.append(strings)
        keyLookup[k] = id
        return id
    }

    mutating func add(_ acc: Accumulator, bucket: Int64, vehicle: Int32, key: Int32) {
        let (i, isNew) = table.index(bucket: bucket, group: GroupTable.pack(vehicle: vehicle, key: key))
        if isNew {
            groups.append(acc)
            keys.append(GroupKey(bucket: bucket, vehicle: vehicle, key: key))
        } else {
            groups[i].merge(acc, plan.mode)
        }
    }

    /// Folds a whole stored chunk every row of which passes the filters from its footer
    /// stats, when it lies inside one bucket and each grouping column holds one value;
    /// false when it must be decoded.
    mutating func fromFooter(_ meta: ChunkMeta, vehicle: Int32) -> Bool {
        guard meta.minTime >= passFrom, meta.maxTime < passTo else { return false }
        let q = CivilDate.floorDiv(meta.minTime, width)
        guard q == CivilDate.floorDiv(meta.maxTime, width) else { return false }
        var strings: [String] = []
        for c in plan.groupColumns {
            guard let s = ChunkCells.singleString(meta, column: c) else { return false }
            strings.append(s)
        }
        var acc = Accumulator()
        switch plan.mode {
        case .count:
            acc.count = Int64(plan.field.map { ChunkCells.valueCount(meta, column: $0) } ?? meta.rowCount)
        case .int:
            guard let f = plan.field else { return false }
            let sum = ChunkCells.intSum(meta, column: f)
            if sum == nil && (query.function == .sum || query.function == .avg) { return false }
            acc.count = Int64(ChunkCells.valueCount(meta, column: f))
            if acc.count > 0 {
                acc.sum = sum ?? 0
                (acc.min, acc.max) = ChunkCells.intRange(meta, column: f)
            }
        case .double:
            guard let f = plan.field else { return false }
            acc.count = Int64(ChunkCells.valueCount(meta, column: f))
            if acc.count > 0 {
                acc.dsum = ChunkCells.doubleSum(meta, column: f)
                (acc.dmin, acc.dmax) = ChunkCells.doubleRange(meta, column: f)
            }
        case .energy:
            guard let f = plan.field, let u = plan.units, plan.fieldKind == .double,
                  let unit = ChunkCells.singleString(meta, column: u) else { return false }
            let n = Int64(ChunkCells.valueCount(meta, column: f))
            acc.count = n
            switch Self.unitKind(unit) {
            case 0: acc.kwCount = n; acc.kwSum = ChunkCells.doubleSum(meta, column: f)
            case 1: acc.kwhSum = ChunkCells.doubleSum(meta, column: f)
            default: break
            }
        }
        footerChunks += 1
        // A chunk whose field is null throughout adds no group, as decoding it would not.
        guard acc.count > 0 else { return true }
        let key = plan.groupColumns.isEmpty ? -1 : intern(strings)
        add(acc, bucket: bucketStart(q), vehicle: vehicle, key: key)
        return true
    }

    static func unitKind(_ s: String) -> Int8 {
        Identity.equal(s, "kW") ? 0 : Identity.equal(s, "kWh") ? 1 : -1
    }

    /// Prepares the chunk's dictionary-id → key table; false when it is too large to use.
    mutating func prepareKeys(_ chunk: DecodedChunk) -> Bool {
        strides.removeAll(keepingCapacity: true)
        var n = 1
        for c in plan.groupColumns {
            strides.append(n)
            let (p, o) = n.multipliedReportingOverflow(by: Swift.max(1, ChunkCells.dictionary(chunk, column: c).count))
            if o || p > 1 << 20 { return false }
            n = p
        }
        localKey.removeAll(keepingCapacity: true)
        localKey.append(contentsOf: repeatElement(-2, count: n))
        return true
    }

    /// The key of chunk row `r` (slow path: strings hashed).
    mutating func keyOfRow(_ chunk: DecodedChunk, _ r: Int) -> Int32 {
        intern(plan.groupColumns.map { ChunkCells.string(chunk, column: $0, row: r) })
    }

    /// The value columns of one decoded chunk, borrowed for one fold.
    struct RowValues {
        let mode: AggregatePlan.Mode
        let chunk: DecodedChunk
        let field: Int
        let nulls: Bool
        let intField: Bool
        let ints: UnsafeBufferPointer<Int64>
        let doubles: UnsafeBufferPointer<Double>
        let unitIDs: UnsafeBufferPointer<UInt32>
        let unitKinds: UnsafeBufferPointer<Int8>

        /// Row `r` into `acc`.
        @inline(__always)
        func accumulate(_ acc: inout Accumulator, _ r: Int) {
            if nulls && ChunkCells.isNull(chunk, column: field, row: r) { return }
            switch mode {
            case .count: acc.count += 1
            case .int: acc.add(ints[r])
            case .double: acc.add(doubles[r])
            case .energy:
                let k = unitKinds[Int(unitIDs[r])]
                if k < 0 { acc.count += 1; return }
                acc.addEnergy(intField ? Double(ints[r]) : doubles[r], kWh: k == 1)
            }
        }
    }

    /// Folds decoded rows `rows` (ascending chunk row indexes).
    mutating func fold<C: RandomAccessCollection>(_ batch: ScanBatch, _ rows: C, vehicle: Int32) where C.Element == Int, C.Index == Int {
        let chunk = batch.chunk
        let grouped = !plan.groupColumns.isEmpty
        let single = plan.groupColumns.count == 1
        let fast = grouped && !single && prepareKeys(chunk)
        if single {
            // One grouping column: every dictionary entry interned up front, so a row's
            // group is one array lookup.
            localKey.removeAll(keepingCapacity: true)
            for s in ChunkCells.dictionary(chunk, column: plan.groupColumns[0]) { localKey.append(intern([s])) }
        }
        if runAcc.count < keyNames.count {
            runAcc.append(contentsOf: repeatElement(Accumulator(), count: keyNames.count - runAcc.count))
        }
        if plan.mode == .energy, let u = plan.units {
            unitKind = ChunkCells.dictionary(chunk, column: u).map(Self.unitKind)
        }
        let f = plan.field ?? 0
        let nulls = plan.field.map { ChunkCells.hasNulls(chunk, column: $0) } ?? false
        let unitKinds = unitKind
        chunk.times.withUnsafeBufferPointer { times in
            ChunkCells.withInts(chunk, column: f) { ints in
            ChunkCells.withDoubles(chunk, column: f) { doubles in
            ChunkCells.withIDs(chunk, column: plan.units ?? 0) { unitIDs in
            ChunkCells.withIDs(chunk, column: plan.groupColumns.first ?? 0) { firstIDs in
            unitKinds.withUnsafeBufferPointer { kinds in
                let values = RowValues(mode: plan.mode, chunk: chunk, field: f, nulls: nulls, intField: plan.fieldKind == .int,
                                       ints: ints, doubles: doubles, unitIDs: unitIDs, unitKinds: kinds)
                var i = rows.startIndex
                let end = rows.endIndex
                while i < end {
                    let q = CivilDate.floorDiv(times[rows[i]], width)
                    var j = i + 1
                    if q == lastBucket {
                        j = end
                    } else {
                        let bound = q &* width &+ width
                        while j < end && times[rows[j]] < bound { j += 1 }
                    }
                    let start = bucketStart(q)
                    if !grouped {
                        var acc = Accumulator()
                        if plan.mode == .count && !nulls {
                            acc.count = Int64(j - i)
                        } else {
                            for k in i..<j { values.accumulate(&acc, rows[k]) }
                        }
                        // A run whose field is null throughout adds no group, as in the
                        // grouped path and from footer stats.
                        if acc.count > 0 { add(acc, bucket: start, vehicle: vehicle, key: -1) }
                    } else {
                        if single {
                            foldSingle(rows[i..<j], firstIDs, values)
                        } else {
                            for k in i..<j {
                                let r = rows[k]
                                let g = fast ? fastKey(chunk, r, Int(firstIDs[r])) : keyOfRow(chunk, r)
                                let slot = Int(g)
                                if runAcc.count <= slot {
                                    runAcc.append(contentsOf: repeatElement(Accumulator(), count: slot + 1 - runAcc.count))
                                }
                                let was = runAcc[slot].count
                                values.accumulate(&runAcc[slot], r)
                                if was == 0 && runAcc[slot].count != 0 { touched.append(g) }
                            }
                        }
                        for g in touched {
                            add(runAcc[Int(g)], bucket: start, vehicle: vehicle, key: g)
                            runAcc[Int(g)] = Accumulator()
                        }
                        touched.removeAll(keepingCapacity: true)
                    }
                    i = j
                }
            }
            }
            }
            }
            }
        }
    }

    /// The rows of one bucket run, one grouping column: groups through the chunk's id table.
    mutating func foldSingle<S: Sequence>(_ rows: S, _ ids: UnsafeBufferPointer<UInt32>, _ values: RowValues) where S.Element == Int {
        localKey.withUnsafeBufferPointer { keyOf in
            runAcc.withUnsafeMutableBufferPointer { acc in
                for r in rows {
                    let g = Int(keyOf[Int(ids[r])])
                    let was = acc[g].count
                    values.accumulate(&acc[g], r)
                    if was == 0 && acc[g].count != 0 { touched.append(Int32(g)) }
                }
            }
        }
    }

    /// The key of chunk row `r` through the chunk's id table (interning on first sight);
    /// `first` is the row's id in the first grouping column.
    @inline(__always)
    mutating func fastKey(_ chunk: DecodedChunk, _ r: Int, _ first: Int) -> Int32 {
        var idx = first
        for n in plan.groupColumns.indices.dropFirst() {
            idx += ChunkCells.withIDs(chunk, column: plan.groupColumns[n]) { Int($0[r]) } * strides[n]
        }
        let k = localKey[idx]
        if k >= 0 { return k }
        let g = keyOfRow(chunk, r)
        localKey[idx] = g
        return g
    }
}
