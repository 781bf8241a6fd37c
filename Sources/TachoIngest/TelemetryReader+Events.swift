import TachoFormat
import TachoJSON
import TachoStore

/// Field validation (SEMANTICS §1, issue #3): vehicle ids 1–128 bytes, labels 1–64 bytes, no
/// control characters in either.
enum FieldRules {
    static let maxVehicleBytes = 128
    static let maxLabelBytes = 64

    static func problem(_ b: UnsafeRawBufferPointer, max: Int) -> String? {
        if b.isEmpty { return "is empty" }
        if b.count > max { return "is \(b.count) bytes, more than \(max)" }
        for c in b where c < 0x20 || c == 0x7F { return "contains a control character (0x\(String(c, radix: 16)))" }
        return nil
    }
}

extension FileParse {
    /// Reads the next token, the value of `field`: true when it is a `want` token, else
    /// skips it and notes that `field` must be `kind`.
    private func expectValue(_ want: JSONToken, _ field: String, _ kind: String, _ problems: inout [String]) throws -> Bool {
        let t = try parser.next()
        guard t == want else {
            if t == .beginObject || t == .beginArray { _ = try skipOpenContainer() }
            problems.append("\(field) must be \(kind)")
            return false
        }
        return true
    }

    /// A string field: interned when valid, else nil and the reason noted.
    private func readLabel(_ field: String, max: Int, _ problems: inout [String]) throws -> UInt32? {
        guard try expectValue(.string, field, "a string", &problems) else { return nil }
        return parser.withStringBytes { b in
            // An interned string passed the control-character check when it was first seen
            // (invalid ones are never interned); only the length depends on the field.
            if !b.isEmpty && b.count <= max, let id = interner.find(b) { return id }
            if let p = FieldRules.problem(b, max: max) {
                problems.append("\(field) \(p)")
                return nil
            }
            return interner.intern(b)
        }
    }

    private func readTime(_ field: String, _ problems: inout [String]) throws -> Int64? {
        guard try expectValue(.string, field, "a string", &problems) else { return nil }
        if let micros = parser.withStringBytes({ Timestamp.parseMicros($0) }) {
            if micros < expiredBefore {
                problems.append("\(field) \(jsonQuoted(parser.stringValue)) is older than the retention watermark of \(measurement.name) (\(Timestamp.format(expiredBefore))): expired on arrival, not stored")
            }
            return micros
        }
        problems.append("\(field) \(jsonQuoted(parser.stringValue)) is not an RFC 3339 time or YYYY-MM-DD HH:MM:SS")
        return nil
    }

    private func readCount(_ field: String, _ problems: inout [String]) throws -> Int64? {
        guard try expectValue(.number, field, "an integer ≥ 0", &problems) else { return nil }
        // Any grammatical number arrives here (the parser leaves range to us): one the column
        // cannot hold (3.5, -1, 1e19, 99999999999999999999, 1e400) rejects this record only.
        guard let v = parser.asExactInt64, v >= 0 else {
            let text = parser.withNumberBytes { String(decoding: $0, as: UTF8.self) }
            let tooLarge = parser.doubleValue.magnitude >= 0x1p63 ? " (beyond the 64-bit range)" : ""
            problems.append("\(field) must be an integer ≥ 0, found \(text)\(tooLarge)")
            return nil
        }
        return v
    }

    /// Notes `missing <field>` when a field was absent (not when it had a problem of its own).
    private func requirePresent(_ present: Bool, _ field: String, _ problems: inout [String]) {
        if !present && !problems.contains(where: { $0.hasPrefix(field) }) { problems.append("missing \(field)") }
    }

    func readDetectionEvent(_ index: Int, _ start: JSONPosition) throws {
        var vehicle: UInt32?, time: Int64?
        var problems: [String] = []
        var evType: UInt32?, evValue: Int64?, evSeen = false
        var hasDetections = false
        // Detections go straight into the next batch's type and value columns; `vehicles`
        // and `times` get their entries once the event is known to be valid, or the columns
        // are cut back to `base` when it is rejected.
        let base = labels.count
        var detProblems: [(Int, String)] = []
        while true {
            let t = try parser.next()
            if t == .endObject { break }
            if parser.keyEquals("vehicle_id") {
                vehicle = try readLabel("vehicle_id", max: FieldRules.maxVehicleBytes, &problems)
            } else if parser.keyEquals("detection_time") {
                time = try readTime("detection_time", &problems)
            } else if parser.keyEquals("detections") {
                hasDetections = true
                guard try parser.next() == .beginArray else {
                    problems.append("detections must be an array")
                    if parser.currentToken == .beginObject { _ = try skipOpenContainer() }
                    continue
                }
                var k = 0
                while true {
                    let d = try parser.next()
                    if d == .endArray { break }
                    defer { k += 1 }
                    guard d == .beginObject else {
                        if d == .beginArray { _ = try skipOpenContainer() }
                        detProblems.append((k, "detection must be an object"))
                        continue
                    }
                    var ty: UInt32?, val: Int64?, probs: [String] = []
                    while true {
                        let f = try parser.next()
                        if f == .endObject { break }
                        if parser.keyEquals("object_type") {
                            ty = try readLabel("object_type", max: FieldRules.maxLabelBytes, &probs)
                        } else if parser.keyEquals("object_value") {
                            val = try readCount("object_value", &probs)
                        } else {
                            try parser.skipValue()
                        }
                    }
                    if let ty, let val, probs.isEmpty {
                        appendDetection(ty, val)
                    } else {
                        detProblems.append((k, probs.first ?? (ty == nil ? "missing object_type" : "missing object_value")))
                    }
                }
            } else if parser.keyEquals("object_type") {
                evSeen = true
                evType = try readLabel("object_type", max: FieldRules.maxLabelBytes, &problems)
            } else if parser.keyEquals("object_value") {
                evSeen = true
                evValue = try readCount("object_value", &problems)
            } else {
                try parser.skipValue()
            }
        }
        requirePresent(vehicle != nil, "vehicle_id", &problems)
        requirePresent(time != nil, "detection_time", &problems)
        if evSeen {
            if evType == nil || evValue == nil {
                if problems.isEmpty { problems.append(evType == nil ? "missing object_type" : "missing object_value") }
            } else if let evType, let evValue {
                if !hasDetections {
                    appendDetection(evType, evValue)
                } else if options.lenient {
                    appendDetection(evType, evValue)
                    report.repairCount += 1
                    report.repairs.append(
                        "line \(start.line), column \(start.column): warning: event \(index) has object_type/object_value beside detections; kept as one more detection")
                } else {
                    problems.append("object_type/object_value beside a detections array (accepted with --lenient)")
                }
            }
        } else if !hasDetections && problems.isEmpty {
            problems.append("missing detections (or object_type and object_value)")
        }
        let added = labels.count - base
        guard problems.isEmpty, let vehicle, let time else {
            let dets = (base..<(base + added)).map { (type: labels[$0], value: values[$0]) }
            labels.removeLast(added)
            values.removeLast(added)
            reject(index, start, problems.joined(separator: "; "), record: detectionRecord(vehicle, time, dets))
            return
        }
        for (k, why) in detProblems {
            reject(index, start, "detection \(k): \(why)", record: detectionRecord(vehicle, time, []))
        }
        for _ in 0..<added {
            vehicles.append(vehicle)
            times.append(time)
        }
        report.rows += added
    }

    @inline(__always)
    private func appendDetection(_ type: UInt32, _ value: Int64) {
        labels.append(type)
        values.append(value)
    }

    func readStatusEvent(_ index: Int, _ start: JSONPosition) throws {
        var vehicle: UInt32?, time: Int64?, status: UInt32?
        var problems: [String] = []
        while true {
            let t = try parser.next()
            if t == .endObject { break }
            if parser.keyEquals("vehicle_id") {
                vehicle = try readLabel("vehicle_id", max: FieldRules.maxVehicleBytes, &problems)
            } else if parser.keyEquals("report_time") {
                time = try readTime("report_time", &problems)
            } else if parser.keyEquals("status") {
                status = try readLabel("status", max: FieldRules.maxLabelBytes, &problems)
            } else {
                try parser.skipValue()
            }
        }
        requirePresent(vehicle != nil, "vehicle_id", &problems)
        requirePresent(time != nil, "report_time", &problems)
        requirePresent(status != nil, "status", &problems)
        guard problems.isEmpty, let vehicle, let time, let status else {
            let rest = status.map { ["\"status\":\(quoted($0))"] } ?? []
            reject(index, start, problems.joined(separator: "; "), record: recordText(vehicle, "report_time", time, rest))
            return
        }
        vehicles.append(vehicle)
        times.append(time)
        labels.append(status)
        report.rows += 1
    }

    private func detectionRecord(_ vehicle: UInt32?, _ time: Int64?, _ dets: [(type: UInt32, value: Int64)]) -> String {
        let ds = dets.map { "{\"object_type\":\(quoted($0.type)),\"object_value\":\($0.value)}" }
        let rest = dets.isEmpty ? [] : ["\"detections\":[" + ds.joined(separator: ",") + "]"]
        return recordText(vehicle, "detection_time", time, rest)
    }

    /// A rejected event's fields that were read, as a JSON object: vehicle and time, then `rest`.
    private func recordText(_ vehicle: UInt32?, _ timeField: String, _ time: Int64?, _ rest: [String]) -> String {
        var fields: [String] = []
        if let vehicle { fields.append("\"vehicle_id\":\(quoted(vehicle))") }
        if let time { fields.append("\"\(timeField)\":\"\(Timestamp.format(time))\"") }
        return "{" + (fields + rest).joined(separator: ",") + "}"
    }

    /// An interned string as a JSON string literal.
    private func quoted(_ id: UInt32) -> String { jsonQuoted(interner.strings[Int(id)]) }
}
