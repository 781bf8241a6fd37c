// The streaming reader: chunks from a byte source → physical lines → points or rejects.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What `LineProtocolParser.next(into:)` found.
public enum LineOutcome: Sendable, Hashable {
    /// The point was stored in the caller's `LinePoint`.
    case point
    /// The line was rejected; parsing continues with the next line.
    case rejected(LineProtocolError)
    /// The input is exhausted.
    case end
}

/// An InfluxDB line-protocol reader over a `LineProtocolByteSource`.
///
/// Bytes are read in chunks of `options.chunkSize` into one buffer owned by the parser; the
/// buffer holds at most one chunk or one line (≤ `options.maxLineBytes`), so memory does not
/// depend on the size of the input. A bad line is a reject, never the end of the input: the
/// next call goes on with the following line. Blank lines and comments are skipped.
///
/// Not thread-safe and deliberately not `Sendable`: one parser, one thread at a time.
public final class LineProtocolParser {
    public let options: LineProtocolOptions
    // Mutable state is `@exclusivity(unchecked)`, as in TachoJSON's parser: single-threaded,
    // never lent out across a call that could re-enter, so the dynamic checks cannot fire.
    @exclusivity(unchecked) var source: any LineProtocolByteSource
    @exclusivity(unchecked) var buf: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) var capacity: Int
    let maxCapacity: Int
    @exclusivity(unchecked) var pos = 0
    @exclusivity(unchecked) var end = 0
    @exclusivity(unchecked) var eof = false
    @exclusivity(unchecked) var failure: LineProtocolError?

    /// Physical lines read so far (the number of the line last returned).
    @exclusivity(unchecked) public private(set) var lineNumber = 0
    /// Points returned so far.
    @exclusivity(unchecked) public private(set) var pointCount = 0
    /// Lines rejected so far.
    @exclusivity(unchecked) public private(set) var rejectCount = 0

    public init(source: some LineProtocolByteSource, options: LineProtocolOptions = LineProtocolOptions()) {
        self.options = options
        self.source = source
        // A line of maxLineBytes plus its CR and LF fits, whatever the chunk size.
        maxCapacity = max(options.chunkSize, options.maxLineBytes + 2)
        capacity = options.chunkSize
        buf = .allocate(capacity: capacity)
    }

    /// A parser over bytes already in memory (an HTTP request body, a test).
    public convenience init(bytes: [UInt8], options: LineProtocolOptions = LineProtocolOptions()) {
        self.init(source: LineBytesSource(bytes), options: options)
    }

    deinit { buf.deallocate() }

    /// Reads up to the next point or rejected line. `point` is overwritten (its storage is
    /// reused, so a caller that passes the same `LinePoint` every time allocates nothing per
    /// line once the buffers have grown). Throws only when the byte source fails.
    public func next(into point: inout LinePoint) throws(LineProtocolError) -> LineOutcome {
        if let failure { throw failure }
        while true {
            let found: (start: Int, count: Int, tooLong: Bool)?
            do { found = try nextLine() } catch {
                let e = LineProtocolError(kind: .io, line: lineNumber, column: 0, message: "\(error)")
                failure = e
                throw e
            }
            guard let (start, count, skipped) = found else { return .end }
            lineNumber += 1
            var length = count
            if !skipped && length > 0 && buf[start + length - 1] == 0x0D { length -= 1 }
            if skipped || length > options.maxLineBytes {
                rejectCount += 1
                return .rejected(tooLong())
            }
            point.reset(line: lineNumber)
            switch parseLine(UnsafeBufferPointer(start: buf + start, count: length), lineNumber: lineNumber,
                             precision: options.precision, into: &point) {
            case .blank:
                continue
            case .point:
                pointCount += 1
                return .point
            case .error(let e):
                rejectCount += 1
                return .rejected(e)
            }
        }
    }

    /// Calls `point` for every point and `rejected` for every rejected line until the input
    /// ends. The `LinePoint` passed to `point` is reused: copy out what must outlive the call.
    public func forEach(
        point body: (LinePoint) throws -> Void,
        rejected: (LineProtocolError) throws -> Void = { _ in }
    ) throws {
        var p = LinePoint()
        while true {
            switch try next(into: &p) {
            case .point: try body(p)
            case .rejected(let e): try rejected(e)
            case .end: return
            }
        }
    }

    func tooLong() -> LineProtocolError {
        LineProtocolError(kind: .lineTooLong, line: lineNumber, column: options.maxLineBytes + 1,
                          message: "the line is longer than \(options.maxLineBytes) bytes (maxLineBytes); skipped")
    }

    // MARK: Physical lines

    /// The next line's bytes `buf[start..<start+count]` without its `\n`, or nil at the end of
    /// the input. A line that cannot fit the limit is skipped through its `\n` unread and
    /// reported with `tooLong` (its bytes are gone).
    func nextLine() throws -> (start: Int, count: Int, tooLong: Bool)? {
        var scanFrom = pos
        while true {
            if scanFrom < end, let hit = memchr(buf + scanFrom, 0x0A, end - scanFrom) {
                let lf = UnsafeMutableRawPointer(mutating: hit).assumingMemoryBound(to: UInt8.self) - buf
                let start = pos
                pos = lf + 1
                return (start, lf - start, false)
            }
            let pending = end - pos
            if eof {
                if pending == 0 { return nil }
                let start = pos
                pos = end
                return (start, pending, false)
            }
            if pending > options.maxLineBytes + 1 {  // cannot be a line of the allowed length
                try skipRestOfLine()
                return (0, 0, true)
            }
            if pos > 0 {
                if pending > 0 { memmove(buf, buf + pos, pending) }
                pos = 0
                end = pending
            }
            if end == capacity { grow() }
            scanFrom = end
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buf + end, count: capacity - end))
            if n <= 0 { eof = true } else { end += min(n, capacity - end) }
        }
    }

    /// Discards input through the next `\n` (or to the end), reading chunk by chunk.
    func skipRestOfLine() throws {
        pos = end
        while true {
            if pos < end, let hit = memchr(buf + pos, 0x0A, end - pos) {
                pos = UnsafeMutableRawPointer(mutating: hit).assumingMemoryBound(to: UInt8.self) - buf + 1
                return
            }
            pos = 0
            end = 0
            if eof { return }
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buf, count: capacity))
            if n <= 0 { eof = true } else { end = min(n, capacity) }
        }
    }

    func grow() {
        let fresh = min(maxCapacity, capacity * 2)
        guard fresh > capacity else { return }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: fresh)
        bigger.update(from: buf, count: end)
        buf.deallocate()
        buf = bigger
        capacity = fresh
    }
}
