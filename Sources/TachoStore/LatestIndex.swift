import TachoFormat

/// The latest index: per measurement with a latest column (status) and vehicle, the row with
/// the greatest time (ties: the one written last), as that column's value. Persisted as
/// `index/latest-<n>.idx` in every commit that changes it (FORMAT.md §4) and rebuilt from
/// segment footers when missing or damaged.
public struct LatestEntry: Sendable, Hashable {
    public var time: Int64
    public var seq: UInt64
    /// A value of the latest column's type.
    public var value: ColumnValue

    public init(time: Int64, seq: UInt64, value: ColumnValue) {
        self.time = time
        self.seq = seq
        self.value = value
    }

    /// A status entry.
    public init(time: Int64, seq: UInt64, status: String) { self.init(time: time, seq: seq, value: .string(status)) }

    /// The value of a string latest column (status); "" for other types.
    public var status: String {
        if case .string(let s) = value { return s }
        return ""
    }

    /// True when `self` should replace `old`: a later time, or the same identity written later.
    func supersedes(_ old: LatestEntry) -> Bool {
        time > old.time || (time == old.time && seq >= old.seq)
    }
}

public struct LatestIndex: Sendable, Equatable {
    /// By measurement id, then vehicle id bytes (`Identity`): byte-distinct ids are distinct vehicles.
    public var measurements: [UInt8: [ByteString: LatestEntry]] = [:]

    public init() {}

    /// The status entries (measurement 2, the built-in `status`).
    public var entries: [ByteString: LatestEntry] {
        get { measurements[Measurement.status.id] ?? [:] }
        set { measurements[Measurement.status.id] = newValue.isEmpty ? nil : newValue }
    }

    /// The entries of measurement `id`.
    public func entries(of id: UInt8) -> [ByteString: LatestEntry] { measurements[id] ?? [:] }

    /// The status entry of `vehicle` (matched by bytes).
    public func entry(_ vehicle: String) -> LatestEntry? { entry(vehicle, measurement: Measurement.status.id) }

    public func entry(_ vehicle: String, measurement id: UInt8) -> LatestEntry? { measurements[id]?[ByteString(vehicle)] }

    /// Keeps status entry `e` when it supersedes the vehicle's entry; returns whether it did.
    @discardableResult
    public mutating func offer(vehicle: String, _ e: LatestEntry) -> Bool {
        offer(measurement: Measurement.status.id, vehicle: vehicle, e)
    }

    /// Keeps `e` when it supersedes the vehicle's entry of measurement `id`; returns whether it did.
    @discardableResult
    public mutating func offer(measurement id: UInt8, vehicle: String, _ e: LatestEntry) -> Bool {
        let key = ByteString(vehicle)
        if let old = measurements[id]?[key], !e.supersedes(old) { return false }
        measurements[id, default: [:]][key] = e
        return true
    }

    /// Offers every row of `batch` whose latest column (`column`) is not null, with `seq`.
    /// Returns whether any changed the index.
    mutating func offer(_ batch: RowBatch, column: Int, seq: UInt64) -> Bool {
        let id = batch.measurement.id
        let col = batch.columns[column]
        var changed = false
        var table = measurements.removeValue(forKey: id) ?? [:]
        defer { if !table.isEmpty { measurements[id] = table } }
        for i in 0..<batch.count {
            guard let value = ColumnValue.at(i, of: col, dictionary: batch.dictionary) else { continue }
            let key = ByteString(batch.dictionary[Int(batch.vehicles[i])])
            let e = LatestEntry(time: batch.times[i], seq: seq, value: value)
            if let old = table[key], !e.supersedes(old) { continue }
            table[key] = e
            changed = true
        }
        return changed
    }

    /// Version 2 (FORMAT.md §4): measurements by id, each with its latest column's type.
    public func encode() -> [UInt8] {
        let count = measurements.values.reduce(0) { $0 + $1.count }
        return MetadataFile.encode(
            magic: FormatConstants.latestMagic, version: FormatConstants.latestVersion, capacity: 32 + count * 64
        ) { w in
            let ids = measurements.keys.filter { !(measurements[$0]?.isEmpty ?? true) }.sorted()
            w.writeVarint(UInt64(ids.count))
            for id in ids {
                let table = measurements[id] ?? [:]
                let sorted = table.sorted(by: { $0.key < $1.key })  // byte order (FORMAT.md §4)
                w.writeUInt8(id)
                w.writeUInt8(sorted.first?.value.value.type.rawValue ?? ColumnType.string.rawValue)
                w.writeVarint(UInt64(sorted.count))
                for (v, e) in sorted {
                    w.writeString(v.string)
                    w.writeSignedVarint(e.time)
                    w.writeVarint(e.seq)
                    e.value.encode(into: &w)
                }
            }
        }
    }

    /// Reads version 2, or version 1 (status only: its entries are measurement 2's).
    public static func decode(_ bytes: [UInt8]) -> LatestIndex? {
        if let v1 = MetadataFile.decode(bytes, magic: FormatConstants.latestMagic, version: 1, { r, limit in
            decodeEntries(&r, limit: limit, type: .string, stringLimit: 4096)
        }) {
            var idx = LatestIndex()
            if !v1.isEmpty { idx.entries = v1 }
            return idx
        }
        return MetadataFile.decode(bytes, magic: FormatConstants.latestMagic, version: FormatConstants.latestVersion) { r, limit in
            guard let n = r.readLength(limit: 255) else { return nil }
            var idx = LatestIndex()
            for _ in 0..<n {
                guard let id = r.readUInt8(), idx.measurements[id] == nil,
                      let type = r.readUInt8().flatMap(ColumnType.init(rawValue:)),
                      let table = decodeEntries(&r, limit: limit, type: type, stringLimit: StringCodec.maxStringBytes)
                else { return nil }
                idx.measurements[id] = table
            }
            return idx
        }
    }

    private static func decodeEntries(
        _ r: inout ByteReader, limit: Int, type: ColumnType, stringLimit: Int
    ) -> [ByteString: LatestEntry]? {
        guard let n = r.readLength(limit: limit) else { return nil }
        var table: [ByteString: LatestEntry] = [:]
        table.reserveCapacity(n)
        for _ in 0..<n {
            guard let v = r.readString(limit: 4096), let t = r.readSignedVarint(), let s = r.readVarint(),
                  let value = ColumnValue.decode(type, from: &r, stringLimit: stringLimit)
            else { return nil }
            table[ByteString(v)] = LatestEntry(time: t, seq: s, value: value)
        }
        return table
    }
}
