import Foundation
import TachoFormat
@testable import TachoStore


/// A fresh temporary directory, removed when the value is released.

/// A detection row as the reference model holds it.
struct DetRow: Hashable, Comparable {
    var vehicle: String
    var time: Int64
    var type: String
    var value: Int64
    static func < (a: DetRow, b: DetRow) -> Bool {
        (a.vehicle, a.time, a.type) < (b.vehicle, b.time, b.type)
    }
}

struct DetKey: Hashable { var vehicle: String; var time: Int64; var type: String }

/// Reads every detection row of a snapshot in scan order.
func scanDetections(_ snap: Snapshot, vehicles: Set<String>? = nil, from: Int64 = .min, to: Int64 = .max) throws -> [DetRow] {
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
