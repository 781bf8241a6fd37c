import TachoFormat
import TachoJSON
import TachoLineProtocol
import TachoSchema
import TachoStore

/// Line-protocol settings of the readers (`[line_protocol]` of the config file).
public struct LineInputOptions: Sendable, Hashable {
    /// The tag holding the vehicle id. Default `vehicle_id`.
    public var vehicleTag = "vehicle_id"
    /// Undeclared measurements are declared from their first line (`tacho ingest` and
    /// `tacho run`, see `LineProtocolSchemas`); off: their lines are rejected. Default on.
    public var autoCreate = true
    public var precision: LinePrecision = .nanoseconds
    /// Measurements whose lines could not create them (the store's catalog contradicts the
    /// declaration their first line makes), with the reason their lines are rejected with.
    public var refused: [String: String] = [:]

    public init() {}
}

/// The line-protocol byte source over the hashing file source (the ledger hash as for JSON).
struct LineBytes: LineProtocolByteSource {
    var inner: any HashingByteSource
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try inner.read(into: buffer) }
}

/// Reads an InfluxDB line-protocol file (`*.lp`, docs/SEMANTICS.md "Line protocol input")
/// into rows of the declared measurements (`ReaderOptions.layouts`, by measurement name):
/// tags and fields are matched to columns by the declared input key, the vehicle comes from
/// `LineInputOptions.vehicleTag`, the time from the timestamp. A line is rejected (with its
/// line:column, measurement, field and reason) when it is malformed, lacks the vehicle tag or
/// the timestamp, names an undeclared measurement, carries a key the measurement lacks, or a
/// value of another type than its column; an optional column the line lacks is null.
struct LineProtocolFileReader {
    let path: String
    let options: ReaderOptions

    func read(source: any HashingByteSource, sink: (RowBatch) throws -> Void) throws -> FileReport {
        var report = FileReport(path: path)
        let parser = LineProtocolParser(
            source: LineBytes(inner: source), options: LineProtocolOptions(precision: options.lineProtocol.precision))
        var byName: [String: RecordLayout] = [:]
        for l in options.layouts where byName[l.measurement.name] == nil { byName[l.measurement.name] = l }
        // Each measurement's mapper and batch; the line before's in `current` (a file's lines
        // are mostly of one measurement: a line of it costs no lookup by name).
        struct Slot {
            var mapper: LineRowMapper
            var batch: RowBatch
        }
        var slots: [String: Slot] = [:]
        var current: Slot?
        var index = 0
        var used: [RecordLayout] = []
        func reject(_ line: Int, _ column: Int, _ reason: String, measurement: String, field: String?, text: String) {
            report.rejectCount += 1
            guard report.rejects.count < options.maxRejectsKept else { return }
            report.rejects.append(RecordReject(
                index: index, line: line, column: column, reason: reason, record: "{\"line\":\(jsonQuoted(text))}",
                measurement: measurement, field: field))
        }
        var p = LinePoint()
        while true {
            let outcome: LineOutcome
            do {
                outcome = try parser.next(into: &p)
            } catch {
                if error.kind == .io { throw InputReadError(path: path, message: error.message) }
                throw FileError(path: path, line: error.line, column: error.column, message: error.message)
            }
            switch outcome {
            case .end:
                if let c = current { slots[c.mapper.name] = c }
                for (_, slot) in slots where !slot.batch.isEmpty { try sink(slot.batch) }
                report.kind = used.first
                report.kinds = used
                return report
            case .rejected(let e):
                reject(e.line, e.column, e.message, measurement: "", field: nil, text: "")
                index += 1
                continue
            case .point:
                break
            }
            defer { index += 1 }
            if current == nil || !p.measurementEquals(current!.mapper.nameBytes) {
                if let c = current { slots[c.mapper.name] = c }
                current = nil
                let name = p.measurement
                guard let layout = byName[name] else {
                    let (why, field) = Self.undeclared(p, options.lineProtocol)
                    reject(p.line, 1, why, measurement: name, field: field, text: Self.text(p))
                    continue
                }
                current = slots.removeValue(forKey: name)
                    ?? Slot(mapper: LineRowMapper(layout, options.lineProtocol), batch: RowBatch(layout.measurement))
            }
            // Moved out and back (`take`): the slot's arrays stay uniquely referenced.
            guard var slot = current.take() else { continue }
            switch slot.mapper.row(p) {
            case .failure(let problem):
                reject(p.line, 1, problem.reason, measurement: slot.mapper.name, field: problem.field, text: Self.text(p))
            case .success(let row):
                slot.batch.append(vehicle: row.vehicle, time: row.time, row.values)
                report.rows += 1
                report.events += 1
                if slot.batch.count == 1 && !used.contains(where: { $0.measurement.name == slot.mapper.name }) {
                    used.append(slot.mapper.layout)
                }
                if slot.batch.count >= options.batchRows {
                    try sink(slot.batch)
                    slot.batch = RowBatch(slot.mapper.layout.measurement)
                }
            }
            current = slot
        }
    }

    struct Row {
        var vehicle: String
        var time: Int64
        var values: [ColumnValue?]
    }

    struct Problem: Error {
        var field: String?
        var reason: String
    }

    /// Why a line of a measurement without a layout is rejected (and the field at fault):
    /// creation is off or was refused, or no line of it could create it (this one's own
    /// problem, such as a missing vehicle tag, when it has one).
    static func undeclared(_ p: LinePoint, _ o: LineInputOptions) -> (String, String?) {
        let name = p.measurement
        if let why = o.refused[name] { return (why, nil) }
        guard o.autoCreate else { return (LineMappingError.undeclaredMeasurement(name).description, nil) }
        let mapping = LineMappingOptions(vehicleTag: o.vehicleTag, autoCreate: true)
        switch LineMapping.inferSchema(p, options: mapping) {
        case .failure(.missingVehicleTag(let tag)): return (LineMappingError.missingVehicleTag(tag: tag).description, tag)
        case .failure(let e): return (e.description, nil)
        case .success:
            return ("measurement '\(name)' is not declared, and its lines cannot create it: names of measurements, tags and fields must match [A-Za-z_][A-Za-z0-9_]{0,63} (not vehicle_id or time), and a line needs a field", nil)
        }
    }

    /// A string list from a line-protocol string: its `;`-separated parts ("" is the empty list).
    static func list(_ s: String) -> [String] { s.isEmpty ? [] : s.split(separator: ";", omittingEmptySubsequences: false).map(String.init) }

    static func check(_ s: String, maxBytes: Int) -> String? {
        Array(s.utf8).withUnsafeBytes { FieldText.problem($0, max: maxBytes) }
    }

    static func validate(string s: String, _ f: FieldLayout) -> String? {
        if let why = check(s, maxBytes: f.rule.maxBytes ?? (1 << 20)) { return why }
        if let a = f.rule.allowed, !a.contains(s) { return "is \(jsonQuoted(s)), not one of \(a.joined(separator: ", "))" }
        return nil
    }

    /// The point, for reject records: measurement, tags and fields as read.
    static func text(_ p: LinePoint) -> String {
        var parts = [p.measurement]
        for t in p.tags { parts.append("\(p.string(t.key))=\(p.string(t.value))") }
        var fields: [String] = []
        for f in p.fields {
            let v: String
            switch f.value {
            case .float(let d): v = "\(d)"
            case .int(let x): v = "\(x)i"
            case .uint(let x): v = "\(x)u"
            case .bool(let b): v = b ? "true" : "false"
            case .string(let r): v = jsonQuoted(p.string(r))
            }
            fields.append("\(p.string(f.key))=\(v)")
        }
        return parts.joined(separator: ",") + " " + fields.joined(separator: ",") + (p.timestamp.map { " \($0)" } ?? "")
    }
}

extension FieldRule {
    func accepts(_ d: Double) -> Bool {
        if let min, d < min { return false }
        if let max, d > max { return false }
        return true
    }
}

/// Measurements created by line protocol (schema on write, docs/SEMANTICS.md "Line protocol
/// input"): an undeclared measurement of a `*.lp` input is declared from its first line, its
/// tags (but the vehicle tag) as required string identity columns, its fields as optional
/// columns of their types. `tacho ingest` reads its `.lp` inputs for these before it opens
/// the store, `tacho run` before it parses each batch of inbox files; either way the writer's
/// catalog has them before their rows are built, and the commit that stores their first rows
/// stores their catalog entries in the same manifest switch (FORMAT.md §7).
public enum LineProtocolSchemas {
    public static func isLineProtocol(_ path: String) -> Bool { path.hasSuffix(".lp") }
    public static func isLineProtocolAmong(_ paths: [String]) -> Bool { paths.contains(where: isLineProtocol) }

    /// Declarations for the measurements of `paths`' lines that `declared` lacks. One that
    /// `catalog` (the store's) already holds, created by lines before, is declared as stored
    /// (its columns, types and identity) plus the fields of its first line the store lacks.
    public static func discover(
        paths: [String], declared: Set<String>, options: LineInputOptions, catalog: Catalog = .builtIn,
        files: any StoreFileSystem = StoreEnvironment.system.files, afterEachFile: () -> Void = {}
    ) -> [MeasurementDeclaration] {
        guard options.autoCreate else { return [] }
        var out: [MeasurementDeclaration] = []
        var known = declared
        for path in paths where isLineProtocol(path) {
            defer { afterEachFile() }
            guard let src = try? TelemetryReader.openInput(path, files) else { continue }
            discover(source: HashingSource(src), known: &known, options: options, catalog: catalog, into: &out)
        }
        return out
    }

    /// Declarations of the measurements `catalog` holds that `declared` lacks, each as stored
    /// (its columns, types and identity): what `discover` declares for them from lines that
    /// add no field. Lines read with these and rejected by none need no discovery.
    public static func storedDeclarations(
        catalog: Catalog, declared: Set<String>, options: LineInputOptions
    ) -> [MeasurementDeclaration] {
        guard options.autoCreate else { return [] }
        return catalog.measurements.filter { !declared.contains($0.name) && DeclarationText.isName($0.name) }
            .map { declaration(name: $0.name, stored: $0.columns, new: [], options: options) }
    }

    /// The declaration of `name`: its stored columns, then `new` ones (name, type, is a tag).
    static func declaration(
        name: String, stored: [ColumnSpec], new: [(name: String, type: FieldType, isTag: Bool)], options: LineInputOptions
    ) -> MeasurementDeclaration {
        var fields: [FieldDeclaration] = []
        var identity: [String] = []
        for c in stored {
            fields.append(FieldDeclaration(name: c.name, type: fieldType(c.type), required: !c.isNullable))
            if c.isIdentity { identity.append(c.name) }
        }
        for c in new where !fields.contains(where: { $0.name == c.name }) {
            fields.append(FieldDeclaration(name: c.name, type: c.type, required: c.isTag))
            if c.isTag { identity.append(c.name) }
        }
        return MeasurementDeclaration(
            name: name, vehicle: VehicleSource(keys: [options.vehicleTag]), time: TimeSource(key: "time", format: .unixNanos),
            fields: fields, identity: identity, records: RecordPath(steps: [.init(name, isArray: true)]),
            files: FileMatch(prefixes: [], key: name))
    }

    /// `discover(paths:…)` for one body in memory (the HTTP write API's, before it is a file).
    public static func discover(
        bytes: [UInt8], declared: Set<String>, options: LineInputOptions, catalog: Catalog = .builtIn
    ) -> [MeasurementDeclaration] {
        guard options.autoCreate else { return [] }
        var out: [MeasurementDeclaration] = []
        var known = declared
        discover(source: MemorySource(bytes), known: &known, options: options, catalog: catalog, into: &out)
        return out
    }

    private static func discover(
        source: any HashingByteSource, known: inout Set<String>, options: LineInputOptions, catalog: Catalog,
        into out: inout [MeasurementDeclaration]
    ) {
        let mapping = LineMappingOptions(vehicleTag: options.vehicleTag, autoCreate: true)
        let parser = LineProtocolParser(
            source: LineBytes(inner: source), options: LineProtocolOptions(precision: options.precision))
        // The last measurement found known: its lines (most lines) cost no String.
        var lastKnown: [UInt8] = []
        try? parser.forEach(point: { p in
            if !lastKnown.isEmpty && p.measurementEquals(lastKnown) { return }
            let name = p.measurement
            if known.contains(name) {
                lastKnown = Array(name.utf8)
                return
            }
            guard DeclarationText.isName(name),
                  case .success(let cols) = LineMapping.inferSchema(p, options: mapping),
                  !cols.isEmpty, cols.allSatisfy({ DeclarationText.isName($0.name) }) else { return }
            let new = cols.map { c -> (name: String, type: FieldType, isTag: Bool) in
                let t: FieldType
                switch c.type {
                case .string: t = .string
                case .int64: t = .int64
                case .float64: t = .float64
                case .bool: t = .bool
                }
                return (c.name, t, c.isTag)
            }
            out.append(declaration(name: name, stored: catalog.measurement(named: name)?.columns ?? [], new: new, options: options))
            known.insert(name)
            lastKnown = Array(name.utf8)
        })
    }
}

extension LineProtocolSchemas {
    static func fieldType(_ t: ColumnType) -> FieldType {
        switch t {
        case .int64: .int64
        case .float64: .float64
        case .string: .string
        case .bool: .bool
        case .stringList: .stringList
        }
    }
}

/// Names a line may give a measurement or column (those of declarations).
enum DeclarationText {
    static func isName(_ n: String) -> Bool {
        let u = Array(n.utf8)
        guard !u.isEmpty, u.count <= 64, n != "vehicle_id", n != "time" else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F }
        return letter(u[0]) && u.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}
