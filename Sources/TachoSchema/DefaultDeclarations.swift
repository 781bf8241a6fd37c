import TachoFormat

/// The five measurements every Tacho knows, declared in the same TOML form an operator uses
/// (docs/CONFIG.md; input formats in docs/SEMANTICS.md §1). `tacho config defaults` prints
/// this text. A config file's `[[measurement]]` with one of these names replaces it whole.
///
/// No built-in has a retention: nothing expires by age unless the operator says so.
public enum DefaultDeclarations {
    public static let text = """
        # Built-in measurements of Tacho (tacho config defaults). A [[measurement]] of the same
        # name in your config file replaces one of these whole.

        # Object detections: one row per detected object (SEMANTICS §1). Nested events carry a
        # detections array; flat events carry object_type/object_value themselves.
        [[measurement]]
        name = "detections"
        records = "objects_detection_events[].detections[]"
        files = { prefixes = ["objects_detection"], key = "objects_detection_events" }
        vehicle = { keys = ["vehicle_id"] }
        time = { key = "detection_time", format = "rfc3339" }
        identity = ["object_type"]
        fields = [
          { name = "object_type", type = "string", max_bytes = 64 },
          { name = "value", key = "object_value", type = "int64", min = 0 },
        ]

        # Vehicle status reports; the key is singular in the wild. The newest status per
        # vehicle (greatest report time) is kept for tacho latest.
        [[measurement]]
        name = "status"
        records = "vehicle_status[]"
        files = { prefixes = ["vehicles_status"], key = "vehicle_status" }
        vehicle = { keys = ["vehicle_id"] }
        time = { key = "report_time", format = "rfc3339" }
        latest = "status"
        fields = [
          { name = "status", type = "string", max_bytes = 64 },
        ]

        # Locations, one per device per minute; the device id is its IMEI.
        [[measurement]]
        name = "locations"
        records = "locations[]"
        files = { prefixes = ["locations"], key = "locations" }
        vehicle = { keys = ["imei"] }
        time = { key = "time", format = "rfc3339" }
        fields = [
          { name = "lat", type = "float64", min = -90, max = 90 },
          { name = "lon", type = "float64", min = -180, max = 180 },
          { name = "speed_kmh", type = "float64", min = 0 },
          { name = "heading", type = "float64", min = 0, max = 360 },
        ]

        # Alarms with the video files recorded for them (0..n).
        [[measurement]]
        name = "alarms"
        records = "alarms[]"
        files = { prefixes = ["alarms"], key = "alarms" }
        vehicle = { keys = ["imei"] }
        time = { key = "time", format = "rfc3339" }
        identity = ["alarm_type"]
        fields = [
          { name = "alarm_type", type = "string", max_bytes = 64 },
          { name = "severity", type = "int64", min = 0 },
          { name = "files", type = "string_list", required = false, max_bytes = 1024 },
        ]

        # Power readings, one document per vehicle: spaceship_id and units sit beside data.
        # kW: power samples; kWh: energy used in the sample's interval.
        [[measurement]]
        name = "power"
        records = "data[]"
        files = { prefixes = ["power_"], key = "data" }
        vehicle = { keys = ["spaceship_id"] }
        time = { key = "timestamp", alt_keys = ["datetime"], format = "rfc3339" }
        identity = ["units"]
        fields = [
          { name = "value", type = "float64", min = 0 },
          { name = "units", type = "string", allowed = ["kW", "kWh"] },
        ]

        """

    /// The declarations of `text`, parsed once.
    public static let declarations: [MeasurementDeclaration] = {
        do {
            return try TachoConfig.parse(text, file: "(built-in defaults)", includeDefaults: false).declaredMeasurements
        } catch {
            // The text is part of the program and a test parses it: this cannot happen.
            preconditionFailure("built-in declarations do not parse: \(error)")
        }
    }()

    /// The measurement ids of today's engine for the built-ins (FORMAT.md §2.1); other
    /// measurements get theirs from the store's catalog.
    public static let builtinIDs: [String: UInt8] = ["detections": 1, "status": 2, "locations": 3, "alarms": 4, "power": 5]

    /// The engine's schemas of `declarations`: the built-ins with their fixed ids, others
    /// with id 0 (the store's catalog gives them one, `Catalog.resolving`).
    public static func measurements(_ declarations: [MeasurementDeclaration]) throws(ConfigError) -> [Measurement] {
        var out: [Measurement] = []
        for d in declarations { out.append(try d.measurement(id: builtinIDs[d.name] ?? 0)) }
        return out
    }
}
