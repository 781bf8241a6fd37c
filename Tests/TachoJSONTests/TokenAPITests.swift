import Testing
@testable import TachoJSON
import TachoTestSupport

/// A source that produces a long telemetry-like array on the fly (never held in memory).
struct GeneratedSource: JSONByteSource {
    let records: Int
    var emitted = 0
    var pending: [UInt8] = Array("{\"objects_detection_events\":[".utf8)
    var pendingOffset = 0
    var finished = false

    init(records: Int) { self.records = records }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var n = 0
        while n < buffer.count {
            if pendingOffset == pending.count {
                if finished { break }
                pendingOffset = 0
                if emitted == records {
                    pending = Array("]}".utf8)
                    finished = true
                } else {
                    let sep = emitted == 0 ? "" : ",\n"
                    pending = Array("""
                    \(sep){"vehicle_id":"veh\(emitted % 97)","detection_time":"2022-06-05T21:02:34.546Z",\
                    "detections":[{"object_type":"cars","object_value":\(emitted % 13)},\
                    {"object_type":"caf\\u00e9 \(emitted)","object_value":-1.5e2}]}
                    """.utf8)
                    emitted += 1
                }
            }
            let k = min(buffer.count - n, pending.count - pendingOffset)
            for j in 0..<k { buffer[n + j] = pending[pendingOffset + j] }
            n += k
            pendingOffset += k
        }
        return n
    }
}

@Suite struct TokenAPITests {
    @Test func tokenSequenceAndPositions() throws {
        let doc = "{\n  \"a\": [1, -2.5, \"x\"],\n  \"b\": {\"c\": true, \"d\": null}\n}"
        let p = JSONParser(bytes: Array(doc.utf8))
        var seen: [String] = []
        while true {
            let t = try p.next()
            let pos = p.position
            seen.append("\(t)@\(pos.line):\(pos.column)/\(pos.offset)")
            if t == .endOfDocument { break }
        }
        #expect(seen == [
            "beginObject@1:1/0", "key@2:3/4", "beginArray@2:8/9", "number@2:9/10", "number@2:12/13",
            "string@2:18/19", "endArray@2:21/22", "key@3:3/27", "beginObject@3:8/32", "key@3:9/33",
            "bool(true)@3:14/38", "key@3:20/44", "null@3:25/49", "endObject@3:29/53", "endObject@4:1/55",
            "endOfDocument@4:2/56",
        ])
        #expect(try p.next() == .endOfDocument)  // idempotent
    }

    @Test func unescapedStringsAreSlicesOfTheChunkAndEscapedOnesUseScratch() throws {
        let p = JSONParser(bytes: Array(#"["plain", "esc\"aped", "é"]"#.utf8))
        _ = try p.next()
        #expect(try p.next() == .string)
        let inChunk = p.withStringBytes { b in
            b.baseAddress.map { UnsafeRawPointer(p.buf) <= $0 && $0 < UnsafeRawPointer(p.buf + p.bufCapacity) } ?? false
        }
        #expect(inChunk)
        #expect(p.stringValue == "plain")
        #expect(try p.next() == .string)
        let inScratch = p.withStringBytes { $0.baseAddress == UnsafeRawPointer(p.scratch) }
        #expect(inScratch)
        #expect(p.stringValue == "esc\"aped")
        #expect(try p.next() == .string)
        #expect(p.withStringBytes { Array($0) } == [0xC3, 0xA9])
    }

    @Test func keyEqualsComparesDecodedBytes() throws {
        let p = JSONParser(bytes: Array(#"{"vehicle_id":1,"vehicle_i":2,"vehicle_id2":3,"v\u0065hicle_id":4,"":5}"#.utf8),
                           options: JSONParserOptions(chunkSize: 5))
        _ = try p.next()
        var matches: [Bool] = []
        var empties: [Bool] = []
        while try p.next() == .key {
            matches.append(p.keyEquals("vehicle_id"))
            empties.append(p.keyEquals(""))
            let equalBytes = Array("vehicle_id".utf8).withUnsafeBytes { p.stringEquals($0) }
            #expect(equalBytes == matches.last)
            _ = try p.next()
        }
        #expect(matches == [true, false, false, true, false])
        #expect(empties == [false, false, false, false, true])
    }

    @Test func skipValueSkipsWholeValuesIteratively() throws {
        let doc = #"{"skip":{"a":[1,{"b":[[]]}],"c":"}"},"keep":7,"arr":[[1],2,{"x":[]}]}"#
        let p = JSONParser(bytes: Array(doc.utf8), options: JSONParserOptions(chunkSize: 3))
        #expect(try p.next() == .beginObject)
        #expect(try p.next() == .key)
        #expect(try p.skipValue())
        #expect(try p.next() == .key && p.keyEquals("keep"))
        #expect(try p.next() == .number && p.int64Value == 7)
        #expect(try p.skipValue())  // skips the key "arr" and its array
        #expect(try p.skipValue() == false)  // consumes '}'
        #expect(p.depth == 0)
        #expect(try p.next() == .endOfDocument)
        // Inside an array: skip elements until the end.
        let q = JSONParser(bytes: Array("[1,[2,3],{\"a\":4},\"s\"]".utf8))
        _ = try q.next()
        var skipped = 0
        while try q.skipValue() { skipped += 1 }
        #expect(skipped == 4)
        #expect(try q.next() == .endOfDocument)
        // skipValue still validates what it skips.
        let r = JSONParser(bytes: Array("[{\"a\":[1,,2]}]".utf8))
        _ = try r.next()
        #expect(throws: JSONError.self) { try r.skipValue() }
    }

    @Test func skipToEndOfContainer() throws {
        let p = JSONParser(bytes: Array(#"[{"a":1,"b":[2,{"c":3}],"d":4},{"e":5},6]"#.utf8))
        #expect(try p.next() == .beginArray)
        #expect(try p.next() == .beginObject)
        #expect(try p.next() == .key && p.keyEquals("a"))
        try p.skipToEndOfContainer()  // rest of the first object
        #expect(p.depth == 1)
        #expect(try p.next() == .beginObject)
        try p.skipToEndOfContainer()  // right after '{'
        #expect(try p.next() == .number && p.int64Value == 6)
        try p.skipToEndOfContainer()  // consumes ']'
        #expect(p.depth == 0)
        #expect(try p.next() == .endOfDocument)
        #expect(JSONToken.bool(true) != .bool(false) && JSONToken.bool(true) == .bool(true) && JSONToken.key != .string)
    }

    @Test func numbersAcrossChunkBoundaries() throws {
        let doc = "[123456789012345678, -0.000123e-7, 9223372036854775807, 1E+2, 0]"
        for chunk in 1...12 {
            let p = JSONParser(bytes: Array(doc.utf8), options: JSONParserOptions(chunkSize: chunk))
            _ = try p.next()
            var values: [String] = []
            while try p.next() == .number {
                values.append(p.isInteger ? "i\(p.int64Value!)" : "d\(p.doubleValue)")
                let literal = p.withNumberBytes { String(decoding: $0, as: UTF8.self) }
                #expect(doc.contains(literal))
            }
            #expect(values == ["i123456789012345678", "d-1.23e-11", "i9223372036854775807", "d100.0", "i0"])
        }
    }

    @Test func memoryStaysBoundedOnALongGeneratedStream() throws {
        let records = 60_000  // ~11 MB of JSON, generated on the fly
        let p = JSONParser(source: GeneratedSource(records: records), options: JSONParserOptions(chunkSize: 64 * 1024))
        var events = 0
        var cafe = 0
        var sum: Int64 = 0
        while true {
            let t = try p.next()
            if t == .endOfDocument { break }
            if t == .key && p.keyEquals("vehicle_id") { events += 1 }
            if t == .string && p.withStringBytes({ $0.starts(with: [0x63, 0x61, 0x66, 0xC3, 0xA9]) }) { cafe += 1 }
            if t == .number, let v = p.asExactInt64 { sum += v }
            #expect(p.depth <= 5)
        }
        #expect(events == records)
        #expect(cafe == records)
        var expectedSum: Int64 = 0
        for i in 0..<records { expectedSum += Int64(i % 13) - 150 }
        #expect(sum == expectedSum)
        #expect(p.bytesConsumed > 10_000_000)
        #expect(p.scratchCap <= 256)  // only short escaped strings were copied
        #expect(p.stack.count == 0)
    }

    @Test func longStringsSpanningChunksAreCopiedIntact() throws {
        var rng = SplitMix64(seed: 99)
        let pieces = ["a", "é", "€", "😀", "\\n", "\\u00e9", "\\ud83d\\ude00"]
        let expected = ["a", "é", "€", "😀", "\n", "é", "😀"]
        var json = "\""
        var want = ""
        for _ in 0..<20_000 {
            let k = Int.random(in: 0..<pieces.count, using: &rng)
            json += pieces[k]
            want += expected[k]
        }
        json += "\""
        for chunk in [1, 3, 4096] {
            let p = JSONParser(bytes: Array(json.utf8), options: JSONParserOptions(chunkSize: chunk))
            #expect(try p.next() == .string)
            #expect(p.stringValue == want)
            #expect(try p.next() == .endOfDocument)
        }
    }

    @Test func fileDescriptorSourceReadsAFileByPathAndByDescriptor() throws {
        let path = Fixtures.path("mobileye-flat/vehicles_status_20240703T220234.json")
        let p = try JSONParser(path: path, options: JSONParserOptions(chunkSize: 16))
        let n = try countTokens(p)
        #expect(n == 1 + 1 + 1 + 3 * 8 + 1 + 1)
        let src = try FileDescriptorSource(path: path)
        let q = JSONParser(source: FileDescriptorSource(fd: src.fd, path: path))
        #expect(try countTokens(q) == n)
    }
}
