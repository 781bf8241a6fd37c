/// The 128-bit content hash the ledger records for every ingested file (FORMAT.md §5),
/// written as 32 hex digits.
public struct ContentHash: Sendable, Hashable, CustomStringConvertible {
    public var hi: UInt64
    public var lo: UInt64
    public init(hi: UInt64, lo: UInt64) { (self.hi, self.lo) = (hi, lo) }
    public var description: String {
        let a = String(hi, radix: 16), b = String(lo, radix: 16)
        return String(repeating: "0", count: 16 - a.count) + a + String(repeating: "0", count: 16 - b.count) + b
    }
}
