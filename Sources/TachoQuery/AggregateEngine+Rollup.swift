import TachoFormat
import TachoStore
import TachoTime

extension AggregateEngine {
    /// Folds the rows of `tier` whose windows start in `[from, to)` (whole windows: `from` and
    /// `to` are multiples of its width, or unbounded). A rollup row is one window's accumulator
    /// of one vehicle and group; it goes into the query's bucket holding its window (the bucket
    /// is a multiple of the width, both aligned to the epoch). Tombstones (`count` 0) add nothing.
    mutating func runRollup(_ tier: RollupTier, from: Int64, to: Int64) throws {
        let s = tier.stored
        let m = query.measurement
        func column(_ name: String) throws -> Int {
            guard let i = s.columnIndex(named: name) else {
                throw QueryError(.unknownColumn, "rollup \(tier.name) has no column \(name): " + MeasurementLookup.describeColumns(s))
            }
            return i
        }
        let countColumn = try column("count")
        let groupColumns = try plan.groupColumns.map { try column(m.columns[$0].name) }
        // Filters name raw columns (perhaps by an alias); the rollup's are the same names.
        let filters = try query.filters.map { f in
            ColumnFilter(m.columns[try MeasurementLookup.column(f.column, of: m)].name, f.op, f.values)
        }
        let predicate = try RowPredicate(filters, in: s)
        let fieldName = plan.field.map { m.columns[$0].name } ?? ""
        func kept(_ fn: String) throws -> Int? {
            guard let name = tier.kept[fieldName]?[fn] else { return nil }
            return try column(name)
        }
        var sumColumn: Int?, minColumn: Int?, maxColumn: Int?, unitsColumn: Int?
        switch query.function {
        case .count: break
        case .sum, .avg: sumColumn = try kept("sum")
        case .min: minColumn = try kept("min")
        case .max: maxColumn = try kept("max")
        case .energy:
            sumColumn = try kept("sum")
            unitsColumn = try column(AggregateQuery.unitsColumn)
        }
        var wanted = [Bool](repeating: false, count: s.columns.count)
        for c in [countColumn] + groupColumns + predicate.columns + [sumColumn, minColumn, maxColumn, unitsColumn].compactMap({ $0 }) {
            wanted[c] = true
        }
        let cursor = try ScanCursor(snapshot: snapshot, spec: ScanSpec(s, vehicles: query.vehicles, from: from, to: to, columns: wanted))
        var vehicle: Int32 = -1
        var last: String?
        var keep: [Bool] = []
        var chunkKeys: [Int32] = []
        var chunkUnits: [Int8] = []
        while let b = try cursor.next() {
            if plan.byVehicle, last.map({ !Identity.equal($0, b.vehicle) }) ?? true {
                vehicle = internVehicle(b.vehicle)
                last = b.vehicle
            }
            let chunk = b.chunk
            // One grouping column: its dictionary interned once per batch.
            let single = groupColumns.count == 1
            if single {
                chunkKeys = ChunkCells.dictionary(chunk, column: groupColumns[0]).map { intern([$0]) }
            }
            if let u = unitsColumn { chunkUnits = ChunkCells.dictionary(chunk, column: u).map(Self.unitKind) }
            let rows: RowSelection = predicate.isEmpty ? .range(b.range) : predicate.select(chunk, b.range, keep: &keep)
            func fold(_ r: Int) {
                let n = ChunkCells.int(chunk, column: countColumn, row: r)
                guard n > 0 else { return }
                func has(_ c: Int?) -> Int? { c.flatMap { ChunkCells.isNull(chunk, column: $0, row: r) ? nil : $0 } }
                // A null sum, min or max: the window's rows of this group hold no value of the
                // field, and the raw rows would add no group for them either.
                for c in [sumColumn, minColumn, maxColumn] where c != nil && has(c) == nil { return }
                var acc = Accumulator()
                acc.count = n
                switch plan.mode {
                case .count: break
                case .int:
                    if let c = has(sumColumn) { acc.sum = ChunkCells.int(chunk, column: c, row: r) }
                    if let c = has(minColumn) { acc.min = ChunkCells.int(chunk, column: c, row: r) }
                    if let c = has(maxColumn) { acc.max = ChunkCells.int(chunk, column: c, row: r) }
                case .double:
                    if let c = has(sumColumn) { acc.dsum = ChunkCells.double(chunk, column: c, row: r) }
                    if let c = has(minColumn) { acc.dmin = ChunkCells.double(chunk, column: c, row: r) }
                    if let c = has(maxColumn) { acc.dmax = ChunkCells.double(chunk, column: c, row: r) }
                case .energy:
                    guard let c = has(sumColumn), let u = unitsColumn, !ChunkCells.isNull(chunk, column: u, row: r) else { break }
                    let sum = plan.fieldKind == .int ? Double(ChunkCells.int(chunk, column: c, row: r)) : ChunkCells.double(chunk, column: c, row: r)
                    let kind = ChunkCells.withIDs(chunk, column: u) { chunkUnits[Int($0[r])] }
                    if kind == 0 { acc.kwCount = n; acc.kwSum = sum } else if kind == 1 { acc.kwhSum = sum }
                }
                let key: Int32
                if groupColumns.isEmpty {
                    key = -1
                } else if single {
                    key = ChunkCells.withIDs(chunk, column: groupColumns[0]) { chunkKeys[Int($0[r])] }
                } else {
                    key = intern(groupColumns.map { ChunkCells.string(chunk, column: $0, row: r) })
                }
                add(acc, bucket: bucketStart(CivilDate.floorDiv(chunk.times[r], width)), vehicle: vehicle, key: key)
            }
            switch rows {
            case .range(let range): for r in range { fold(r) }
            case .indexes(let a): for r in a { fold(r) }
            }
        }
    }
}
