/// What a group has seen: count, exact int sum (Int64 plus carry), min and max; the same
/// in Double for float fields; kW samples and kWh readings for energy.
struct Accumulator {
    var count: Int64 = 0
    var sum: Int64 = 0
    /// The true sum is `sum + carry · 2^64`.
    var carry: Int64 = 0
    var min: Int64 = .max
    var max: Int64 = .min
    var dsum = 0.0
    var dmin = Double.infinity
    var dmax = -Double.infinity
    var kwCount: Int64 = 0
    var kwSum = 0.0
    var kwhSum = 0.0

    @inline(__always)
    mutating func add(_ v: Int64) {
        count += 1
        let (s, o) = sum.addingReportingOverflow(v)
        sum = s
        if o { carry += v < 0 ? -1 : 1 }
        if v < min { min = v }
        if v > max { max = v }
    }

    @inline(__always)
    mutating func add(_ v: Double) {
        count += 1
        dsum += v
        if v < dmin { dmin = v }
        if v > dmax { dmax = v }
    }

    /// A power reading: `kWh` false for a kW sample, true for a kWh reading.
    @inline(__always)
    mutating func addEnergy(_ v: Double, kWh: Bool) {
        count += 1
        if kWh { kwhSum += v } else { kwCount += 1; kwSum += v }
    }

    /// Merges what `o` saw; `mode` says which fields are in use (the rest stay untouched).
    @inline(__always)
    mutating func merge(_ o: Accumulator, _ mode: AggregatePlan.Mode) {
        switch mode {
        case .count: count += o.count
        case .int: mergeInt(o)
        case .double:
            count += o.count
            dsum += o.dsum
            if o.dmin < dmin { dmin = o.dmin }
            if o.dmax > dmax { dmax = o.dmax }
        case .energy:
            count += o.count
            kwCount += o.kwCount
            kwSum += o.kwSum
            kwhSum += o.kwhSum
        }
    }

    private mutating func mergeInt(_ o: Accumulator) {
        count += o.count
        let (s, ov) = sum.addingReportingOverflow(o.sum)
        sum = s
        carry += o.carry
        if ov { carry += o.sum < 0 ? -1 : 1 }
        if o.min < min { min = o.min }
        if o.max > max { max = o.max }
    }

    var exactSum: Int64? {
        // The wrapped sum is right when carry is 0.
        carry == 0 ? sum : nil
    }

    var average: Double {
        (Double(carry) * 18_446_744_073_709_551_616.0 + Double(sum)) / Double(count)
    }

    /// kWh of a window `hours` long: mean kW × hours + the kWh readings.
    func energy(hours: Double) -> Double {
        (kwCount > 0 ? kwSum / Double(kwCount) * hours : 0) + kwhSum
    }
}
