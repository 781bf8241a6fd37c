import TachoFormat
import TachoTime

extension AggregateEngine {
    /// The value of a group's accumulator under the query's function.
    func value(_ g: Accumulator, bucket: Int64) throws -> AggregateValue {
        let int = plan.mode == .int
        switch query.function {
        case .count: return .int(g.count)
        case .min: return g.count == 0 ? .null : int ? .int(g.min) : .double(g.dmin)
        case .max: return g.count == 0 ? .null : int ? .int(g.max) : .double(g.dmax)
        case .avg: return g.count == 0 ? .null : .double(int ? g.average : g.dsum / Double(g.count))
        case .energy: return .double(g.energy(hours: Double(width) / 3_600_000_000))
        case .sum:
            guard int else { return .double(g.dsum) }
            guard let s = g.exactSum else {
                throw QueryError(.sumOverflow, "the sum of a group in bucket \(bucket) µs does not fit in a 64-bit integer; use avg or narrower groups")
            }
            return .int(s)
        }
    }

    /// The value `fill 0` gives a window without rows.
    var zero: AggregateValue {
        switch query.function {
        case .count: .int(0)
        case .sum, .min, .max: plan.mode == .int ? .int(0) : .double(0)
        case .avg, .energy: .double(0)
        }
    }

    /// The label of the window starting at `start`.
    func label(_ start: Int64) -> Int64 {
        guard query.label == .right else { return start }
        let (e, o) = start.addingReportingOverflow(width)
        return o ? .max : e
    }

    /// The groups in (bucket, vehicle, grouping strings) order with the function applied,
    /// the windows without rows filled as asked.
    func rows() throws -> [AggregateRow] {
        // Keys ranked by their strings' bytes; vehicles were seen in sorted order.
        var keyRank = [Int32](repeating: 0, count: keyNames.count)
        let sortedKeys = keyNames.indices.sorted { a, b in
            keyNames[a].map { ByteString($0) }.lexicographicallyPrecedes(keyNames[b].map { ByteString($0) })
        }
        for (rank, id) in sortedKeys.enumerated() { keyRank[id] = Int32(rank) }
        func rank(_ k: Int32) -> Int32 { k < 0 ? -1 : keyRank[Int(k)] }
        // Vehicles ranked by bytes (a query of several passes sees them out of order).
        var vehicleRank = [Int32](repeating: 0, count: vehicleNames.count)
        let sortedVehicles = vehicleNames.indices.sorted { a, b in
            Array(vehicleNames[a].utf8).lexicographicallyPrecedes(Array(vehicleNames[b].utf8))
        }
        for (r, id) in sortedVehicles.enumerated() { vehicleRank[id] = Int32(r) }
        func vrank(_ v: Int32) -> Int32 { v < 0 ? -1 : vehicleRank[Int(v)] }
        func row(_ bucket: Int64, _ vehicle: Int32, _ key: Int32, _ value: AggregateValue) -> AggregateRow {
            AggregateRow(bucket: label(bucket), vehicle: vehicle < 0 ? nil : vehicleNames[Int(vehicle)],
                         groups: key < 0 ? [] : keyNames[Int(key)], value: value)
        }
        if query.fill == .none {
            let order = keys.indices.sorted { a, b in
                let x = keys[a], y = keys[b]
                if x.bucket != y.bucket { return x.bucket < y.bucket }
                if x.vehicle != y.vehicle { return vrank(x.vehicle) < vrank(y.vehicle) }
                return rank(x.key) < rank(y.key)
            }
            var out: [AggregateRow] = []
            out.reserveCapacity(order.count)
            for k in order {
                let key = keys[k]
                out.append(row(key.bucket, key.vehicle, key.key, try value(groups[k], bucket: key.bucket)))
            }
            return out
        }
        return try filledRows(row: row, rank: rank, vrank: vrank)
    }

    /// Every window of the range (or of the data's span) for every group seen.
    private func filledRows(row: (Int64, Int32, Int32, AggregateValue) -> AggregateRow,
                            rank: (Int32) -> Int32, vrank: (Int32) -> Int32) throws -> [AggregateRow] {
        // Distinct (vehicle, key) groups in output order; without grouping, the one group.
        struct Group: Hashable { var vehicle: Int32; var key: Int32 }
        var seen = Set<Group>()
        for k in keys { seen.insert(Group(vehicle: k.vehicle, key: k.key)) }
        if !plan.byVehicle && plan.groupColumns.isEmpty { seen.insert(Group(vehicle: -1, key: -1)) }
        let order = seen.sorted { (vrank($0.vehicle), rank($0.key)) < (vrank($1.vehicle), rank($1.key)) }
        let minData = keys.map(\.bucket).min()
        let maxData = keys.map(\.bucket).max()
        let lo: Int64, hi: Int64
        if query.from == .min {
            guard let m = minData else { return [] }
            lo = CivilDate.floorDiv(m, width)
        } else {
            lo = CivilDate.floorDiv(query.from, width)
        }
        if query.to == .max {
            guard let m = maxData else { return [] }
            hi = CivilDate.floorDiv(m, width)
        } else {
            hi = CivilDate.floorDiv(query.to - 1, width)
        }
        guard lo <= hi, !order.isEmpty else { return [] }
        let (span, o1) = hi.subtractingReportingOverflow(lo)
        let (total, o2) = (span &+ 1).multipliedReportingOverflow(by: Int64(order.count))
        guard !o1, !o2, span < .max, total <= AggregateQuery.maxFilledRows else {
            throw QueryError(.invalidArgument, "--fill would print more than \(AggregateQuery.maxFilledRows) rows; "
                             + "narrow the range (--from/--to) or widen --every")
        }
        var previous = [AggregateValue](repeating: .null, count: order.count)
        var out: [AggregateRow] = []
        out.reserveCapacity(Int(total))
        var q = lo
        while true {
            let start = bucketStart(q)
            for (n, g) in order.enumerated() {
                var v: AggregateValue
                if let i = table.find(bucket: start, group: GroupTable.pack(vehicle: g.vehicle, key: g.key)) {
                    v = try value(groups[i], bucket: start)
                    previous[n] = v
                } else {
                    v = query.fill == .zero ? zero : previous[n]
                }
                out.append(row(start, g.vehicle, g.key, v))
            }
            if q == hi { break }
            q += 1
        }
        return out
    }
}
