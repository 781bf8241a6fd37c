// Deterministic pseudo-random numbers: SplitMix64 for seeding, xoshiro256** for streams.
// No Foundation or system randomness, so the same options always give the same bytes.

/// SplitMix64 (Steele, Lea, Flood 2014). Used to expand one seed into many stream states.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman, Vigna 2018): fast, 256-bit state, good statistical quality.
struct Xoshiro256 {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A stream identified by (seed, stream, substream); distinct triples give independent streams.
    init(seed: UInt64, stream: UInt64, substream: UInt64 = 0) {
        var mix = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ (substream &* 0x8CB9_2BA7_2F3D_8DD7))
        // Burn a few outputs so nearby seeds diverge immediately.
        _ = mix.next()
        s0 = mix.next(); s1 = mix.next(); s2 = mix.next(); s3 = mix.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) <<> 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 <<> 45
        return result
    }

    /// Uniform in 0..<bound (Lemire's multiply-high; the tiny bias is irrelevant here).
    @inline(__always)
    mutating func below(_ bound: UInt64) -> UInt64 {
        next().multipliedFullWidth(by: bound).high
    }

    /// Uniform in the closed range.
    @inline(__always)
    mutating func int(in range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(bitPattern: below(UInt64(range.upperBound - range.lowerBound) + 1))
    }

    /// True with the given probability, expressed as a threshold from `Chance`.
    @inline(__always)
    mutating func chance(_ c: Chance) -> Bool { next() < c.threshold }

    /// Uniform double in [0, 1) with 53 random bits.
    @inline(__always)
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// A probability pre-converted to a 64-bit threshold so draws are one compare.
struct Chance {
    let threshold: UInt64

    init(_ p: Double) {
        if p <= 0 { threshold = 0 } else if p >= 1 { threshold = .max } else {
            threshold = UInt64(p * 0x1.0p64)
        }
    }
}

infix operator <<> : BitwiseShiftPrecedence

@inline(__always)
func <<> (x: UInt64, k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
