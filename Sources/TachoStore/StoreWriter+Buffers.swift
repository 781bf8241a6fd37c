import TachoFormat

extension StoreWriter {
    struct PartitionKey: Hashable {
        var measurementID: UInt8
        var start: Int64
    }

    struct PartitionBuffer {
        let measurement: Measurement
        var vehicles: [UInt32] = []
        var times: [Int64] = []
        var columns: [ColumnValues]
        /// Where each source's rows start, in append order: a new entry only when the source
        /// changes (one per batch at most), so superseded rows can be told apart by input.
        var sources: [(start: Int, source: Int32)] = []

        /// An empty buffer with room for `rows` rows, so appends up to the spill threshold
        /// never reallocate: growing by doubling would hold old and new copies at once and
        /// leave up to twice the rows' size allocated (pages not yet written cost no memory).
        init(_ m: Measurement, capacity rows: Int) {
            measurement = m
            vehicles.reserveCapacity(rows)
            times.reserveCapacity(rows)
            columns = m.columns.map { ColumnValues(type: $0.type, capacity: rows) }
        }

        var count: Int { times.count }
        var capacity: Int { times.capacity }

        /// Empties the buffer, keeping its storage.
        mutating func clear() {
            vehicles.removeAll(keepingCapacity: true)
            times.removeAll(keepingCapacity: true)
            for c in columns.indices { columns[c].removeAll(keepingCapacity: true) }
            sources.removeAll(keepingCapacity: true)
        }

        /// The source of row `row` (a binary search over the few source starts).
        func source(ofRow row: Int) -> Int32 {
            var lo = 0, hi = sources.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if sources[mid].start <= row { lo = mid } else { hi = mid - 1 }
            }
            return sources[lo].source
        }

        /// What a row costs against `StoreOptions.bufferBytes`.
        static func bytesPerRow(_ m: Measurement) -> Int { 12 + m.columns.reduce(0) { $0 + $1.type.codec.bufferBytesPerRow } }
    }
}

/// A transaction's rows before they are sealed: one buffer per (measurement, partition),
/// string values as ids into `strings`. The writer keeps one; `StoreWriter.seal` fills its own
/// on another thread, so both split and seal rows the same way.
struct RowBuffers {
    var strings: [String] = []
    /// Keyed by bytes: canonically equivalent but byte-distinct strings get distinct ids.
    var stringIDs: [ByteString: UInt32] = [:]
    var buffers: [StoreWriter.PartitionKey: StoreWriter.PartitionBuffer] = [:]
    /// Rows buffered, in `bytesPerRow` units.
    var bytes = 0
    /// A sealed buffer's emptied storage, reused by the next buffer of the same transaction
    /// (a large file spills many times) instead of freeing and mapping megabytes again.
    var spare: StoreWriter.PartitionBuffer?

    mutating func intern(_ s: String) -> UInt32 {
        let key = ByteString(s)
        if let id = stringIDs[key] { return id }
        let id = UInt32(strings.count)
        strings.append(s)
        stringIDs[key] = id
        return id
    }

    /// Adds the rows of `batch` to the buffers of their partitions. Returns whether more than
    /// `budget` bytes are buffered now (time to seal them all).
    mutating func add(_ batch: RowBatch, budget: Int, in manifest: Manifest) -> Bool {
        let m = batch.measurement
        let map = batch.dictionary.map { intern($0) }
        let width = manifest.partitionWidth(of: m)
        // Rows of a batch mostly share a partition: append runs of them column by column.
        var start = 0
        while start < batch.count {
            let pstart = Manifest.partitionStart(of: batch.times[start], width: width)
            let (pend, o) = pstart.addingReportingOverflow(width)
            var end = start + 1
            while end < batch.count && batch.times[end] >= pstart && (o || batch.times[end] < pend) { end += 1 }
            let key = StoreWriter.PartitionKey(measurementID: m.id, start: pstart)
            var buf = buffers.removeValue(forKey: key) ?? newBuffer(m, firstRun: end - start, budget: budget)
            if buf.sources.last?.source != batch.source { buf.sources.append((buf.count, batch.source)) }
            buf.vehicles.append(contentsOf: batch.vehicles[start..<end].lazy.map { map[Int($0)] })
            buf.times.append(contentsOf: batch.times[start..<end])
            for c in batch.columns.indices {
                let src = batch.columns[c]
                buf.columns[c].append(from: src, start..<end, remap: src.type.codec.usesDictionary ? map : nil)
            }
            buffers[key] = buf
            start = end
        }
        bytes += batch.count * StoreWriter.PartitionBuffer.bytesPerRow(m)
        return bytes > budget
    }

    /// An empty buffer with room for the rows it can receive before the next spill: what is
    /// left of the budget, plus one more batch (the one that crosses it). The spare buffer
    /// when it is large enough.
    private mutating func newBuffer(_ m: Measurement, firstRun: Int, budget: Int) -> StoreWriter.PartitionBuffer {
        let rows = max(0, budget - bytes) / StoreWriter.PartitionBuffer.bytesPerRow(m) + firstRun + 1
        if let s = spare {
            spare = nil  // used or freed: never kept beside a new buffer
            if s.measurement == m && s.capacity >= rows { return s }
        }
        return StoreWriter.PartitionBuffer(m, capacity: rows + 65_536)
    }

    /// Removes the first buffer in (measurement, partition) order; sealing them one at a time
    /// lets each buffer's memory go as soon as its segment is written.
    mutating func takeFirst() -> (key: StoreWriter.PartitionKey, buffer: StoreWriter.PartitionBuffer)? {
        guard let key = buffers.keys.min(by: { ($0.measurementID, $0.start) < ($1.measurementID, $1.start) }) else {
            bytes = 0
            return nil
        }
        return (key, buffers.removeValue(forKey: key)!)
    }

    /// Keeps a sealed buffer's storage for the next buffer (the largest one seen).
    mutating func recycle(_ buf: consuming StoreWriter.PartitionBuffer) {
        guard buf.capacity > spare?.capacity ?? 0 else { return }
        buf.clear()
        spare = buf
    }

    /// Drops every row (and the spare storage); the string table too once it grew large.
    mutating func reset() {
        buffers.removeAll()
        spare = nil
        bytes = 0
        if strings.count > 1 << 20 {
            strings.removeAll()
            stringIDs.removeAll()
        }
    }
}
