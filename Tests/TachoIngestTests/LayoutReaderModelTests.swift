import Foundation
import Testing
import TachoFormat
import TachoIngest
import TachoJSON
import TachoStore
import TachoTestSupport

/// Random records of every built-in layout → bytes (nested, flat, envelope fields before and
/// after their array, NDJSON) → `LayoutReader` → exactly the rows and rejects a simple model
/// expects (docs/SEMANTICS.md §1, "Reading records").
@Suite struct LayoutReaderModelTests {
    /// The model's verdict on one element of the first array.
    struct Expect {
        var rows: [ModelRow] = []
        var rejects: [ModelReject] = []
    }

    /// A one-level record (status, locations, alarms; power samples in NDJSON): its fields in
    /// a random order, some broken or left out. `inherited` names the fields that a missing
    /// value is reported for last ("missing …", once nothing else is wrong): with records one
    /// level deep, every field may come from the document (docs/CONFIG.md), so all of them.
    static func flatRecord(
        _ d: inout Dice, index: Int, fields: [GenField], inherited: Set<String>, optional: [String: String] = [:]
    ) -> (json: String, expect: Expect) {
        var kept: [GenField] = []
        for f in fields where !d.chance(0.05) { kept.append(f) }
        kept = d.shuffled(kept)
        let present = Set(kept.map(\.key))
        var problems = kept.compactMap(\.problem)
        let missing = fields.map(\.key).filter { !present.contains($0) && optional[$0] == nil }
        problems += missing.filter { !inherited.contains($0) }.map { "missing \($0)" }
        var e = Expect()
        if !problems.isEmpty {
            e.rejects = [ModelReject(index: index, reason: problems.joined(separator: "; "))]
        } else if missing.contains(where: inherited.contains) {
            e.rejects = [ModelReject(index: index, reason: missing.filter(inherited.contains).map { "missing \($0)" }.joined(separator: "; "))]
        } else {
            let value = { (k: String) in kept.first { $0.key == k }?.value ?? optional[k] ?? "" }
            e.rows = [ModelRow(vehicle: value(fields[0].key), time: Int64(value(fields[1].key)) ?? 0, values: fields.dropFirst(2).map { value($0.key) })]
        }
        return (object(kept), e)
    }

    static func check(_ r: ReadResult, _ expect: [Expect], _ label: String) {
        let rows = expect.flatMap(\.rows), rejects = expect.flatMap(\.rejects)
        #expect(r.rows.sorted() == rows.sorted(), "\(label): read, not expected \(Set(r.rows).subtracting(rows)); expected, not read \(Set(rows).subtracting(r.rows))")
        #expect(r.rejects.sorted() == rejects.sorted(), "\(label): read, not expected \(Set(r.rejects).subtracting(rejects)); expected, not read \(Set(rejects).subtracting(r.rejects))")
        #expect(r.report.rows == rows.count && r.report.rejectCount == rejects.count, "\(label)")
    }

    @Test(arguments: 0..<12)
    func statusLocationsAndAlarms(seed: UInt64) throws {
        var d = Dice(seed)
        for (layout, prefix) in [(RecordLayout.status, "vehicles_status"), (.locations, "locations"), (.alarms, "alarms")] {
            let vkey = layout.vehicle.name, tkey = layout.time.name
            var lines: [String] = [], expect: [Expect] = []
            for i in 0..<d.int(0...40) {
                var fields = [Gen.vehicle(&d, key: vkey, numbers: vkey != "vehicle_id"), Gen.time(&d, key: tkey).0]
                var optional: [String: String] = [:]
                switch layout.measurement.name {
                case "status": fields.append(Gen.label(&d, key: "status", ["driving", "parking", "accident"]))
                case "locations":
                    fields.append(Gen.number(&d, key: "lat", -90...90, rule: "≥ -90 and ≤ 90"))
                    fields.append(Gen.number(&d, key: "lon", -180...180, rule: "≥ -180 and ≤ 180"))
                    fields.append(Gen.number(&d, key: "speed_kmh", 0...200, rule: "≥ 0"))
                    fields.append(Gen.number(&d, key: "heading", 0...360, rule: "≥ 0 and ≤ 360"))
                default:
                    fields.append(Gen.label(&d, key: "alarm_type", ["harsh_braking", "collision"]))
                    fields.append(Gen.count(&d, key: "severity"))
                    let files = (0..<d.int(0...2)).map { "\(i)/clip_\($0).mp4" }
                    fields.append(
                        d.chance(0.1)
                            ? GenField(key: "files", json: "[\"a\",1]", problem: "files element 1 must be a string")
                            : GenField(key: "files", json: "[" + files.map(jsonQuoted).joined(separator: ",") + "]", value: files.joined(separator: ";")))
                    optional["files"] = "null"  // a nullable list: absent is null, [] the empty list
                }
                if d.chance(0.03) {
                    lines.append("42")
                    expect.append(Expect(rejects: [ModelReject(index: i, reason: "expected \("aeiou".contains(layout.path[0].item.prefix(1)) ? "an" : "a") \(layout.path[0].item) object")]))
                    continue
                }
                let (json, e) = Self.flatRecord(&d, index: i, fields: fields, inherited: Set(fields.map(\.key)), optional: optional)
                lines.append(json)
                expect.append(e)
            }
            let batch = d.pick([2, 5, 65_536])
            let doc = "{\"\(layout.topLevelKey)\":[\n" + lines.joined(separator: ",\n") + "\n]}"
            Self.check(try readFile(doc, name: "\(prefix)_x.json", layouts: RecordLayout.builtin, batchRows: batch), expect, "\(prefix) json seed \(seed)")
            if !lines.isEmpty {
                let nd = lines.joined(separator: "\n") + "\n"
                Self.check(try readFile(nd, name: "\(prefix)_x.ndjson", layouts: RecordLayout.builtin, batchRows: batch), expect, "\(prefix) ndjson seed \(seed)")
            }
        }
    }

    /// Events nested or flat, keys in any order (the `detections` array before or after the
    /// event's vehicle and time); broken fields at both levels.
    @Test(arguments: 0..<16)
    func detectionsNestedAndFlat(seed: UInt64) throws {
        var d = Dice(seed &+ 1000)
        var events: [String] = [], expect: [Expect] = []
        for i in 0..<d.int(0...40) {
            if d.chance(0.03) {
                events.append("[1]")
                expect.append(Expect(rejects: [ModelReject(index: i, reason: "expected an event object")]))
                continue
            }
            var head: [GenField] = []
            let vehicle = Gen.vehicle(&d, key: "vehicle_id"), time = Gen.time(&d, key: "detection_time").0
            if !d.chance(0.05) { head.append(vehicle) }
            if !d.chance(0.05) { head.append(time) }
            let lacking = [vehicle, time].filter { f in !head.contains { $0.key == f.key } }.map { "missing \($0.key)" }
            var e = Expect()
            let types = ["cars", "pedestrians", "signs", "trucks"]
            if d.chance(0.6) {
                // Nested.
                var dets: [String] = [], rows: [ModelRow] = [], detRejects: [ModelReject] = []
                for k in 0..<d.int(0...3) {
                    if d.chance(0.05) {
                        dets.append("5")
                        detRejects.append(ModelReject(index: i, reason: "detection \(k): detection must be an object"))
                        continue
                    }
                    let ty = Gen.label(&d, key: "object_type", types), val = Gen.count(&d, key: "object_value")
                    var fs = d.shuffled([ty, val].filter { _ in !d.chance(0.05) })
                    if d.chance(0.1) { fs = d.shuffled(fs) }
                    let present = Set(fs.map(\.key))
                    let problems = fs.compactMap(\.problem) + ["object_type", "object_value"].filter { !present.contains($0) }.map { "missing \($0)" }
                    dets.append(object(fs, extra: d.chance(0.1) ? ["\"note\":{\"x\":[1]}"] : []))
                    if let p = problems.first {
                        detRejects.append(ModelReject(index: i, reason: "detection \(k): \(p)"))
                    } else if let v = vehicle.value, let t = time.value, let ty = ty.value, let val = val.value {
                        rows.append(ModelRow(vehicle: v, time: Int64(t) ?? 0, values: [ty, val]))
                    }
                }
                let members = d.shuffled(head.map { "\(jsonQuoted($0.key)):\($0.json)" } + ["\"detections\":[" + dets.joined(separator: ",") + "]"])
                events.append("{" + members.joined(separator: ",") + "}")
                let eventProblems = members.compactMap { m in head.first { m.hasPrefix(jsonQuoted($0.key)) }?.problem }
                if !eventProblems.isEmpty {
                    e.rejects = [ModelReject(index: i, reason: eventProblems.joined(separator: "; "))]
                } else {
                    e.rejects = detRejects
                    let valid = dets.indices.count - detRejects.count
                    if valid > 0 && !lacking.isEmpty {
                        e.rejects.append(ModelReject(index: i, reason: lacking.joined(separator: "; ")))
                    } else {
                        e.rows = rows
                    }
                }
            } else {
                // Flat: the event is the record.
                let ty = Gen.label(&d, key: "object_type", types), val = Gen.count(&d, key: "object_value")
                let own = [ty, val].filter { _ in !d.chance(0.08) }
                let fs = d.shuffled(head + own)
                events.append(object(fs))
                var problems = fs.compactMap(\.problem)
                if own.isEmpty {
                    if problems.isEmpty { problems = ["missing detections (or object_type and object_value)"] }
                } else if own.count == 1 && problems.isEmpty {
                    problems = ["missing \(own[0].key == "object_type" ? "object_value" : "object_type")"]
                }
                if !problems.isEmpty {
                    e.rejects = [ModelReject(index: i, reason: problems.joined(separator: "; "))]
                } else if !lacking.isEmpty {
                    e.rejects = [ModelReject(index: i, reason: lacking.joined(separator: "; "))]
                } else if let v = vehicle.value, let t = time.value, let a = ty.value, let b = val.value {
                    e.rows = [ModelRow(vehicle: v, time: Int64(t) ?? 0, values: [a, b])]
                }
            }
            expect.append(e)
        }
        let batch = d.pick([1, 3, 65_536])
        let doc = "{\"objects_detection_events\":[\n" + events.joined(separator: ",\n") + "\n]}"
        Self.check(try readFile(doc, name: "objects_detection_1.json", layouts: [.detections, .status], batchRows: batch), expect, "json seed \(seed)")
        if !events.isEmpty {
            let nd = events.joined(separator: "\n")
            Self.check(try readFile(nd, name: "objects_detection_1.jsonl", layouts: [.detections, .status], batchRows: batch), expect, "jsonl seed \(seed)")
        }
    }

    /// Power documents: `spaceship_id` and `units` before, after or around `data`, valid,
    /// broken or missing; the same samples as NDJSON lines carrying their own envelope.
    @Test(arguments: 0..<16)
    func powerEnvelopeBeforeOrAfterData(seed: UInt64) throws {
        var d = Dice(seed &+ 2000)
        let ship: GenField? = d.chance(0.1) ? nil : d.pick([
            GenField(key: "spaceship_id", json: "\"ship-07\"", value: "ship-07"),
            GenField(key: "spaceship_id", json: "7", value: "7"),
            GenField(key: "spaceship_id", json: "\"\"", problem: "spaceship_id is empty"),
            GenField(key: "spaceship_id", json: "1.5", problem: "spaceship_id must be a string or an integer"),
        ])
        let units: GenField? = d.chance(0.1) ? nil : d.pick([
            GenField(key: "units", json: "\"kW\"", value: "kW"),
            GenField(key: "units", json: "\"kWh\"", value: "kWh"),
            GenField(key: "units", json: "\"MW\"", problem: "units must be one of \"kW\", \"kWh\", found \"MW\""),
        ])
        let envelope = [ship, units].compactMap { $0 }
        var samples: [String] = [], ndLines: [String] = [], expect: [Expect] = [], ndExpect: [Expect] = []
        for i in 0..<d.int(0...30) {
            let tkey = d.pick(["timestamp", "datetime"])
            // Messages name a field by its first key, whichever key the input used.
            var (time, _) = Gen.time(&d, key: "timestamp")
            time.key = tkey
            let value = Gen.number(&d, key: "value", 0...100, rule: "≥ 0")
            let own = d.shuffled([time, value].filter { _ in !d.chance(0.05) })
            samples.append(object(own))
            let present = Set(own.map(\.key))
            // Every field may come from the document (one-level records): what nothing
            // supplies is reported last, in column order (vehicle, time, value, units).
            let missing = [
                ship == nil ? "missing spaceship_id" : nil, present.contains(tkey) ? nil : "missing timestamp",
                present.contains("value") ? nil : "missing value", units == nil ? "missing units" : nil,
            ].compactMap { $0 }
            let row = { () -> [ModelRow] in
                guard let s = ship?.value, let u = units?.value, let t = time.value, let v = value.value else { return [] }
                return [ModelRow(vehicle: s, time: Int64(t) ?? 0, values: [v, u])]
            }
            // In a document: the sample's own problems, else the envelope's (the id's first).
            var e = Expect()
            let problems = own.compactMap(\.problem)
            if !problems.isEmpty {
                e.rejects = [ModelReject(index: i, reason: problems.joined(separator: "; "))]
            } else if let p = ship?.problem ?? units?.problem {
                e.rejects = [ModelReject(index: i, reason: p)]
            } else if !missing.isEmpty {
                e.rejects = [ModelReject(index: i, reason: missing.joined(separator: "; "))]
            } else {
                e.rows = row()
            }
            expect.append(e)
            // As an NDJSON line the envelope is part of the record: one list of problems in
            // key order.
            let line = d.shuffled(own + envelope)
            ndLines.append(object(line))
            var nd = Expect()
            let lineProblems = line.compactMap(\.problem)
            if !lineProblems.isEmpty {
                nd.rejects = [ModelReject(index: i, reason: lineProblems.joined(separator: "; "))]
            } else if !missing.isEmpty {
                nd.rejects = [ModelReject(index: i, reason: missing.joined(separator: "; "))]
            } else {
                nd.rows = row()
            }
            ndExpect.append(nd)
        }
        var members = ["\"data\":[\n" + samples.joined(separator: ",\n") + "\n]"]
        for f in envelope {
            members.insert("\(jsonQuoted(f.key)):\(f.json)", at: d.int(0...members.count))
        }
        let doc = "{" + members.joined(separator: ",\n") + "}"
        let batch = d.pick([1, 4, 65_536])
        Self.check(try readFile(doc, name: "power_\(seed).json", layouts: RecordLayout.builtin, batchRows: batch), expect, "json seed \(seed): \(doc.prefix(300))")
        if !ndLines.isEmpty {
            let nd = ndLines.joined(separator: "\n")
            Self.check(try readFile(nd, name: "power_\(seed).ndjson", layouts: RecordLayout.builtin, batchRows: batch), ndExpect, "ndjson seed \(seed)")
        }
    }
}
