import TachoTestSupport
import Testing
@testable import TachoLineProtocol

/// Random records whose names and strings are full of the bytes line protocol escapes.
struct RecordGenerator {
    var rng: SplitMix64
    static let alphabet: [String] = ["a", "b", "z", "0", "9", "_", "-", ".", ",", "=", " ", "\\", "\"", "#", "é", "✓", "t", "i", "u", "'", "\r"]

    mutating func name(nonEmpty: Bool = true, forbid: Set<String> = []) -> String {
        while true {
            let n = Int.random(in: (nonEmpty ? 1 : 0)...8, using: &rng)
            var s = ""
            for _ in 0..<n {
                var c = Self.alphabet.randomElement(using: &rng)!
                if c == "\r" { c = "r" }  // names cannot hold control characters
                s += c
            }
            if !forbid.contains(s) { return s }
        }
    }

    mutating func value() -> LineValue {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            let pick = Int.random(in: 0..<4, using: &rng)
            if pick == 0 { return .float(Double(Int.random(in: -1000...1000, using: &rng))) }
            if pick == 1 { return .float(Double.random(in: -1...1, using: &rng)) }
            var v = Double(bitPattern: rng.next())
            while !v.isFinite { v = Double(bitPattern: rng.next()) }
            return .float(v)
        case 1: return .int(Int64(bitPattern: rng.next()) >> Int.random(in: 0...63, using: &rng))
        case 2: return .uint(rng.next() >> UInt64.random(in: 0...63, using: &rng))
        case 3: return .bool(Bool.random(using: &rng))
        default:
            var s = ""
            for _ in 0..<Int.random(in: 0...12, using: &rng) { s += Self.alphabet.randomElement(using: &rng)! }
            return .string(s)
        }
    }

    mutating func record(precision: LinePrecision) -> LineRecord {
        var measurement = name()
        while measurement.hasPrefix("#") { measurement = name() }
        var used = Set<String>()
        var tags: [(key: String, value: String)] = []
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            let k = name(forbid: used)
            used.insert(k)
            tags.append((k, name()))
        }
        used = []
        var fields: [(key: String, value: LineValue)] = []
        for _ in 0..<Int.random(in: 1...5, using: &rng) {
            let k = name(forbid: used)
            used.insert(k)
            fields.append((k, value()))
        }
        var timestamp: Int64? = nil
        if Bool.random(using: &rng) {
            let unit = precision.nanosecondsPerUnit
            timestamp = Int64.random(in: (Int64.min / unit)...(Int64.max / unit), using: &rng) * unit
        }
        return LineRecord(measurement: measurement, tags: tags, fields: fields, timestamp: timestamp)
    }
}

@Suite("Line protocol writer → parser round trip")
struct LineRoundTripTests {
    @Test(arguments: [1 as UInt64, 2, 3, 4, 5, 6, 7, 8])
    func randomRecordsReadBackEqual(seed: UInt64) throws {
        var gen = RecordGenerator(rng: SplitMix64(seed: seed))
        let precision = LinePrecision.allCases[Int(seed) % 4]
        var writer = LineProtocolWriter(precision: precision)
        var records: [LineRecord] = []
        for i in 0..<300 {
            let r = gen.record(precision: precision)
            try writer.append(r)
            records.append(r)
            if i % 50 == 0 { writer.comment("checkpoint \(i)") }
        }
        let parsed = parseAll(writer.bytes, LineProtocolOptions(precision: precision, chunkSize: 1 + Int(seed) * 13))
        #expect(parsed.count == records.count)
        for (got, want) in zip(parsed, records) {
            switch got {
            case .success(let r): #expect(r == want, "\(String(decoding: writer.bytes, as: UTF8.self))")
            case .failure(let e): Issue.record("\(e) for \(want)")
            }
        }
    }

    @Test func theWriterRefusesWhatCannotBeWritten() {
        var w = LineProtocolWriter()
        #expect(throws: LineWriteError.noFields) { try w.append(LineRecord(measurement: "m", fields: [])) }
        #expect(throws: LineWriteError.leadingHash("#m")) { try w.append(LineRecord(measurement: "#m", fields: [("v", .int(1))])) }
        #expect(throws: LineWriteError.nonFiniteFloat(field: "v")) {
            try w.append(LineRecord(measurement: "m", fields: [("v", .float(.nan))]))
        }
        #expect(throws: LineWriteError.newlineInString(field: "s")) {
            try w.append(LineRecord(measurement: "m", fields: [("s", .string("a\nb"))]))
        }
        #expect(throws: LineWriteError.controlCharacter("tag key")) {
            try w.append(LineRecord(measurement: "m", tags: [("a\tb", "x")], fields: [("v", .int(1))]))
        }
        #expect(throws: LineWriteError.timestampPrecision(1_500, .microseconds)) {
            var us = LineProtocolWriter(precision: .microseconds)
            try us.append(LineRecord(measurement: "m", fields: [("v", .int(1))], timestamp: 1_500))
        }
        #expect(w.bytes.isEmpty)
    }

    @Test func theWriterSpellsTheContractExample() throws {
        var w = LineProtocolWriter()
        try w.append(LineRecord(measurement: "battery", tags: [("vehicle_id", "v1"), ("pack", "A")],
                                fields: [("soc", .float(81.5)), ("temp_c", .int(31))], timestamp: 1_726_293_601_250_000_000))
        try w.append(LineRecord(measurement: "a b,c=d", tags: [("k=", "v ,\\")], fields: [("s", .string("q\"\\"))]))
        #expect(String(decoding: w.bytes, as: UTF8.self) == """
            battery,vehicle_id=v1,pack=A soc=81.5,temp_c=31i 1726293601250000000
            a\\ b\\,c=d,k\\==v\\ \\,\\\\ s="q\\"\\\\"

            """)
    }
}
