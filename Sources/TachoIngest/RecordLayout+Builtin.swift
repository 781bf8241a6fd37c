import TachoFormat

/// The layouts of the inputs in docs/SEMANTICS.md §1, as data: the same reader reads them
/// all. Detections and status are what the store holds today (`ReaderOptions.layouts`);
/// locations, alarms and power carry provisional measurements (ids 3–5) until the schema
/// declarations name them.
extension RecordLayout {
    /// Vehicle ids: 1–128 bytes, no control characters.
    static let maxVehicleBytes = 128
    /// Labels (object types, statuses, alarm types, units): 1–64 bytes.
    static let maxLabelBytes = 64

    static func vehicleField(_ keys: [String], numbers: Bool = false) -> FieldLayout {
        FieldLayout(keys: keys, input: .string(numbers: numbers), rule: FieldRule(maxBytes: maxVehicleBytes))
    }

    /// Object detections, nested (`detections` array per event) or flat (one
    /// `object_type`/`object_value` per event). One row per detection.
    public static let detections = RecordLayout(
        measurement: .detections,
        path: [PathStep("objects_detection_events", item: "event"), PathStep("detections", item: "detection")],
        vehicle: vehicleField(["vehicle_id"]),
        time: TimeLayout(keys: ["detection_time"]),
        fields: [
            FieldLayout(column: 0, keys: ["object_type"], scope: .record, input: .string(), rule: FieldRule(maxBytes: maxLabelBytes)),
            FieldLayout(column: 1, keys: ["object_value"], scope: .record, input: .integer, rule: FieldRule(min: 0)),
        ],
        filePrefixes: ["objects_detection"])

    /// Vehicle status reports (the key is singular in the wild).
    public static let status = RecordLayout(
        measurement: .status,
        path: [PathStep("vehicle_status", item: "event")],
        vehicle: vehicleField(["vehicle_id"]),
        time: TimeLayout(keys: ["report_time"]),
        fields: [
            FieldLayout(column: 0, keys: ["status"], scope: .record, input: .string(), rule: FieldRule(maxBytes: maxLabelBytes))
        ],
        filePrefixes: ["vehicles_status"])

    public static let locationsMeasurement = Measurement(
        id: 3, name: "locations",
        columns: [
            ColumnSpec("lat", .float64), ColumnSpec("lon", .float64),
            ColumnSpec("speed_kmh", .float64), ColumnSpec("heading", .float64),
        ])

    /// One position per device per minute; the device id is its IMEI.
    public static let locations = RecordLayout(
        measurement: locationsMeasurement,
        path: [PathStep("locations", item: "location")],
        vehicle: vehicleField(["imei"]),
        time: TimeLayout(keys: ["time"]),
        fields: [
            FieldLayout(column: 0, keys: ["lat"], scope: .record, input: .number, rule: FieldRule(min: -90, max: 90)),
            FieldLayout(column: 1, keys: ["lon"], scope: .record, input: .number, rule: FieldRule(min: -180, max: 180)),
            FieldLayout(column: 2, keys: ["speed_kmh"], scope: .record, input: .number, rule: FieldRule(min: 0)),
            FieldLayout(column: 3, keys: ["heading"], scope: .record, input: .number, rule: FieldRule(min: 0, max: 360)),
        ],
        filePrefixes: ["locations"])

    public static let alarmsMeasurement = Measurement(
        id: 4, name: "alarms",
        columns: [
            ColumnSpec("alarm_type", .string, identity: true), ColumnSpec("severity", .int64),
            ColumnSpec("files", .string),
        ])

    /// Alarms with the video files recorded for them. `files` (0..n names) is stored joined
    /// by `;` (`FieldInput.joinedStrings`) until the store has list columns.
    public static let alarms = RecordLayout(
        measurement: alarmsMeasurement,
        path: [PathStep("alarms", item: "alarm")],
        vehicle: vehicleField(["imei"]),
        time: TimeLayout(keys: ["time"]),
        fields: [
            FieldLayout(column: 0, keys: ["alarm_type"], scope: .record, input: .string(), rule: FieldRule(maxBytes: maxLabelBytes)),
            FieldLayout(column: 1, keys: ["severity"], scope: .record, input: .integer, rule: FieldRule(min: 0)),
            FieldLayout(
                column: 2, keys: ["files"], required: false, scope: .record, input: .joinedStrings(separator: ";"),
                rule: FieldRule(maxBytes: 1024), defaultValue: .string("")),
        ],
        filePrefixes: ["alarms"])

    public static let powerMeasurement = Measurement(
        id: 5, name: "power",
        columns: [ColumnSpec("units", .string, identity: true), ColumnSpec("value", .float64)])

    /// The fleet-power service's documents: one vehicle per document, its id and units
    /// beside the `data` array, before or after it.
    public static let power = RecordLayout(
        measurement: powerMeasurement,
        path: [PathStep("data", item: "sample")],
        vehicle: vehicleField(["spaceship_id"], numbers: true),
        time: TimeLayout(keys: ["timestamp", "datetime"], scope: .record),
        fields: [
            FieldLayout(column: 0, keys: ["units"], input: .string(), rule: FieldRule(allowed: ["kW", "kWh"])),
            FieldLayout(column: 1, keys: ["value"], scope: .record, input: .number, rule: FieldRule(min: 0)),
        ],
        filePrefixes: ["power"])

    /// Every built-in layout.
    public static let builtin: [RecordLayout] = [.detections, .status, .locations, .alarms, .power]
}
