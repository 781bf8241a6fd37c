import ArgumentParser
import TachoFormat
import TachoIngest
import TachoLineProtocol
import TachoOutput
import TachoQuery
import TachoRollup
import TachoSchema
import TachoStore

/// The declared measurements of this process (`--config` TOML, else the built-in
/// declarations) as the engine's schemas and the reader's layouts: every command that
/// writes a store declares them (the store's catalog adds or checks them before anything is
/// written) and reads files by them.
extension LoadedConfig {
    /// The engine's schemas of every declaration in force. A declaration the engine cannot
    /// store is refused here, naming the measurement and column.
    func engineMeasurements() throws -> [Measurement] {
        do {
            return try DefaultDeclarations.measurements(measurements) + RollupMaintainer.measurements(measurements)
        } catch {
            throw ValidationError("\(path ?? "built-in declarations"): \(error)")
        }
    }

    /// The reader's layouts of every declaration, stored as `catalog`'s measurements.
    func layouts(catalog: Catalog) throws -> [RecordLayout] {
        do {
            return try RecordLayout.layouts(measurements, catalog: catalog)
        } catch {
            throw ValidationError("\(path ?? "built-in declarations"): \(error)")
        }
    }

    /// The catalog the declarations alone make (the built-ins and every declared measurement).
    func declarationCatalog() throws -> Catalog {
        do {
            return try Catalog.builtIn.resolving(try engineMeasurements())
        } catch let e as CatalogError {
            throw ValidationError("\(path ?? "built-in declarations"): \(e)")
        }
    }

    /// `[line_protocol]` as the readers take it.
    var lineInput: LineInputOptions {
        var o = LineInputOptions()
        let l = config.lineProtocol
        o.autoCreate = l.autoCreate
        o.vehicleTag = l.vehicleTag
        o.precision = LinePrecision(name: l.precision.rawValue) ?? .nanoseconds
        return o
    }

    /// The same config with `extra` declarations (measurements created by line protocol).
    func adding(_ extra: [MeasurementDeclaration]) -> LoadedConfig {
        guard !extra.isEmpty else { return self }
        var c = self
        c.config.declaredMeasurements += extra
        c.config.measurements += extra
        return c
    }

    /// Checks what a writer would refuse, before a store is opened (or created): the
    /// catalog's rules and the reader's, on a catalog of the declarations alone.
    func checkDeclarations() throws {
        let ms = try engineMeasurements()
        do {
            let catalog = try Catalog.builtIn.resolving(ms)
            _ = try layouts(catalog: catalog)
        } catch let e as CatalogError {
            throw ValidationError("\(path ?? "built-in declarations"): \(e)")
        }
    }
}

/// The read commands' scope (`ReadScope`, TachoOutput): the declarations in force are
/// `--config`'s, else the built-in ones.
extension ReadScope {
    init(_ snap: Snapshot, config: LoadedConfig) {
        self.init(snap, declarations: config.measurements)
    }

    init(_ snap: Snapshot, _ store: StoreOptionGroup) throws {
        self.init(snap, config: try store.loadedConfig())
    }

    func measurement(_ name: String?) throws -> Measurement { try MeasurementLookup.required(name, in: catalog) }
}

extension FilterOptionGroup {
    /// `columnFilters()` with the filters on `m`'s vehicle column (`--where imei=X`) taken out
    /// as vehicles: each must hold, so the vehicles are the values every one of them and
    /// `--vehicle` (when given) allow. Only `=` compares the vehicle column.
    /// `named`: every vehicle named, for the notes on vehicles without data.
    func splitVehicle(of m: Measurement, in scope: ReadScope, vehicles: [String]) throws
        -> (filters: [ColumnFilter], vehicles: Set<ByteString>?, named: [String]) {
        let names = scope.vehicleNames(of: m)
        var allowed: Set<ByteString>? = vehicles.isEmpty ? nil : Set(bytesOf: vehicles)
        var named = vehicles
        var rest: [ColumnFilter] = []
        for f in try columnFilters() {
            guard names.contains(f.column) else {
                rest.append(f)
                continue
            }
            guard f.op == .eq else {
                throw ValidationError("filter on the vehicle column \(f.column): only = compares it (or use --vehicle)")
            }
            let these = Set(bytesOf: f.values)
            allowed = allowed.map { $0.intersection(these) } ?? these
            named += f.values.filter { !named.contains($0) }
        }
        return (rest, allowed, named)
    }
}
