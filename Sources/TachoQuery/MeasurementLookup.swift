import TachoFormat
import TachoStore

/// The one way queries (and the CLI) find measurements and their columns by name: from the
/// store's catalog (`Snapshot.catalog`, FORMAT.md §7), or the built-in one without a store.
public enum MeasurementLookup {
    /// Every measurement the store knows, ordered by id.
    public static func all(in snapshot: Snapshot? = nil) -> [Measurement] {
        all(in: snapshot?.catalog ?? Catalog.builtIn)
    }

    /// Every measurement of `catalog` (a store's, perhaps with declared measurements it has
    /// no rows of yet), ordered by id.
    public static func all(in catalog: Catalog) -> [Measurement] {
        catalog.measurements.sorted { $0.id < $1.id }
    }

    /// The measurement called `name`; an unknown name throws an error listing the known ones.
    public static func named(_ name: String, in snapshot: Snapshot? = nil) throws -> Measurement {
        try named(name, in: snapshot?.catalog ?? Catalog.builtIn)
    }

    /// The measurement of `catalog` called `name`; an unknown name throws an error listing the known ones.
    public static func named(_ name: String, in catalog: Catalog) throws -> Measurement {
        let known = all(in: catalog)
        if let m = known.first(where: { Identity.equal($0.name, name) }) { return m }
        throw QueryError(.unknownMeasurement,
                         "unknown measurement \"\(name)\"; known measurements: \(known.map(\.name).joined(separator: ", "))")
    }

    /// `named(name)`, with an error listing the measurements when no name was given.
    public static func required(_ name: String?, in snapshot: Snapshot? = nil) throws -> Measurement {
        try required(name, in: snapshot?.catalog ?? Catalog.builtIn)
    }

    /// `named(name, in: catalog)`, with an error listing the measurements when no name was given.
    public static func required(_ name: String?, in catalog: Catalog) throws -> Measurement {
        guard let name else {
            throw QueryError(.unknownMeasurement,
                             "name a measurement: one of \(all(in: catalog).map(\.name).joined(separator: ", "))")
        }
        return try named(name, in: catalog)
    }

    /// Other names operators use for columns (`--by type` for detections' `object_type`).
    static let aliases: [String: String] = ["type": "object_type"]

    /// The index of column `name` of `m` (or of an alias of it); an unknown name throws an
    /// error listing the columns that exist.
    public static func column(_ name: String, of m: Measurement) throws -> Int {
        if let i = m.columns.firstIndex(where: { Identity.equal($0.name, name) }) { return i }
        if let real = aliases[name], let i = m.columns.firstIndex(where: { $0.name == real }) { return i }
        throw QueryError(.unknownColumn, "measurement \(m.name) has no column \"\(name)\"; its columns: \(describeColumns(m))")
    }

    /// `object_type (string), value (int64)`.
    public static func describeColumns(_ m: Measurement) -> String {
        m.columns.map { "\($0.name) (\($0.type))" }.joined(separator: ", ")
    }

    /// The row-identity columns of `m` as operators see them: vehicle_id, time, then the
    /// measurement's identity columns.
    public static func identity(of m: Measurement) -> [String] {
        ["vehicle_id", "time"] + m.identityColumns.map { m.columns[$0].name }
    }
}
