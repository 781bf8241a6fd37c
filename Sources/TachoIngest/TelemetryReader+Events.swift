import TachoFormat
import TachoJSON
import TachoStore

/// Field validation (BRIEF §1, issue #3): vehicle ids 1–128 bytes, labels 1–64 bytes, no
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
    /// A string field: interned when valid, else the reason.
    private func readLabel(_ field: String, max: Int) throws -> (id: UInt32?, problem: String?) {
        let t = try parser.next()
        guard t == .string else {
            if t == .beginObject || t == .beginArray { _ = try skipOpenContainer() }
            return (nil, "\(field) must be a string")
        }
        return parser.withStringBytes { b in
            // An interned string passed the control-character check when it was first seen
            // (invalid ones are never interned); only the length depends on the field.
            if !b.isEmpty && b.count <= max, let id = interner.find(b) { return (id, nil) }
            if let p = FieldRules.problem(b, max: max) { return (nil, "\(field) \(p)") }
            return (interner.intern(b), nil)
        }
    }

    private func readTime(_ field: String) throws -> (time: Int64?, problem: String?) {
        let t = try parser.next()
        guard t == .string else {
            if t == .beginObject || t == .beginArray { _ = try skipOpenContainer() }
            return (nil, "\(field) must be a string")
        }
        if let micros = parser.withStringBytes({ Timestamp.parseMicros($0) }) { return (micros, nil) }
        return (nil, "\(field) \(jsonQuoted(parser.stringValue)) is not an RFC 3339 time or YYYY-MM-DD HH:MM:SS")
    }

    private func readCount(_ field: String) throws -> (value: Int64?, problem: String?) {
        let t = try parser.next()
        guard t == .number else {
            if t == .beginObject || t == .beginArray { _ = try skipOpenContainer() }
            return (nil, "\(field) must be an integer ≥ 0")
        }
        guard let v = parser.asExactInt64, v >= 0 else {
            return (nil, "\(field) must be an integer ≥ 0, found \(parser.withNumberBytes { String(decoding: $0, as: UTF8.self) })")
        }
        return (v, nil)
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
                let r = try readLabel("vehicle_id", max: FieldRules.maxVehicleBytes)
                vehicle = r.id
                if let p = r.problem { problems.append(p) }
            } else if parser.keyEquals("detection_time") {
                let r = try readTime("detection_time")
                time = r.time
                if let p = r.problem { problems.append(p) }
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
                    var ty: UInt32?, val: Int64?, prob: String?
                    while true {
                        let f = try parser.next()
                        if f == .endObject { break }
                        if parser.keyEquals("object_type") {
                            let r = try readLabel("object_type", max: FieldRules.maxLabelBytes)
                            ty = r.id
                            prob = prob ?? r.problem
                        } else if parser.keyEquals("object_value") {
                            let r = try readCount("object_value")
                            val = r.value
                            prob = prob ?? r.problem
                        } else {
                            try parser.skipValue()
                        }
                    }
                    if let ty, let val, prob == nil {
                        appendDetection(ty, val)
                    } else {
                        detProblems.append((k, prob ?? (ty == nil ? "missing object_type" : "missing object_value")))
                    }
                }
            } else if parser.keyEquals("object_type") {
                evSeen = true
                let r = try readLabel("object_type", max: FieldRules.maxLabelBytes)
                evType = r.id
                if let p = r.problem { problems.append(p) }
            } else if parser.keyEquals("object_value") {
                evSeen = true
                let r = try readCount("object_value")
                evValue = r.value
                if let p = r.problem { problems.append(p) }
            } else {
                try parser.skipValue()
            }
        }
        if vehicle == nil && !problems.contains(where: { $0.hasPrefix("vehicle_id") }) { problems.append("missing vehicle_id") }
        if time == nil && !problems.contains(where: { $0.hasPrefix("detection_time") }) { problems.append("missing detection_time") }
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
            reject(index, start, problems.joined(separator: "; "), record: recordText(vehicle, time, dets))
            return
        }
        for (k, why) in detProblems {
            reject(index, start, "detection \(k): \(why)", record: recordText(vehicle, time, []))
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
                let r = try readLabel("vehicle_id", max: FieldRules.maxVehicleBytes)
                vehicle = r.id
                if let p = r.problem { problems.append(p) }
            } else if parser.keyEquals("report_time") {
                let r = try readTime("report_time")
                time = r.time
                if let p = r.problem { problems.append(p) }
            } else if parser.keyEquals("status") {
                let r = try readLabel("status", max: FieldRules.maxLabelBytes)
                status = r.id
                if let p = r.problem { problems.append(p) }
            } else {
                try parser.skipValue()
            }
        }
        for (v, name) in [(vehicle != nil, "vehicle_id"), (time != nil, "report_time"), (status != nil, "status")]
        where !v && !problems.contains(where: { $0.hasPrefix(name) }) {
            problems.append("missing \(name)")
        }
        guard problems.isEmpty, let vehicle, let time, let status else {
            var fields: [String] = []
            if let vehicle { fields.append("\"vehicle_id\":\(jsonQuoted(interner.strings[Int(vehicle)]))") }
            if let time { fields.append("\"report_time\":\"\(Timestamp.formatMillis(time))\"") }
            if let status { fields.append("\"status\":\(jsonQuoted(interner.strings[Int(status)]))") }
            reject(index, start, problems.joined(separator: "; "), record: "{" + fields.joined(separator: ",") + "}")
            return
        }
        vehicles.append(vehicle)
        times.append(time)
        labels.append(status)
        report.rows += 1
    }

    private func recordText(_ vehicle: UInt32?, _ time: Int64?, _ dets: [(type: UInt32, value: Int64)]) -> String {
        var fields: [String] = []
        if let vehicle { fields.append("\"vehicle_id\":\(jsonQuoted(interner.strings[Int(vehicle)]))") }
        if let time { fields.append("\"detection_time\":\"\(Timestamp.formatMillis(time))\"") }
        if !dets.isEmpty {
            let ds = dets.map { "{\"object_type\":\(jsonQuoted(interner.strings[Int($0.type)])),\"object_value\":\($0.value)}" }
            fields.append("\"detections\":[" + ds.joined(separator: ",") + "]")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
