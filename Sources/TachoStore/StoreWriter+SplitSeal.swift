import Dispatch
import Synchronization
import TachoFormat

extension StoreWriter {
    /// Fewest rows of a partition buffer that `sealBody` encodes on two threads: below it the
    /// hand-over costs more than it saves.
    static let splitSealRows = 32_768

    /// Sorts, deduplicates and encodes a partition buffer into a segment body, exactly the
    /// bytes `encode` into one builder makes. A large buffer's vehicles are cut in two halves
    /// of about equal rows and the second half is encoded on another thread, then appended
    /// (`SegmentBuilder.append(part:)`). Sealing runs on the parse threads (`ParseAhead`),
    /// and when the input's last group is sealed there is nothing left to parse: without the
    /// split, one core would wait for the other.
    static func sealBody(
        _ buf: PartitionBuffer, partitionStart: Int64, strings: [String], options: SegmentBuilder.Options, split: Bool,
        superseded: inout SupersededRows
    ) throws -> SegmentBody {
        var v = vehicleOrder(buf, strings: strings)
        let identity = IdentityOrder(buf, strings: strings)
        var builder = SegmentBuilder(measurement: buf.measurement, partitionStart: partitionStart, seq: 0, options: options)
        let cut = split && buf.count >= splitSealRows ? splitPoint(v) : nil
        var order = v.order
        v.order = []  // the closure below reads `v`'s starts while `order` is lent out
        guard let cut else {
            try order.withUnsafeMutableBufferPointer { order in
                try encodePart(buf, order, v, vehicles: 0..<v.distinct.count, identity, strings, into: &builder, &superseded)
            }
            return builder.finishBody()
        }
        let second = PartResult()
        let done = DispatchSemaphore(value: 0)
        let first: Result<Void, any Error> = order.withUnsafeMutableBufferPointer { order in
            let rows = LentRows(order)
            let v = v
            DispatchQueue.global(qos: .userInitiated).async {
                let result = Result { () throws -> (SegmentBody, SupersededRows) in
                    var part = SegmentBuilder(
                        measurement: buf.measurement, partitionStart: partitionStart, seq: 0, options: options, header: false)
                    var dropped = SupersededRows()
                    try encodePart(buf, rows.order, v, vehicles: cut..<v.distinct.count, identity, strings, into: &part, &dropped)
                    return (part.finishBody(), dropped)
                }
                second.value.withLock { $0 = result }
                done.signal()
            }
            let first = Result { try encodePart(buf, order, v, vehicles: 0..<cut, identity, strings, into: &builder, &superseded) }
            // The other half uses `order` until it signals, whatever happened here.
            done.wait()
            return first
        }
        try first.get()
        guard let result = second.value.withLock({ $0 }) else { preconditionFailure("split seal: second half signalled without a result") }
        let (part, dropped) = try result.get()
        superseded.add(dropped)
        try builder.append(part: part)
        return builder.finishBody()
    }

    /// The first vehicle of the second half: where half of the rows are behind; nil when
    /// there is a single vehicle.
    static func splitPoint(_ v: VehicleOrder) -> Int? {
        let d = v.distinct.count
        guard d >= 2, let total = v.starts.last else { return nil }
        var r = 1
        while r < d - 1 && v.starts[r] < total / 2 { r += 1 }
        return r
    }

    /// Sorts and deduplicates vehicles `vehicles` of `v` and appends them to `builder`, one
    /// vehicle at a time: its rows are gathered into chunks while the sort has just brought
    /// them into the cache (a vehicle's rows are scattered over the buffer when vehicles
    /// interleave). Each vehicle's kept rows stay at the start of its own range of `order`.
    private static func encodePart(
        _ buf: PartitionBuffer, _ order: UnsafeMutableBufferPointer<Int32>, _ v: VehicleOrder, vehicles: Range<Int>,
        _ identity: IdentityOrder, _ strings: [String], into builder: inout SegmentBuilder, _ superseded: inout SupersededRows
    ) throws {
        for r in vehicles {
            let (runs, _) = uniqueRuns(buf, order, v, vehicles: r..<(r + 1), identity, &superseded)
            for run in runs {
                try builder.appendVehicle(
                    strings[Int(run.vehicle)], rows: UnsafeBufferPointer(rebasing: order[run.rows]),
                    times: buf.times, columns: buf.columns, dictionary: strings)
            }
        }
    }
}

/// The second half's result, handed back through the semaphore's wait.
private final class PartResult: Sendable {
    let value = Mutex<Result<(SegmentBody, SupersededRows), any Error>?>(nil)
}

/// The row order lent to the thread encoding the second half: it touches only that half's
/// vehicles' part of it (`uniqueRuns`), and the lender waits for it before the memory goes.
private struct LentRows: @unchecked Sendable {
    let order: UnsafeMutableBufferPointer<Int32>
    init(_ order: UnsafeMutableBufferPointer<Int32>) { self.order = order }
}
