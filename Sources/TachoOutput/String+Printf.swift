#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Number formatting for output without Foundation's `String(format:)`.
//
// Foundation formatted a Double spec such as `%.2f` by handing it to the C library's
// printf; calling vsnprintf directly keeps every rendering byte-identical (rounding of
// exact binary ties, `%g`'s exponent form such as `1e+06`) at the cost of no dependency.

extension String {
    /// `%.1f`: one decimal (ingest's per-file milliseconds, compaction MB/s).
    public init(format1 v: Double) { self.init(printfDouble: "%.1f", v) }

    /// `%.2f`: two decimals (compaction seconds).
    public init(format2 v: Double) { self.init(printfDouble: "%.2f", v) }

    /// `%g`: shortest of fixed/exponent form, 6 significant digits (`16`, `0.5`, `1e+06`).
    public init(formatG v: Double) { self.init(printfDouble: "%g", v) }

    /// `%.<decimals>f` (decimals 0…17): table output's readable numbers.
    public init(fixed v: Double, decimals: Int) { self.init(printfDouble: "%.\(Swift.min(Swift.max(decimals, 0), 17))f", v) }

    /// One Double through one printf conversion `spec` (a single `%…f`/`%…g`, nothing else).
    private init(printfDouble spec: String, _ v: Double) {
        self = printfDouble(spec, v)
    }
}

private func printfDouble(_ spec: String, _ v: Double) -> String {
    // "%.1f" of the largest Double is 309 digits + ".0"; 512 bytes fit every case.
    var buf = [CChar](repeating: 0, count: 512)
    let n = buf.withUnsafeMutableBufferPointer { b in
        spec.withCString { f in withVaList([v]) { vsnprintf(b.baseAddress, b.count, f, $0) } }
    }
    guard n >= 0 else { return "\(v)" }
    return String(decoding: buf.prefix(min(Int(n), buf.count - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
