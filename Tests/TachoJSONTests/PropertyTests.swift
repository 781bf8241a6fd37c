import Foundation
import Testing
@testable import TachoJSON
import TachoTestSupport


/// Random JSON values and a serializer that varies whitespace and escaping.
struct DocGenerator {
    var rng: SplitMix64

    mutating func value(depth: Int) -> JValue {
        let pick = Int.random(in: 0..<(depth >= 6 ? 6 : 9), using: &rng)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(int())
        case 3: return .double(double())
        case 4, 5: return .string(string())
        case 6, 7:
            var keys = Set<String>()
            var members: [JValue.Member] = []
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                let k = string()
                if keys.insert(k).inserted { members.append(.init(key: k, value: value(depth: depth + 1))) }
            }
            return .object(members)
        default:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1) })
        }
    }

    mutating func int() -> Int64 {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: return Int64.max - Int64.random(in: 0...1000, using: &rng)
        case 1: return Int64.min + Int64.random(in: 0...1000, using: &rng)
        case 2: return Int64.random(in: -1000...1000, using: &rng)
        case 3: return Int64.random(in: Int64.min...Int64.max, using: &rng)
        default: return Int64.random(in: -(1 << 53)...(1 << 53), using: &rng)
        }
    }

    mutating func double() -> Double {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            // Random finite bit pattern.
            while true {
                let d = Double(bitPattern: rng.next())
                if d.isFinite { return d }
            }
        case 1: return Double(Int.random(in: -100_000...100_000, using: &rng)) / 1000  // telemetry-like
        case 2: return Double.random(in: -180...180, using: &rng)
        default: return Double(Int.random(in: -5...5, using: &rng))  // 3.0-style integral floats
        }
    }

    static let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}",
                                             "\u{7F}", "é", "€", "\u{FFFF}", "😀", "\u{10FFFF}", "中", "\u{2028}"]

    mutating func string() -> String {
        var s = String.UnicodeScalarView()
        let n = Int.random(in: 0...12, using: &rng)
        for _ in 0..<n {
            if Bool.random(using: &rng) {
                s.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
            } else {
                s.append(Self.alphabet.randomElement(using: &rng)!)
            }
        }
        return String(s)
    }

    mutating func ws() -> String {
        ["", "", " ", "\n", "\r\n  ", "\t"].randomElement(using: &rng)!
    }

    mutating func serialize(_ v: JValue, into out: inout String) {
        out += ws()
        switch v {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += "\(i)"
        case .double(let d):
            var s = "\(d)"  // shortest round-trip form, e.g. 1e-05, 5.0, -0.0
            if Bool.random(using: &rng), let e = s.firstIndex(of: "e") {
                s.replaceSubrange(e...e, with: "E")
            }
            out += s
        case .string(let s): serialize(string: s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ws() + "," }
                serialize(item, into: &out)
                out += ws()
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, m) in members.enumerated() {
                if i > 0 { out += "," }
                out += ws()
                serialize(string: m.key, into: &out)
                out += ws() + ":"
                serialize(m.value, into: &out)
                out += ws()
            }
            out += "}"
        }
        out += ws()
    }

    mutating func serialize(string s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            let forceEscape = u.value < 0x20 || u == "\"" || u == "\\"
            if forceEscape || Int.random(in: 0..<4, using: &rng) == 0 {
                switch (u, Bool.random(using: &rng)) {
                case ("\"", true): out += "\\\""
                case ("\\", true): out += "\\\\"
                case ("\n", true): out += "\\n"
                case ("\t", true): out += "\\t"
                case ("/", true): out += "\\/"
                default:
                    for unit in String(u).utf16 {
                        let hex = String(unit, radix: 16, uppercase: Bool.random(using: &rng))
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    }
                }
            } else {
                out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}

/// Compares our tree with Foundation's (objects as dictionaries: keys are unique).
func agrees(_ v: JValue, _ any: Any) -> Bool {
    switch v {
    case .null: return any is NSNull
    case .bool(let b): return (any as? Bool) == b
    case .string(let s): return (any as? String) == s
    case .int(let i): return (any as? NSNumber)?.int64Value == i
    case .double(let d):
        guard let n = any as? NSNumber else { return false }
        if n is NSDecimalNumber {
            // Linux Foundation returns long literals as NSDecimalNumber, whose doubleValue is
            // not correctly rounded; exactness is checked against the ground truth instead.
            return abs(n.doubleValue - d) <= 8 * max(n.doubleValue.ulp, d.ulp)
        }
        return n.doubleValue == d
    case .array(let items):
        guard let a = any as? [Any], a.count == items.count else { return false }
        return zip(items, a).allSatisfy { agrees($0, $1) }
    case .object(let members):
        guard let o = any as? [String: Any], o.count == members.count else { return false }
        return members.allSatisfy { m in o[m.key].map { agrees(m.value, $0) } ?? false }
    }
}

@Suite struct PropertyTests {
    @Test(arguments: 0..<8)
    func randomDocumentsAgreeWithGroundTruthAndFoundation(_ seedIndex: Int) throws {
        var gen = DocGenerator(rng: SplitMix64(seed: 0x7AC0 + UInt64(seedIndex)))
        for _ in 0..<60 {
            let truth: JValue = Bool.random(using: &gen.rng)
                ? .object([.init(key: gen.string(), value: gen.value(depth: 1))])
                : .array([gen.value(depth: 1), gen.value(depth: 1)])
            var text = ""
            gen.serialize(truth, into: &text)
            let bytes = Array(text.utf8)
            for chunk in [1, 2, 7, 64 * 1024] {
                let parsed = try parseDocument(bytes, options: JSONParserOptions(chunkSize: chunk))
                #expect(parsed == truth, "chunk \(chunk): \(text)")
            }
            let oracle = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            #expect(agrees(truth, oracle), "Foundation disagrees on \(text)")
        }
    }

    /// Every token's position is its first byte, with that byte's line and column, whatever
    /// the chunk size: the parser takes a `:` or `,` right after a key or value early, and
    /// that must not move a reported position.
    @Test(arguments: 0..<4)
    func tokenPositionsPointAtTheirFirstByte(_ seedIndex: Int) throws {
        var gen = DocGenerator(rng: SplitMix64(seed: 0x9051 + UInt64(seedIndex)))
        for _ in 0..<40 {
            let truth: JValue = .array([gen.value(depth: 1), .object([.init(key: gen.string(), value: gen.value(depth: 1))])])
            var text = ""
            gen.serialize(truth, into: &text)
            let bytes = Array(text.utf8)
            var lineStarts = [0]
            for (i, b) in bytes.enumerated() where b == 0x0A { lineStarts.append(i + 1) }
            for chunk in [1, 2, 7, 64 * 1024] {
                let p = JSONParser(bytes: bytes, options: JSONParserOptions(chunkSize: chunk))
                while true {
                    let t = try p.next()
                    if t == .endOfDocument { break }
                    let at = p.position
                    let first: Set<UInt8>
                    switch t {
                    case .beginObject: first = [UInt8(ascii: "{")]
                    case .endObject: first = [UInt8(ascii: "}")]
                    case .beginArray: first = [UInt8(ascii: "[")]
                    case .endArray: first = [UInt8(ascii: "]")]
                    case .key, .string: first = [UInt8(ascii: "\"")]
                    case .number: first = Set(Array("-0123456789".utf8))
                    case .bool(let b): first = [UInt8(ascii: b ? "t" : "f")]
                    default: first = [UInt8(ascii: "n")]
                    }
                    try #require(at.offset < bytes.count && first.contains(bytes[at.offset]), "chunk \(chunk): \(t) at \(at.offset) in \(text)")
                    let line = lineStarts.lastIndex { $0 <= at.offset }! + 1
                    #expect(at.line == line && at.column == at.offset - lineStarts[line - 1] + 1, "chunk \(chunk): \(t) at \(at) in \(text)")
                }
            }
        }
    }

    @Test func integralFloatsAreDistinguishable() throws {
        let p = JSONParser(bytes: Array("[3, 3.0, 3.5, 1.5e1, -0.0, 1e19, 9223372036854775807.0, 4.0E-0, 120e-1, 0.000e5, -9223372036854775808e0]".utf8))
        _ = try p.next()
        var seen: [(Bool, Int64?, Int64?, Double)] = []
        while try p.next() == .number { seen.append((p.isInteger, p.int64Value, p.asExactInt64, p.doubleValue)) }
        #expect(seen.map(\.0) == [true, false, false, false, false, false, false, false, false, false, false])
        #expect(seen.map(\.1) == [3, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil])
        #expect(seen.map(\.2) == [3, 3, nil, 15, 0, nil, .max, 4, 12, 0, .min])
        #expect(seen.map(\.3) == [3, 3, 3.5, 15, -0.0, 1e19, 9223372036854775807.0, 4, 12, 0, -9223372036854775808.0])
        #expect(seen[4].3.sign == .minus)
    }

    @Test func doublesRoundTripExactly() throws {
        var rng = SplitMix64(seed: 42)
        var values: [Double] = [.leastNonzeroMagnitude, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1e22, 1e23,
                                9_007_199_254_740_994, .greatestFiniteMagnitude, -.leastNormalMagnitude]
        for _ in 0..<5000 {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { values.append(d) }
        }
        let text = "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
        let p = JSONParser(bytes: Array(text.utf8), options: JSONParserOptions(chunkSize: 7))
        _ = try p.next()
        var i = 0
        while try p.next() == .number {
            #expect(p.doubleValue.bitPattern == values[i].bitPattern, "\(values[i])")
            i += 1
        }
        #expect(i == values.count)
    }
}
