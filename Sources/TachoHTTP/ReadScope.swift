import TachoFormat
import TachoQuery
import TachoSchema
import TachoStore

/// What the read API resolves measurement and column names against, as `tacho`'s read
/// commands do: the snapshot's catalog, plus every declared measurement the store has no
/// rows of yet (known: it answers with its columns and no row).
struct ReadScope {
    var catalog: Catalog
    /// Names of the measurements that are declared but not in the store.
    var declaredOnly: Set<String>
    var declarations: [MeasurementDeclaration]

    init(_ snap: Snapshot, declarations: [MeasurementDeclaration]) {
        self.init(catalog: snap.catalog, declarations: declarations)
    }

    init(catalog: Catalog, declarations: [MeasurementDeclaration]) {
        var c = catalog
        var only = Set<String>()
        // A declaration the engine cannot store is the writers' business; here it is not known.
        for d in declarations where c.measurement(named: d.name) == nil {
            guard let m = try? DefaultDeclarations.measurements([d]), let next = try? c.resolving(m) else { continue }
            c = next
            only.insert(d.name)
        }
        self.catalog = c
        declaredOnly = only
        self.declarations = declarations
    }

    func measurement(_ name: String) throws -> Measurement { try MeasurementLookup.named(name, in: catalog) }

    /// The names a `where` filter may give `m`'s vehicle column: `vehicle_id`, the declared
    /// column name and input keys (`imei`, `spaceship_id`), unless `m` has a column so named.
    func vehicleNames(of m: Measurement) -> Set<String> {
        var names: Set<String> = ["vehicle_id"]
        if let d = declarations.first(where: { $0.name == m.name }) {
            names.insert(d.vehicle.column)
            names.formUnion(d.vehicle.keys)
        }
        return names.filter { n in !m.columns.contains { $0.name == n } }
    }
}

/// The row filters of a request (`where`, `type`, `status`) and its vehicles (`vehicle`, and
/// `where vehicle_id=…`), as `tacho query`/`tacho agg` read `--where`, `--type`, `--status`
/// and `--vehicle`.
struct RowFilters {
    var filters: [ColumnFilter]
    /// nil: every vehicle.
    var vehicles: Set<ByteString>?

    init(_ query: QueryString, of m: Measurement, in scope: ReadScope) throws(APIError) {
        var all: [ColumnFilter] = []
        for text in query.all("where") {
            do {
                all.append(try ColumnFilter.parse(text))
            } catch {
                throw APIError.badParameter("where", "\(error)")
            }
        }
        let types = query.list("type"), statuses = query.list("status")
        if !types.isEmpty { all.append(ColumnFilter("object_type", .eq, types)) }
        if !statuses.isEmpty { all.append(ColumnFilter("status", .eq, statuses)) }
        let vehicleList = query.list("vehicle")
        var allowed: Set<ByteString>? = vehicleList.isEmpty ? nil : Set(bytesOf: vehicleList)
        let names = scope.vehicleNames(of: m)
        var rest: [ColumnFilter] = []
        for f in all {
            guard names.contains(f.column) else {
                rest.append(f)
                continue
            }
            guard f.op == .eq else {
                throw APIError.badParameter("where", "filter on the vehicle column \(f.column): only = compares it (or use vehicle=)")
            }
            let these = Set(bytesOf: f.values)
            allowed = allowed.map { $0.intersection(these) } ?? these
        }
        filters = rest
        vehicles = allowed
    }
}
