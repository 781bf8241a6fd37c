import TachoFormat
import TachoOutput
import TachoQuery
import TachoSchema
import TachoStore

extension ReadScope {
    func measurement(_ name: String) throws -> Measurement { try MeasurementLookup.named(name, in: catalog) }
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
