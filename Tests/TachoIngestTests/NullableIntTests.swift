import Foundation
import Testing
import TachoFormat
import TachoIngest
import TachoTestSupport

/// Every int64 value round-trips through a nullable int64 column of the JSON reader, the
/// value the reader once used to mark an absent field (0x7FF8_0000_DEAD_BEEF =
/// 9221120240777019119; 9221120237041090287 was named for it) and the extremes included, beside absent fields; also in records that wait for an envelope field that
/// follows their array while such a value arrives (docs/SEMANTICS.md "Optional fields").
@Suite struct NullableIntTests {
    static let measurement = Measurement(id: 9, name: "counts", columns: [
        ColumnSpec("k", .string, identity: true), ColumnSpec("n", .int64, nullable: true), ColumnSpec("m", .int64, nullable: true),
    ])

    static let layout = RecordLayout(
        measurement: measurement, path: [PathStep("counts", item: "count")],
        vehicle: FieldLayout(keys: ["vehicle_id"], input: .string(), rule: FieldRule(maxBytes: 128)),
        time: TimeLayout(keys: ["time"], format: .unixMicros),
        fields: [
            FieldLayout(column: 0, keys: ["k"], scope: .record, input: .string()),
            FieldLayout(column: 1, keys: ["n"], required: false, scope: .record, input: .integer, defaultValue: .null),
            FieldLayout(column: 2, keys: ["m"], required: false, input: .integer, defaultValue: .null),
        ],
        filePrefixes: ["counts"])

    static let marker = Int64(bitPattern: 0x7FF8_0000_DEAD_BEEF)
    static let special: [Int64] = [marker, marker &+ 1, 9_221_120_237_041_090_287, .min, .max, 0, -1, Int64(bitPattern: 0x7FF8_0000_0000_0000)]

    /// Random files: records with n and m present (special or random values) or absent, some
    /// carrying their vehicle, others waiting for the envelope's `vehicle_id` after the array
    /// (and taking `m` from it when the envelope has one); small batches flush mid-file.
    @Test(arguments: 0..<40)
    func everyValueRoundTrips(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        func value() -> Int64? {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1: return nil
            case 2, 3: return Self.special.randomElement(using: &rng)!
            default: return Int64.random(in: .min ... .max, using: &rng)
            }
        }
        let envelopeM = Bool.random(using: &rng) ? Self.special.randomElement(using: &rng)! : nil
        var records: [String] = []
        var want: [ModelRow] = []
        for i in 0..<Int.random(in: 1...60, using: &rng) {
            let n = value(), m = value()
            let own = Bool.random(using: &rng)
            var members = [#""time":\#(1_719_792_000_000_000 + Int64(i))"#, #""k":"k\#(i % 3)""#]
            if own { members.append(#""vehicle_id":"own""#) }
            if let n { members.append(#""n":\#(n)"#) }
            if let m { members.append(#""m":\#(m)"#) }
            members.shuffle(using: &rng)
            records.append("{" + members.joined(separator: ",") + "}")
            let mm = m ?? envelopeM
            want.append(ModelRow(vehicle: own ? "own" : "env", time: 1_719_792_000_000_000 + Int64(i),
                                 values: ["k\(i % 3)", n.map { String($0) } ?? "null", mm.map { String($0) } ?? "null"]))
        }
        var envelope = [#""vehicle_id":"env""#]
        if let envelopeM { envelope.append(#""m":\#(envelopeM)"#) }
        let text = "{\"counts\":[" + records.joined(separator: ",") + "]," + envelope.joined(separator: ",") + "}"
        let r = try readFile(text, name: "counts_\(seed).json", layouts: [Self.layout], batchRows: Int.random(in: 1...8, using: &rng))
        #expect(r.rejects.isEmpty, "\(r.rejects)")
        #expect(r.rows.sorted() == want.sorted(), "seed \(seed)")
    }

    /// The old marker value arrives after absent fields are already buffered (in complete
    /// rows and in rows waiting for the envelope): those stay null, it stays itself.
    @Test func markerValueAfterBufferedNulls() throws {
        let v = Self.marker
        #expect(v == 9_221_120_240_777_019_119)
        let text = """
            {"counts":[
              {"vehicle_id":"a","time":1,"k":"x"},
              {"time":2,"k":"x"},
              {"vehicle_id":"a","time":3,"k":"x","n":\(v),"m":\(v)},
              {"time":4,"k":"x","n":\(v)},
              {"vehicle_id":"a","time":5,"k":"x"}
            ],"vehicle_id":"b"}
            """
        let r = try readFile(text, name: "counts.json", layouts: [Self.layout])
        #expect(r.rows.sorted() == [
            ModelRow(vehicle: "a", time: 1, values: ["x", "null", "null"]),
            ModelRow(vehicle: "a", time: 3, values: ["x", "\(v)", "\(v)"]),
            ModelRow(vehicle: "a", time: 5, values: ["x", "null", "null"]),
            ModelRow(vehicle: "b", time: 2, values: ["x", "null", "null"]),
            ModelRow(vehicle: "b", time: 4, values: ["x", "\(v)", "null"]),
        ].sorted(), "\(r.rows)")
    }
}
