import TachoFormat
import TachoSchema

/// The layouts of the five built-in measurements, made from their TOML declarations
/// (`DefaultDeclarations`, the text `tacho config defaults` prints) by the one mapping every
/// declaration goes through (`RecordLayout(declaration:measurement:)`): there is no second
/// description of them in Swift. Detections and status are what a reader without configured
/// layouts reads (`ReaderOptions.layouts`); all five serve tests and tools.
extension RecordLayout {
    /// Vehicle ids: 1–128 bytes, no control characters.
    static let maxVehicleBytes = 128

    /// The catalog of the five built-ins with their fixed ids (detections 1 … power 5).
    public static let builtinCatalog: Catalog = {
        do {
            return try Catalog.builtIn.resolving(DefaultDeclarations.measurements(DefaultDeclarations.declarations))
        } catch {
            // The text is part of the program and tests read it: this cannot happen.
            preconditionFailure("built-in declarations do not make a catalog: \(error)")
        }
    }()

    /// Every built-in layout, in declaration order.
    public static let builtin: [RecordLayout] = {
        do {
            return try layouts(DefaultDeclarations.declarations, catalog: builtinCatalog)
        } catch {
            preconditionFailure("built-in declarations do not make layouts: \(error)")
        }
    }()

    static func builtin(_ name: String) -> RecordLayout {
        guard let l = builtin.first(where: { $0.measurement.name == name }) else {
            preconditionFailure("no built-in declaration of \(name)")
        }
        return l
    }

    /// Object detections, nested (`detections` array per event) or flat (one
    /// `object_type`/`object_value` per event). One row per detection.
    public static let detections = builtin("detections")
    /// Vehicle status reports (the key is singular in the wild).
    public static let status = builtin("status")
    /// One position per device per minute; the device id is its IMEI.
    public static let locations = builtin("locations")
    /// Alarms with the video files recorded for them (a list of strings).
    public static let alarms = builtin("alarms")
    /// The fleet-power service's documents: one vehicle per document, its id and units
    /// beside the `data` array, before or after it.
    public static let power = builtin("power")
}
