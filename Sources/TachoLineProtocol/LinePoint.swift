#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// One parsed line, held in a struct the caller reuses: no heap traffic per line once warm.

/// The unit of a line's timestamp. Timestamps are delivered in nanoseconds whatever the unit.
public enum LinePrecision: String, Sendable, Hashable, CaseIterable {
    case nanoseconds = "ns", microseconds = "us", milliseconds = "ms", seconds = "s"

    /// Nanoseconds per unit.
    public var nanosecondsPerUnit: Int64 {
        switch self {
        case .nanoseconds: 1
        case .microseconds: 1_000
        case .milliseconds: 1_000_000
        case .seconds: 1_000_000_000
        }
    }

    /// `ns`, `us` (also `u`, `µs`), `ms`, `s`; nil for anything else.
    public init?(name: String) {
        switch name {
        case "ns", "n": self = .nanoseconds
        case "us", "u", "µs": self = .microseconds
        case "ms": self = .milliseconds
        case "s": self = .seconds
        default: return nil
        }
    }
}

/// Parser configuration.
public struct LineProtocolOptions: Sendable, Hashable {
    /// Unit of the timestamps in the input. Default nanoseconds.
    public var precision: LinePrecision
    /// Longest accepted physical line in bytes (CR/LF excluded). A longer line is rejected as
    /// `lineTooLong` and skipped without being buffered. Default 1 MiB; bounds the buffer.
    public var maxLineBytes: Int
    /// Bytes requested from the source per read. Default 256 KiB. Values below 1 act as 1.
    public var chunkSize: Int

    public init(precision: LinePrecision = .nanoseconds, maxLineBytes: Int = 1 << 20, chunkSize: Int = 256 * 1024) {
        self.precision = precision
        self.maxLineBytes = max(1, maxLineBytes)
        self.chunkSize = max(1, chunkSize)
    }
}

/// A field's typed value. A string value is a range of `LinePoint.bytes` (unescaped).
public enum LineFieldValue: Sendable, Hashable {
    case float(Double)
    case int(Int64)
    case uint(UInt64)
    case bool(Bool)
    case string(Range<Int>)
}

/// A tag: key and value as ranges of `LinePoint.bytes` (unescaped).
public struct LineTag: Sendable, Hashable {
    public var key: Range<Int>
    public var value: Range<Int>
}

/// A field: key as a range of `LinePoint.bytes`, and its value.
public struct LineField: Sendable, Hashable {
    public var key: Range<Int>
    public var value: LineFieldValue
}

/// One point. All names and string values are unescaped bytes in `bytes`, addressed by ranges,
/// so a parser refilling the same `LinePoint` line after line reuses its capacity.
/// Tags and fields keep the order of the line.
public struct LinePoint: Sendable, Hashable {
    /// Unescaped bytes of the measurement, tag keys/values, field keys and string values.
    public internal(set) var bytes: [UInt8] = []
    /// The measurement name's range in `bytes`.
    public internal(set) var measurementRange: Range<Int> = 0..<0
    public internal(set) var tags: [LineTag] = []
    public internal(set) var fields: [LineField] = []
    /// Nanoseconds since the Unix epoch (already scaled by the precision), or nil when the
    /// line has none (the caller decides: the time of receipt, or a reject).
    public internal(set) var timestamp: Int64?
    /// The physical line the point came from (1-based).
    public internal(set) var line: Int = 0

    public init() {}

    mutating func reset(line: Int) {
        bytes.removeAll(keepingCapacity: true)
        tags.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        measurementRange = 0..<0
        timestamp = nil
        self.line = line
    }

    /// The bytes at `range` (no copy).
    @inlinable
    public subscript(range: Range<Int>) -> ArraySlice<UInt8> { bytes[range] }

    /// The measurement name's bytes.
    public var measurementBytes: ArraySlice<UInt8> { bytes[measurementRange] }

    /// The measurement name (allocates; not for hot paths).
    public var measurement: String { string(measurementRange) }

    /// The bytes at `range` as a String (allocates).
    public func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// Whether the bytes at `range` are `other`: `memcmp` when `other` is contiguous (an array,
    /// a native string's UTF-8), no slice and no iterator.
    @inlinable
    public func rangeEquals(_ range: Range<Int>, _ other: some Collection<UInt8>) -> Bool {
        guard range.count == other.count else { return false }
        let same = other.withContiguousStorageIfAvailable { o in
            bytes.withUnsafeBufferPointer { p in
                guard let base = p.baseAddress, let ob = o.baseAddress else { return true }
                return memcmp(base + range.lowerBound, ob, range.count) == 0
            }
        }
        return same ?? bytes[range].elementsEqual(other)
    }

    /// Whether the measurement name is `name`'s bytes.
    @inlinable
    public func measurementEquals(_ name: [UInt8]) -> Bool { rangeEquals(measurementRange, name) }

    /// Whether the bytes at two ranges are equal (no slices, so no reference counting).
    func sameBytes(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        return bytes.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return true }
            return memcmp(base + a.lowerBound, base + b.lowerBound, a.count) == 0
        }
    }

    /// The value of the first tag whose key equals `key`, as a range of `bytes`.
    public func tagValue(_ key: some Collection<UInt8>) -> Range<Int>? {
        for tag in tags where rangeEquals(tag.key, key) { return tag.value }
        return nil
    }

    /// The value of the field whose key equals `key`.
    public func fieldValue(_ key: some Collection<UInt8>) -> LineFieldValue? {
        for field in fields where rangeEquals(field.key, key) { return field.value }
        return nil
    }
}
