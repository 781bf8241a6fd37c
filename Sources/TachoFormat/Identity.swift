#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Identity and order, decided in one place (FORMAT.md §2.5; LevelDB passes one
/// InternalKeyComparator everywhere for the same reason). Every layer that sorts rows, dedupes
/// them or keys anything by a vehicle id or a string value goes through this file: the writer's
/// buffers and seal, the scan merge, compaction, the latest-status index, every query and the
/// test models.
///
/// * Strings (vehicle ids, object types, statuses) are byte strings: equal when their UTF-8
///   bytes are equal, ordered by those bytes (memcmp, shorter prefix first). Never Swift's
///   `String ==`/`<`, which treat canonically equivalent strings (`"é"` as `c3 a9` and as
///   `65 cc 81`) as one and order by Unicode scalars of the NFC form.
/// * Float64 identity values: `-0.0` and `+0.0` are one value; every NaN is one value, above
///   `+infinity`; all other values in numeric order (`Identity.floatKey`).
/// * Rows: `(vehicle, time, identity columns in schema order)` (`RowComparator`); each
///   column by its type's `ColumnCodec.compare` (bools: false first; string lists string by
///   string, a shorter prefix first); a null before every value.
public enum Identity {
    /// -1, 0 or 1 as the UTF-8 bytes of `a` sort before, equal or after those of `b`.
    @inlinable
    public static func compare(_ a: String, _ b: String) -> Int {
        let r = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb in compareBytes(pa, pb) }
        }
        if let r = r ?? nil { return r }
        // Bridged or otherwise non-contiguous strings (not produced by Tacho itself).
        if a.utf8.elementsEqual(b.utf8) { return 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }

    @inlinable
    public static func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return c < 0 ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    /// Byte equality of two strings (no Unicode normalisation).
    @inlinable
    public static func equal(_ a: String, _ b: String) -> Bool {
        let r = a.utf8.withContiguousStorageIfAvailable { pa in
            b.utf8.withContiguousStorageIfAvailable { pb in
                pa.count == pb.count && (pa.count == 0 || memcmp(pa.baseAddress!, pb.baseAddress!, pa.count) == 0)
            }
        }
        if let r = r ?? nil { return r }
        return a.utf8.elementsEqual(b.utf8)
    }

    @inlinable
    public static func less(_ a: String, _ b: String) -> Bool { compare(a, b) < 0 }

    /// The identity of a float64 value as an integer whose signed order is the identity order:
    /// `-0.0` maps to `+0.0`'s key, every NaN (any sign or payload) to one key above
    /// `+infinity`'s, every other value in numeric order (IEEE 754 totalOrder on the
    /// canonical bit pattern). Two float values are the same identity iff their keys are equal.
    @inlinable @inline(__always)
    public static func floatKey(_ d: Double) -> Int64 {
        var bits = d.bitPattern
        if d == 0 { bits = 0 } else if d.isNaN { bits = 0x7FF8_0000_0000_0000 }
        let s = Int64(bitPattern: bits)
        // Negative values: flip the magnitude bits so larger magnitudes sort lower.
        return s ^ ((s >> 63) & Int64.max)
    }

    @inlinable @inline(__always)
    public static func compare(_ a: Double, _ b: Double) -> Int {
        let x = floatKey(a), y = floatKey(b)
        return x == y ? 0 : (x < y ? -1 : 1)
    }

    @inlinable @inline(__always)
    public static func compare(_ a: Int64, _ b: Int64) -> Int { a == b ? 0 : (a < b ? -1 : 1) }

    /// `strings` sorted by bytes (a stable sort: equal strings keep their order).
    public static func sorted(_ strings: some Sequence<String>) -> [String] {
        strings.sorted { less($0, $1) }
    }
}

/// A string that is equal, hashed and ordered by its UTF-8 bytes (`Identity`): the key type of
/// every set or dictionary of vehicle ids, object types or statuses.
public struct ByteString: Hashable, Comparable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var string: String

    @inlinable public init(_ string: String) { self.string = string }
    @inlinable public init(stringLiteral value: String) { self.string = value }

    public var description: String { string }

    @inlinable public static func == (a: ByteString, b: ByteString) -> Bool { Identity.equal(a.string, b.string) }
    @inlinable public static func < (a: ByteString, b: ByteString) -> Bool { Identity.less(a.string, b.string) }

    @inlinable
    public func hash(into h: inout Hasher) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { h.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil { for b in string.utf8 { h.combine(b) } }
        h.combine(string.utf8.count)
    }
}

extension Set where Element == ByteString {
    /// A byte-keyed set of `strings` (two canonically equivalent but byte-distinct strings stay two).
    @inlinable public init(bytesOf strings: some Sequence<String>) {
        self.init()
        for s in strings { insert(ByteString(s)) }
    }

    @inlinable public func contains(bytesOf s: String) -> Bool { contains(ByteString(s)) }
}

/// Byte order of UTF-8 (`Identity.compare`).
@inlinable public func byteLess(_ a: String, _ b: String) -> Bool { Identity.less(a, b) }

/// Byte equality of UTF-8 (`Identity.equal`).
@inlinable public func byteEqual(_ a: String, _ b: String) -> Bool { Identity.equal(a, b) }

/// Compares rows of one measurement by `(time, identity columns in schema order)`, the order of
/// rows within a vehicle (FORMAT.md §2.5), and tells rows of the same identity apart (result
/// 0). Vehicles are compared separately with `Identity.compare` on their ids. The writer's
/// seal uses a specialised form of this order (rank tables of the same byte order, the same
/// `Identity.floatKey`); a property test checks that the two agree.
public struct RowComparator: Sendable {
    public let measurement: Measurement
    public let identityColumns: [Int]

    public init(_ measurement: Measurement) {
        self.measurement = measurement
        identityColumns = measurement.identityColumns
    }

    /// Row `i` of `a` against row `j` of `b` (decoded chunks of this measurement, with every
    /// identity column decoded).
    @inlinable
    public func compare(_ a: DecodedChunk, _ i: Int, _ b: DecodedChunk, _ j: Int) -> Int {
        let ta = a.times[i], tb = b.times[j]
        if ta != tb { return ta < tb ? -1 : 1 }
        for c in identityColumns {
            let ca = a.columns[c], cb = b.columns[c]
            // Null sorts first (FORMAT.md §2.5); two nulls are one value.
            let na = ca.isNull(i), nb = cb.isNull(j)
            if na || nb {
                if na != nb { return na ? -1 : 1 }
                continue
            }
            let r = ca.type.codec.compare(ca, i, cb, j)
            if r != 0 { return r }
        }
        return 0
    }
}
