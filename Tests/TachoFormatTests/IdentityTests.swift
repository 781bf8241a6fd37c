import Testing
import TachoFormat
import TachoTestSupport

/// `Identity`: the one string and float identity/order of every layer (FORMAT.md §2.5).
@Suite struct IdentityTests {
    /// Byte equality and memcmp order, whatever Swift's `String` says.
    @Test func stringsAreByteStrings() {
        let composed = "\u{E9}", decomposed = "e\u{301}"
        #expect(composed == decomposed)  // Swift: canonically equivalent
        #expect(!Identity.equal(composed, decomposed))
        #expect(ByteString(composed) != ByteString(decomposed))
        #expect(Set(bytesOf: [composed, decomposed, composed]).count == 2)
        #expect([ByteString(composed): 1, ByteString(decomposed): 2].count == 2)
        // "e\u{301}" < "f" by bytes (65 cc 81 < 66), after "f" as a String (NFC é = U+00E9).
        #expect(Identity.less(decomposed, "f") && !(decomposed < "f"))
        #expect(Identity.less("f", composed) && Identity.less("Z", "a"))
        #expect(Identity.less("\u{FFFF}", "😀"))  // ef bf bf < f0 9f 98 80 (UTF-16 order says the opposite)
        #expect(Identity.less("e", decomposed) && Identity.less("", "a") && Identity.compare("ab", "ab") == 0)
        var rng = SplitMix64(state: 3)
        let alphabet: [String] = ["a", "Z", "e", "\u{301}", "\u{E9}", "f", "\u{FFFF}", "😀", "\u{0}", "ß"]
        for _ in 0..<2000 {
            let a = (0..<Int.random(in: 0...3, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
            let b = (0..<Int.random(in: 0...3, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
            let ua = Array(a.utf8), ub = Array(b.utf8)
            #expect(Identity.equal(a, b) == (ua == ub))
            #expect(Identity.less(a, b) == ua.lexicographicallyPrecedes(ub))
            #expect((ByteString(a).hashValue == ByteString(b).hashValue) || ua != ub)
        }
    }

    static let specials: [Double] = [
        0, -0.0, .nan, -.nan, .signalingNaN, Double(bitPattern: 0xFFF8_0000_0000_0001), Double(bitPattern: 0x7FF0_0000_0000_0BAD),
        .infinity, -.infinity, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.1, -0.1,
    ]

    /// The float order is a total order; -0 = +0; all NaNs are one value above +infinity;
    /// other values in numeric order; equal keys exactly for the same identity.
    @Test func floatIdentityIsATotalOrder() {
        var rng = SplitMix64(state: 17)
        var values = Self.specials
        for _ in 0..<300 { values.append(Double(bitPattern: rng.next())) }  // random bit patterns, NaNs included
        for a in values {
            #expect(Identity.compare(a, a) == 0)
            for b in values {
                let c = Identity.compare(a, b)
                #expect(c == -Identity.compare(b, a))
                let same = (a == b) || (a.isNaN && b.isNaN)  // == already says -0 == 0
                #expect((c == 0) == same, "\(a) \(b)")
                if !a.isNaN && !b.isNaN && a != b { #expect((c < 0) == (a < b), "\(a) \(b)") }
                if a.isNaN && !b.isNaN { #expect(c > 0) }
            }
        }
        // Transitivity, on sorted samples: sorting by the comparator gives a non-decreasing sequence.
        let sorted = values.sorted { Identity.compare($0, $1) < 0 }
        for i in sorted.indices.dropFirst() {
            for j in 0..<i { #expect(Identity.compare(sorted[j], sorted[i]) <= 0) }
        }
    }
}
