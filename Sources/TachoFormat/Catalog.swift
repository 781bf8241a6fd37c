/// The measurements a store knows (FORMAT.md §7): each with its one-byte id and its columns
/// with stable column ids. A store without a catalog file holds the built-ins
/// (`Catalog.builtIn`: detections 1, status 2). Declared measurements are reconciled with
/// it by `resolving(_:)`: what can be added without rewriting anything is added, anything
/// else is refused with a `CatalogError` naming the measurement and column.
public struct Catalog: Sendable, Hashable {
    /// By id, ascending.
    public private(set) var measurements: [Measurement]

    /// Most columns of one measurement (FORMAT.md §6).
    public static let maxColumns = FormatConstants.maxColumns
    /// Measurement ids are the segment header's one byte, 0 unused.
    public static let maxMeasurementID: UInt8 = 255

    public init(_ measurements: [Measurement]) {
        self.measurements = measurements.sorted { $0.id < $1.id }
    }

    /// detections (1) and status (2): what a store without a catalog file holds.
    public static let builtIn = Catalog(Measurement.builtIns)

    public func measurement(id: UInt8) -> Measurement? { measurements.first { $0.id == id } }
    public func measurement(named name: String) -> Measurement? { measurements.first { $0.name == name } }
    /// The measurement's name, or its id in decimal when the catalog lacks it.
    public func name(of id: UInt8) -> String { measurement(id: id)?.name ?? "\(id)" }

    /// Whether a segment whose footer describes `schema` belongs to this catalog: its
    /// measurement is here and each of its columns is the catalog's column of the same id
    /// (name, type, identity; nullable only where the catalog's is). Older segments may lack
    /// columns added since (FORMAT.md §7).
    public func admits(_ schema: Measurement) -> Bool {
        guard let m = measurement(id: schema.id), m.name == schema.name else { return false }
        return schema.columns.allSatisfy { c in
            guard let k = m.columnIndex(id: c.id) else { return false }
            let o = m.columns[k]
            return o.name == c.name && o.type == c.type && o.isIdentity == c.isIdentity && (o.isNullable || !c.isNullable)
        }
    }

    /// Whether `name` is a valid measurement or column name: `[A-Za-z_][A-Za-z0-9_]{0,63}`.
    public static func isValidName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard (1...64).contains(b.count) else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        return letter(b[0]) && b.dropFirst().allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
    }

    /// This catalog with `declared` reconciled into it: a new measurement gets the id it
    /// declares when that is free, else the next free id, and the partition width it declares;
    /// a new column (nullable, not identity) the next column id of its measurement; a
    /// column that became nullable is relaxed. A measurement already here keeps its partition
    /// width whatever is declared: its stored rows are partitioned by it (FORMAT.md §7). Measurements and columns not declared stay
    /// (their data stays readable). Columns keep the catalog's order, new ones appended, so
    /// build rows with the returned catalog's measurement, not the declaration.
    public func resolving(_ declared: [Measurement]) throws(CatalogError) -> Catalog {
        var out = self
        var seen = Set<String>()
        for d in declared {
            guard seen.insert(d.name).inserted else { throw .duplicateMeasurement(d.name) }
            try Self.validate(d)
            if let old = out.measurement(named: d.name) {
                let m = try Self.merge(old, d)
                out.measurements[out.measurements.firstIndex { $0.id == old.id }!] = m
            } else {
                // The id it declares when that is free (a build's fixed ids stay put), else
                // the greatest id + 1, else the least free one.
                var id = d.id
                if id == 0 || out.measurement(id: id) != nil {
                    let top = out.measurements.map(\.id).max() ?? 0
                    if top < Self.maxMeasurementID {
                        id = top + 1
                    } else {
                        guard let free = (1...Self.maxMeasurementID).first(where: { out.measurement(id: $0) == nil }) else {
                            throw .tooManyMeasurements(d.name)
                        }
                        id = free
                    }
                }
                let cols = d.columns.enumerated().map { $0.element.withID(UInt32($0.offset + 1)) }
                out.measurements.append(Measurement(
                    id: id, name: d.name, columns: cols, latestColumn: d.latestColumn, partitionWidth: d.partitionWidth))
                out.measurements.sort { $0.id < $1.id }
            }
        }
        return out
    }

    /// Checks one measurement on its own: names, column count, identity and latest columns.
    public static func validate(_ m: Measurement) throws(CatalogError) {
        guard isValidName(m.name) else { throw .invalidName(measurement: m.name, column: nil) }
        guard m.columns.count <= maxColumns else { throw .tooManyColumns(measurement: m.name, count: m.columns.count) }
        if let w = m.partitionWidth, w <= 0 { throw .invalidPartitionWidth(measurement: m.name, width: w) }
        var names = Set<String>()
        for c in m.columns {
            guard isValidName(c.name) else { throw .invalidName(measurement: m.name, column: c.name) }
            guard names.insert(c.name).inserted else { throw .duplicateColumn(measurement: m.name, column: c.name) }
            if c.isIdentity {
                guard !c.isNullable else { throw .nullableIdentity(measurement: m.name, column: c.name) }
                guard c.type != .stringList else { throw .identityType(measurement: m.name, column: c.name, type: c.type) }
            }
        }
        if let l = m.latestColumn {
            guard m.columns.indices.contains(l) else { throw .invalidLatestColumn(measurement: m.name) }
            guard !m.columns[l].isNullable else { throw .nullableLatestColumn(measurement: m.name, column: m.columns[l].name) }
            // Its value is rebuilt from footer stats (§2.4.2), which string lists do not have.
            guard m.columns[l].type != .stringList else {
                throw .latestColumnType(measurement: m.name, column: m.columns[l].name, type: .stringList)
            }
        }
    }

    /// `old` (in the catalog) with declaration `d` of the same name applied.
    static func merge(_ old: Measurement, _ d: Measurement) throws(CatalogError) -> Measurement {
        var cols = old.columns
        var nextID = (old.columns.map(\.id).max() ?? 0) + 1
        for c in d.columns {
            if let k = cols.firstIndex(where: { $0.name == c.name }) {
                let o = cols[k]
                guard o.type == c.type else { throw .typeChanged(measurement: d.name, column: c.name, from: o.type, to: c.type) }
                guard o.isIdentity == c.isIdentity else { throw .identityChanged(measurement: d.name, column: c.name) }
                guard !o.isNullable || c.isNullable else { throw .nullableMadeRequired(measurement: d.name, column: c.name) }
                cols[k] = c.withID(o.id)
            } else {
                guard !c.isIdentity else { throw .identityChanged(measurement: d.name, column: c.name) }
                guard c.isNullable else { throw .nonNullableColumnAdded(measurement: d.name, column: c.name) }
                cols.append(c.withID(nextID))
                nextID += 1
            }
        }
        for o in old.columns where !o.isNullable && !d.columns.contains(where: { $0.name == o.name }) {
            throw .requiredColumnMissing(measurement: d.name, column: o.name)
        }
        guard cols.count <= maxColumns else { throw .tooManyColumns(measurement: d.name, count: cols.count) }
        var latest = old.latestColumn
        if let l = d.latestColumn {
            let name = d.columns[l].name
            let k = cols.firstIndex { $0.name == name }!
            if let ol = old.latestColumn, cols[ol].type != cols[k].type {
                throw .latestColumnTypeChanged(measurement: d.name, column: name, from: cols[ol].type, to: cols[k].type)
            }
            latest = k
        }
        return Measurement(id: old.id, name: old.name, columns: cols, latestColumn: latest, partitionWidth: old.partitionWidth)
    }
}

/// Why a declaration cannot be reconciled with a store's catalog (`Catalog.resolving`), or
/// a catalog file cannot be used. Nothing is written when one is thrown.
public enum CatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidName(measurement: String, column: String?)
    case duplicateMeasurement(String)
    case duplicateColumn(measurement: String, column: String)
    case tooManyColumns(measurement: String, count: Int)
    case tooManyMeasurements(String)
    case nullableIdentity(measurement: String, column: String)
    case identityType(measurement: String, column: String, type: ColumnType)
    case invalidLatestColumn(measurement: String)
    case nullableLatestColumn(measurement: String, column: String)
    case latestColumnType(measurement: String, column: String, type: ColumnType)
    case typeChanged(measurement: String, column: String, from: ColumnType, to: ColumnType)
    case identityChanged(measurement: String, column: String)
    case nullableMadeRequired(measurement: String, column: String)
    case nonNullableColumnAdded(measurement: String, column: String)
    case requiredColumnMissing(measurement: String, column: String)
    case latestColumnTypeChanged(measurement: String, column: String, from: ColumnType, to: ColumnType)
    case invalidPartitionWidth(measurement: String, width: Int64)
    /// The catalog file fails its checks (size, CRC, magic, a malformed body).
    case damaged(path: String, problem: String)
    /// The catalog file is intact but of a version this tacho does not know.
    case newerVersion(path: String, version: UInt16)

    public var description: String {
        switch self {
        case .invalidName(let m, nil): "measurement name \"\(m)\" is not [A-Za-z_][A-Za-z0-9_]{0,63}"
        case .invalidName(let m, let c?): "measurement \(m): column name \"\(c)\" is not [A-Za-z_][A-Za-z0-9_]{0,63}"
        case .duplicateMeasurement(let m): "measurement \(m) is declared twice"
        case .duplicateColumn(let m, let c): "measurement \(m): column \(c) is declared twice"
        case .tooManyColumns(let m, let n): "measurement \(m): \(n) columns, at most \(Catalog.maxColumns)"
        case .tooManyMeasurements(let m): "measurement \(m): the store already holds 255 measurements"
        case .nullableIdentity(let m, let c): "measurement \(m): identity column \(c) cannot be nullable"
        case .identityType(let m, let c, let t): "measurement \(m): identity column \(c) cannot be \(t)"
        case .invalidLatestColumn(let m): "measurement \(m): latest column out of range"
        case .nullableLatestColumn(let m, let c): "measurement \(m): latest column \(c) cannot be nullable"
        case .latestColumnType(let m, let c, let t): "measurement \(m): latest column \(c) cannot be \(t)"
        case .typeChanged(let m, let c, let a, let b): "measurement \(m): column \(c) is \(a) in the store, declared \(b)"
        case .identityChanged(let m, let c): "measurement \(m): column \(c) changes the identity of stored rows"
        case .nullableMadeRequired(let m, let c): "measurement \(m): column \(c) is nullable in the store, declared required"
        case .nonNullableColumnAdded(let m, let c):
            "measurement \(m): new column \(c) must be nullable (stored rows do not have it)"
        case .requiredColumnMissing(let m, let c): "measurement \(m): required column \(c) is not declared"
        case .latestColumnTypeChanged(let m, let c, let a, let b):
            "measurement \(m): latest column \(c) is \(b), the store's latest column is \(a)"
        case .invalidPartitionWidth(let m, let w): "measurement \(m): partition width \(w) µs, expected more than 0"
        case .damaged(let p, let why): "catalog \(p) is damaged: \(why)"
        case .newerVersion(let p, let v): "catalog \(p) has version \(v), written by a newer tacho"
        }
    }
}

extension Catalog {
    /// The catalog file's bytes (FORMAT.md §7), CRC included.
    public func encode() -> [UInt8] {
        // Version 1, byte for byte as before, while no measurement has a width of its own.
        let widths = measurements.contains { $0.partitionWidth != nil }
        var w = ByteWriter(capacity: 256)
        w.writeUInt32(FormatConstants.catalogMagic)
        w.writeUInt16(widths ? FormatConstants.catalogVersion : FormatConstants.catalogVersionWithoutWidths)
        w.writeUInt16(0)
        w.writeVarint(UInt64(measurements.count))
        for m in measurements {
            w.writeUInt8(m.id)
            w.writeString(m.name)
            w.writeVarint(m.latestColumn.map { UInt64(m.columns[$0].id) } ?? 0)
            if widths { w.writeVarint(m.partitionWidth.map { UInt64($0) } ?? 0) }
            w.writeVarint(UInt64(m.columns.count))
            for c in m.columns {
                w.writeVarint(UInt64(c.id))
                w.writeString(c.name)
                w.writeUInt8(c.type.rawValue)
                w.writeUInt8((c.isIdentity ? 1 : 0) | (c.isNullable ? 2 : 0))
            }
        }
        w.writeUInt32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    /// Parses a catalog file, checking everything `encode` guarantees.
    public static func decode(_ bytes: [UInt8], path: String) throws(CatalogError) -> Catalog {
        guard bytes.count >= 13 else { throw .damaged(path: path, problem: "\(bytes.count) bytes, shorter than header and CRC") }
        let result: Result<Catalog, CatalogError> = bytes.withUnsafeBytes { raw in
            let body = UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 4)])
            let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: body.count, as: UInt32.self))
            guard CRC32C.checksum(body) == crc else { return .failure(.damaged(path: path, problem: "checksum mismatch")) }
            var r = ByteReader(body)
            guard r.readUInt32() == FormatConstants.catalogMagic else { return .failure(.damaged(path: path, problem: "bad magic, expected TCAT")) }
            let version = r.readUInt16() ?? 0
            guard version == FormatConstants.catalogVersion || version == FormatConstants.catalogVersionWithoutWidths else {
                return .failure(version > FormatConstants.catalogVersion
                    ? .newerVersion(path: path, version: version) : .damaged(path: path, problem: "unknown version \(version)"))
            }
            guard r.readUInt16() == 0 else { return .failure(.damaged(path: path, problem: "reserved field not 0")) }
            guard let n = r.readLength(limit: 255) else { return .failure(.damaged(path: path, problem: "bad measurement count")) }
            var ms: [Measurement] = []
            for k in 0..<n {
                func bad(_ why: String) -> Result<Catalog, CatalogError> { .failure(.damaged(path: path, problem: "measurement \(k): \(why)")) }
                guard let id = r.readUInt8(), id != 0, !ms.contains(where: { $0.id == id }),
                      let name = r.readString(limit: 64), isValidName(name), !ms.contains(where: { $0.name == name }),
                      let latestID = r.readVarint()
                else { return bad("bad id or name") }
                var width: Int64?
                if version >= FormatConstants.catalogVersion {
                    guard let pw = r.readVarint(), pw <= UInt64(Int64.max) else { return bad("bad partition width") }
                    width = pw == 0 ? nil : Int64(pw)
                }
                guard let nc = r.readLength(limit: maxColumns) else { return bad("bad column count") }
                var cols: [ColumnSpec] = []
                for _ in 0..<nc {
                    guard let cid = r.readVarint(), cid >= 1, cid <= UInt64(UInt32.max),
                          !cols.contains(where: { $0.id == UInt32(cid) }),
                          let cname = r.readString(limit: 64), isValidName(cname), !cols.contains(where: { $0.name == cname }),
                          let t = r.readUInt8().flatMap(ColumnType.init(rawValue:)), let flags = r.readUInt8(), flags <= 3
                    else { return bad("bad column") }
                    cols.append(ColumnSpec(cname, t, identity: flags & 1 == 1, nullable: flags & 2 == 2, id: UInt32(cid)))
                }
                var latest: Int?
                if latestID != 0 {
                    guard let l = cols.firstIndex(where: { UInt64($0.id) == latestID }) else { return bad("latest column \(latestID) not among its columns") }
                    latest = l
                }
                let m = Measurement(id: id, name: name, columns: cols, latestColumn: latest, partitionWidth: width)
                do { try validate(m) } catch { return .failure(.damaged(path: path, problem: "\(error)")) }
                ms.append(m)
            }
            guard r.isAtEnd else { return .failure(.damaged(path: path, problem: "trailing bytes")) }
            return .success(Catalog(ms))
        }
        return try result.get()
    }
}
