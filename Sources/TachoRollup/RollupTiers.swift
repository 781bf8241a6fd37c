import TachoFormat
import TachoQuery
import TachoSchema

extension RollupDeclaration {
    /// This rollup of `measurement` as a tier `AggregateQuery` may read, or nil when `catalog`
    /// does not hold it (declared, never written).
    public func tier(of measurement: String, in catalog: Catalog) -> RollupTier? {
        guard let stored = catalog.measurement(named: storedName(of: measurement)) else { return nil }
        var kept: [String: [String: String]] = [:]
        for c in of {
            for f in valueFunctions where f == .sum || f == .min || f == .max {
                kept[c, default: [:]][f.rawValue] = "\(c)_\(f.rawValue)"
            }
        }
        return RollupTier(name: displayName(of: measurement), stored: stored, width: every.micros, by: by, kept: kept)
    }
}
