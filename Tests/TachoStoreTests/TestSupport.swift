import Foundation
import TachoFormat
@testable import TachoStore


/// A fresh temporary directory, removed when the value is released.

/// A detection row as the reference model holds it. Strings compare and sort by bytes, as the
/// store does (`Identity`).
struct DetRow: Hashable, Comparable {
    var vehicle: String
    var time: Int64
    var type: String
    var value: Int64
    static func < (a: DetRow, b: DetRow) -> Bool {
        (ByteString(a.vehicle), a.time, ByteString(a.type)) < (ByteString(b.vehicle), b.time, ByteString(b.type))
    }
    static func == (a: DetRow, b: DetRow) -> Bool {
        Identity.equal(a.vehicle, b.vehicle) && a.time == b.time && Identity.equal(a.type, b.type) && a.value == b.value
    }
    func hash(into h: inout Hasher) { h.combine(ByteString(vehicle)); h.combine(time); h.combine(ByteString(type)); h.combine(value) }
}

/// A detection identity (`Identity`: byte strings).
struct DetKey: Hashable {
    var vehicle: ByteString
    var time: Int64
    var type: ByteString
    init(vehicle: String, time: Int64, type: String) { (self.vehicle, self.time, self.type) = (ByteString(vehicle), time, ByteString(type)) }
}

/// Reads every detection row of a snapshot in scan order.
func scanDetections(_ snap: Snapshot, vehicles: Set<ByteString>? = nil, from: Int64 = .min, to: Int64 = .max) throws -> [DetRow] {
    let cursor = try ScanCursor(snapshot: snap, spec: ScanSpec(.detections, vehicles: vehicles, from: from, to: to))
    var out: [DetRow] = []
    while let b = try cursor.next() {
        for i in b.range {
            out.append(DetRow(vehicle: b.vehicle, time: b.chunk.times[i], type: b.chunk.columns[0].string(at: i),
                              value: b.chunk.columns[1].ints[i]))
        }
    }
    return out
}

func smallOptions(bufferBytes: Int = 1 << 20, partitionHours: Int64 = 24) -> StoreOptions {
    var o = StoreOptions()
    o.bufferBytes = bufferBytes
    o.partitionWidth = partitionHours * 3_600_000_000
    o.segment.chunkRows = 512
    o.logger.logLevel = .error
    return o
}
