import TachoFormat

/// Schemas of the generic query and CLI tests, written as the engine sees them. The product declares
/// its measurements in TOML (TachoSchema's `DefaultDeclarations`); these are test fixtures,
/// not a second definition the product reads.
extension Measurement {
    /// One row per location fix: (vehicle_id, time, lat, lon, speed_kmh, heading).
    public static let locations = Measurement(
        id: 3, name: "locations",
        columns: [ColumnSpec("lat", .float64), ColumnSpec("lon", .float64), ColumnSpec("speed_kmh", .float64),
                  ColumnSpec("heading", .int64)]
    )
    /// One row per power reading: (vehicle_id, time, value, units) with units `kW` (a power
    /// sample) or `kWh` (energy used in the sample's interval).
    public static let power = Measurement(
        id: 5, name: "power",
        columns: [ColumnSpec("value", .float64), ColumnSpec("units", .string)]
    )
}
