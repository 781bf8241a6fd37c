import TachoFormat
import TachoQuery
import TachoSchema
import TachoStore

/// What a read front (the CLI's read commands, the HTTP read API) resolves measurement and
/// column names against: the store's catalog, plus every measurement the declarations in force
/// name that the store has no rows of yet. Such a measurement is known: a query of it answers
/// with its columns and no row, and `measurements` lists it without an id.
public struct ReadScope {
    /// The store's catalog with the declared-only measurements added (their ids provisional).
    public var catalog: Catalog
    /// Names of the measurements that are declared but not in the store.
    public var declaredOnly: Set<String>
    public var declarations: [MeasurementDeclaration]

    public init(_ snap: Snapshot, declarations: [MeasurementDeclaration]) {
        self.init(catalog: snap.catalog, declarations: declarations)
    }

    public init(catalog: Catalog, declarations: [MeasurementDeclaration]) {
        var c = catalog
        var only = Set<String>()
        // A declaration the engine cannot store is the writers' business (they refuse it);
        // here it is simply not known.
        for d in declarations where c.measurement(named: d.name) == nil {
            guard let m = try? DefaultDeclarations.measurements([d]), let next = try? c.resolving(m) else { continue }
            c = next
            only.insert(d.name)
        }
        self.catalog = c
        declaredOnly = only
        self.declarations = declarations
    }

    /// The names a filter may give `m`'s vehicle column: `vehicle_id` (as printed), the
    /// declared column name and the declared input keys (`imei`, `spaceship_id`, a tag), unless
    /// `m` has a column of that name.
    public func vehicleNames(of m: Measurement) -> Set<String> {
        var names: Set<String> = ["vehicle_id"]
        if let d = declarations.first(where: { $0.name == m.name }) {
            names.insert(d.vehicle.column)
            names.formUnion(d.vehicle.keys)
        }
        return names.filter { n in !m.columns.contains { $0.name == n } }
    }
}
