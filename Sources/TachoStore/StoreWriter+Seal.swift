import TachoFormat

extension StoreWriter {
    /// Sorts a partition buffer by (vehicle, time, identity), keeps the last appended row of
    /// each identity, and streams it into a new segment file (fsynced, not yet published).
    func sealSegment(_ buf: PartitionBuffer, partitionStart: Int64) throws -> SegmentMeta {
        let m = buf.measurement
        let order = sortedUniqueOrder(buf)
        var times = [Int64](); times.reserveCapacity(order.count)
        var vehicles = [UInt32](); vehicles.reserveCapacity(order.count)
        for i in order {
            times.append(buf.times[Int(i)])
            vehicles.append(buf.vehicles[Int(i)])
        }
        var columns: [ColumnValues] = []
        for col in buf.columns {
            var out = ColumnValues(type: col.type, capacity: order.count)
            switch col.type {
            case .int64: for i in order { out.ints.append(col.ints[Int(i)]) }
            case .float64: for i in order { out.doubles.append(col.doubles[Int(i)]) }
            case .string: for i in order { out.ids.append(col.ids[Int(i)]) }
            }
            columns.append(out)
        }
        let number = manifest.nextNumber
        manifest.nextNumber += 1
        let name = StoreLayout.segmentName(measurement: m, partitionStart: partitionStart, number: number)
        let path = layout.segmentPath(name)
        var builder = SegmentBuilder(measurement: m, partitionStart: partitionStart, seq: number, options: options.segment)
        let fd = try fs.createFile(path)
        var size: UInt64 = 0
        func drain() throws {
            let bytes = builder.takePending()
            size += UInt64(bytes.count)
            try bytes.withUnsafeBytes { try fs.write(fd, $0, path: path) }
        }
        do {
            var start = 0
            while start < order.count {
                var end = start + 1
                while end < order.count && vehicles[end] == vehicles[start] { end += 1 }
                try builder.appendVehicle(
                    strings[Int(vehicles[start])], times: times, columns: columns, range: start..<end, dictionary: strings)
                if builder.pending.count >= 1 << 20 { try drain() }
                start = end
            }
            let footer = builder.finish()
            try drain()
            try fs.sync(fd, path: path)
            try fs.close(fd, path: path)
            CrashPoint.hit(CrashPoint.segmentWritten)
            return SegmentMeta(
                name: name, measurementID: m.id, partitionStart: partitionStart, seq: number,
                rowCount: footer.rowCount, minTime: footer.minTime, maxTime: footer.maxTime, fileSize: size)
        } catch {
            try? fs.close(fd, path: path)
            try? fs.unlink(path)
            throw error
        }
    }

    /// Row indexes of `buf` in (vehicle id bytes, time, identity columns) order, with only the
    /// last appended row of each identity kept.
    func sortedUniqueOrder(_ buf: PartitionBuffer) -> [Int32] {
        let n = buf.count
        // Rank the distinct vehicles by id so a counting sort orders them (stable).
        let distinct = Array(Set(buf.vehicles)).sorted { byteLess(strings[Int($0)], strings[Int($1)]) }
        var rank: [UInt32: Int] = [:]
        for (r, v) in distinct.enumerated() { rank[v] = r }
        var counts = [Int](repeating: 0, count: distinct.count + 1)
        let rows = buf.vehicles.map { rank[$0] ?? 0 }
        for r in rows { counts[r + 1] += 1 }
        for r in 0..<distinct.count { counts[r + 1] += counts[r] }
        var order = [Int32](repeating: 0, count: n)
        var next = counts
        for i in 0..<n {
            order[next[rows[i]]] = Int32(i)
            next[rows[i]] += 1
        }
        // Identity keys: string columns compare by value, via ranks of their ids.
        let identity = buf.measurement.identityColumns
        var idRanks: [[UInt32: Int]] = []
        for c in identity where buf.columns[c].type == .string {
            let ids = Array(Set(buf.columns[c].ids)).sorted { byteLess(strings[Int($0)], strings[Int($1)]) }
            var r: [UInt32: Int] = [:]
            for (k, id) in ids.enumerated() { r[id] = k }
            idRanks.append(r)
        }
        // Dense rank arrays per identity column (per row), so comparisons are cheap.
        var keys: [[Int64]] = []
        var sIdx = 0
        for c in identity {
            switch buf.columns[c].type {
            case .int64: keys.append(buf.columns[c].ints)
            case .float64: keys.append(buf.columns[c].doubles.map { Int64(bitPattern: $0.bitPattern) ^ ($0 < 0 ? Int64.max : 0) })
            case .string:
                let r = idRanks[sIdx]
                keys.append(buf.columns[c].ids.map { Int64(r[$0] ?? 0) })
                sIdx += 1
            }
        }
        let times = buf.times
        func less(_ a: Int32, _ b: Int32) -> Bool {
            let ta = times[Int(a)], tb = times[Int(b)]
            if ta != tb { return ta < tb }
            for k in keys where k[Int(a)] != k[Int(b)] { return k[Int(a)] < k[Int(b)] }
            return a < b
        }
        func sameIdentity(_ a: Int32, _ b: Int32) -> Bool {
            times[Int(a)] == times[Int(b)] && keys.allSatisfy { $0[Int(a)] == $0[Int(b)] }
        }
        var out = [Int32]()
        out.reserveCapacity(n)
        for r in 0..<distinct.count {
            let lo = counts[r], hi = counts[r + 1]
            var timeSorted = true
            var run = 1, longestRun = 1
            for i in (lo + 1)..<max(hi, lo + 1) {
                let a = times[Int(order[i - 1])], b = times[Int(order[i])]
                if b < a { timeSorted = false; break }
                run = b == a ? run + 1 : 1
                longestRun = max(longestRun, run)
            }
            if timeSorted && longestRun <= 64 {
                // Usual case: only rows sharing a time (one event's detections) need ordering.
                var i = lo + 1
                while i < hi {
                    let x = order[i]
                    var j = i - 1
                    while j >= lo && less(x, order[j]) {
                        order[j + 1] = order[j]
                        j -= 1
                    }
                    order[j + 1] = x
                    i += 1
                }
            } else {
                order[lo..<hi].sort(by: less)
            }
            // Keep the last appended row of each identity (they are adjacent, index-ascending).
            var i = lo
            while i < hi {
                var j = i
                while j + 1 < hi && sameIdentity(order[j + 1], order[i]) { j += 1 }
                out.append(order[j])
                i = j + 1
            }
        }
        return out
    }
}
