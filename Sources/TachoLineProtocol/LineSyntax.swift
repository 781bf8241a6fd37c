// One physical line → a LinePoint or a LineProtocolError (docs/SEMANTICS.md, "Line protocol
// input", has the grammar). Pure: no I/O, no state beyond the line.

enum LineSyntaxOutcome {
    case point
    /// Empty, spaces/tabs only, or a comment (`#` as the first non-blank byte).
    case blank
    case error(LineProtocolError)
}

/// Parses `line` (without its `\n`, and without the `\r` of a CRLF) into `point`, which the
/// caller has reset. `lineNumber` only labels positions.
func parseLine(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, precision: LinePrecision,
               into point: inout LinePoint) -> LineSyntaxOutcome {
    guard let base = line.baseAddress, line.count > 0 else { return .blank }
    var scanner = LineScanner(p: base, n: line.count, line: lineNumber)
    do {
        return try scanner.parse(into: &point, precision: precision) ? .point : .blank
    } catch {
        return .error(error)
    }
}

/// The element being scanned; decides which bytes end it and which escapes apply.
enum LineElement {
    case measurement, tagKey, tagValue, fieldKey

    var name: String {
        switch self {
        case .measurement: "measurement name"
        case .tagKey: "tag key"
        case .tagValue: "tag value"
        case .fieldKey: "field key"
        }
    }
}

struct LineScanner {
    let p: UnsafePointer<UInt8>
    let n: Int
    let line: Int
    var i = 0

    init(p: UnsafePointer<UInt8>, n: Int, line: Int) {
        self.p = p
        self.n = n
        self.line = line
    }

    func fail(_ kind: LineProtocolError.Kind, _ at: Int, _ message: String) -> LineProtocolError {
        LineProtocolError(kind: kind, line: line, column: at + 1, message: message)
    }

    /// "found ','", or "found the end of the line".
    func found(_ at: Int) -> String { at < n ? "found \(describeByte(p[at]))" : "found the end of the line" }

    @inline(__always)
    func isSpace(_ at: Int) -> Bool { at < n && p[at] == 0x20 }

    mutating func skipSpaces() { while i < n && p[i] == 0x20 { i += 1 } }

    // MARK: The line

    /// Returns false for a blank or comment line.
    mutating func parse(into point: inout LinePoint, precision: LinePrecision) throws(LineProtocolError) -> Bool {
        while i < n && (p[i] == 0x20 || p[i] == 0x09) { i += 1 }
        if i == n || p[i] == UInt8(ascii: "#") { return false }
        if let bad = firstInvalidUTF8(p, n) {
            throw fail(.invalidUTF8, bad, "bytes that are not UTF-8 (\(describeByte(p[bad])) cannot appear here)")
        }

        let measurementStart = i
        point.measurementRange = try element(.measurement, into: &point.bytes)
        if point.measurementRange.isEmpty {
            throw fail(.expectedMeasurement, measurementStart, "expected a measurement name, \(found(i))")
        }
        while i < n && p[i] == UInt8(ascii: ",") {
            i += 1
            try tag(into: &point)
        }
        guard isSpace(i) else {
            throw fail(.expectedFieldSet, i, "expected a space and a field set after the measurement and tags, \(found(i))")
        }
        skipSpaces()

        while true {
            try field(into: &point)
            if i == n || p[i] == 0x20 { break }
            i += 1  // the ',' (field() checked what follows the value)
        }

        skipSpaces()
        if i < n { point.timestamp = try timestamp(precision) }
        return true
    }

    mutating func tag(into point: inout LinePoint) throws(LineProtocolError) {
        let keyStart = i
        let key = try element(.tagKey, into: &point.bytes)
        if key.isEmpty { throw fail(.expectedTagKey, keyStart, "expected a tag key after ',', \(found(i))") }
        guard i < n, p[i] == UInt8(ascii: "=") else {
            throw fail(.expectedTagEquals, i, "expected '=' after tag key \(quoted(point[key])), \(found(i))")
        }
        i += 1
        let valueStart = i
        let value = try element(.tagValue, into: &point.bytes)
        if value.isEmpty {
            throw fail(.expectedTagValue, valueStart, "expected a value for tag key \(quoted(point[key])) after '=', \(found(i))")
        }
        for k in 0..<point.tags.count where point.sameBytes(point.tags[k].key, key) {
            throw fail(.duplicateTagKey, keyStart, "tag key \(quoted(point[key])) appears twice on the line")
        }
        point.tags.append(LineTag(key: key, value: value))
    }

    mutating func field(into point: inout LinePoint) throws(LineProtocolError) {
        let keyStart = i
        let key = try element(.fieldKey, into: &point.bytes)
        if key.isEmpty {
            let after = keyStart > 0 && p[keyStart - 1] == UInt8(ascii: ",") ? "after ','" : "after the space"
            throw fail(.expectedFieldKey, keyStart, "expected a field key \(after), \(found(i))")
        }
        guard i < n, p[i] == UInt8(ascii: "=") else {
            throw fail(.expectedFieldEquals, i, "expected '=' after field key \(quoted(point[key])), \(found(i))")
        }
        i += 1
        let value = try fieldValue(key: key, into: &point)
        for k in 0..<point.fields.count where point.sameBytes(point.fields[k].key, key) {
            throw fail(.duplicateFieldKey, keyStart, "field key \(quoted(point[key])) appears twice on the line")
        }
        point.fields.append(LineField(key: key, value: value))
        if i < n && p[i] != 0x20 && p[i] != UInt8(ascii: ",") {
            throw fail(.expectedFieldSeparator, i,
                       "expected ',' or a space after the value of field \(quoted(point[key])), \(found(i))")
        }
    }

    // MARK: Names, keys, tag values

    /// Scans one element from `i`, appending its unescaped bytes to `out`; stops (without
    /// consuming) at an unescaped terminator or the end of the line. Returns the range in `out`.
    ///
    /// Escapes: `\\` → `\`; `\,` and `\ ` everywhere; `\=` in keys and tag values. Any other
    /// `\` is an ordinary byte (`\t` stays two bytes), as in InfluxDB.
    mutating func element(_ kind: LineElement, into out: inout [UInt8]) throws(LineProtocolError) -> Range<Int> {
        let start = out.count
        var j = i
        var run = j  // first byte not yet copied
        defer { i = j }
        while true {
            // Fast path: printable bytes that are never syntax in any element.
            while j < n {
                let c = p[j]
                guard c > 0x20 && c != 0x2C && c != 0x3D && c != 0x5C && c != 0x7F else { break }
                j &+= 1
            }
            if j == n { break }
            let c = p[j]
            switch c {
            case 0x2C, 0x20:  // ',' ' '
                out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: j - run))
                return start..<out.count
            case 0x3D:  // '='
                switch kind {
                case .tagKey, .fieldKey:
                    out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: j - run))
                    return start..<out.count
                case .tagValue:
                    throw fail(.unescapedEquals, j, "unescaped '=' in a tag value (write '\\=')")
                case .measurement:
                    j &+= 1
                }
            case 0x5C:  // '\'
                guard j + 1 < n else {
                    throw fail(.danglingBackslash, j, "a '\\' ends the line in a \(kind.name) (it escapes nothing)")
                }
                let d = p[j + 1]
                if d == 0x5C || d == 0x2C || d == 0x20 || (d == 0x3D && kind != .measurement) {
                    out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: j - run))
                    out.append(d)
                    j &+= 2
                    run = j
                } else {
                    j &+= 1  // an ordinary backslash; the next byte is looked at on its own
                }
            default:  // U+0000…U+001F, U+007F
                throw fail(.controlCharacter, j, "control character (\(describeByte(c))) in a \(kind.name)")
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: j - run))
        return start..<out.count
    }

    // MARK: Field values

    mutating func fieldValue(key: Range<Int>, into point: inout LinePoint) throws(LineProtocolError) -> LineFieldValue {
        guard i < n, p[i] != 0x20, p[i] != UInt8(ascii: ",") else {
            throw fail(.expectedFieldValue, i, "expected a value for field \(quoted(point[key])) after '=', \(found(i))")
        }
        let start = i
        let c = p[i]
        if c == UInt8(ascii: "\"") { return try string(into: &point.bytes) }
        var e = i
        while e < n && p[e] != 0x20 && p[e] != UInt8(ascii: ",") { e += 1 }
        let token = UnsafeBufferPointer(start: p + start, count: e - start)
        i = e
        switch c {
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
            if let b = boolean(token) { return .bool(b) }
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number(token, at: start, key: quoted(point[key]))
        default:
            break
        }
        throw fail(.unrecognizedFieldValue, start, "the value of field \(quoted(point[key])) is not a number, a boolean "
                   + "(t, T, true, True, TRUE, f, F, false, False, FALSE) or a quoted string: \(quoted(ArraySlice(token)))")
    }

    /// A quoted string from the opening `"` at `i`. Escapes: `\"` → `"`, `\\` → `\`; any other
    /// `\` is an ordinary byte. The string ends on the same line (a raw newline ends the line).
    mutating func string(into out: inout [UInt8]) throws(LineProtocolError) -> LineFieldValue {
        let open = i
        i += 1
        let start = out.count
        var run = i
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: i - run))
                i += 1
                return .string(start..<out.count)
            }
            if c == 0x5C && i + 1 < n && (p[i + 1] == UInt8(ascii: "\"") || p[i + 1] == 0x5C) {
                out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: i - run))
                out.append(p[i + 1])
                i += 2
                run = i
                continue
            }
            i += 1
        }
        throw fail(.unterminatedString, open,
                   "string field value has no closing '\"' on this line (a newline inside a string is not accepted)")
    }

    func boolean(_ t: UnsafeBufferPointer<UInt8>) -> Bool? {
        switch t.count {
        case 1:
            switch t[0] {
            case UInt8(ascii: "t"), UInt8(ascii: "T"): return true
            case UInt8(ascii: "f"), UInt8(ascii: "F"): return false
            default: return nil
            }
        case 4:  // true, True, TRUE
            let (a, b, c, d) = (t[0], t[1], t[2], t[3])
            if b == UInt8(ascii: "r") && c == UInt8(ascii: "u") && d == UInt8(ascii: "e") {
                return a == UInt8(ascii: "t") || a == UInt8(ascii: "T") ? true : nil
            }
            return a == UInt8(ascii: "T") && b == UInt8(ascii: "R") && c == UInt8(ascii: "U") && d == UInt8(ascii: "E") ? true : nil
        case 5:  // false, False, FALSE
            let (a, b, c, d, e) = (t[0], t[1], t[2], t[3], t[4])
            if b == UInt8(ascii: "a") && c == UInt8(ascii: "l") && d == UInt8(ascii: "s") && e == UInt8(ascii: "e") {
                return a == UInt8(ascii: "f") || a == UInt8(ascii: "F") ? false : nil
            }
            return a == UInt8(ascii: "F") && b == UInt8(ascii: "A") && c == UInt8(ascii: "L") && d == UInt8(ascii: "S")
                && e == UInt8(ascii: "E") ? false : nil
        default:
            return nil
        }
    }

    // MARK: Timestamp

    mutating func timestamp(_ precision: LinePrecision) throws(LineProtocolError) -> Int64 {
        let start = i
        var e = i
        while e < n && p[e] != 0x20 { e += 1 }
        let token = UnsafeBufferPointer(start: p + start, count: e - start)
        i = e
        guard let (negative, magnitude) = decimalDigits(token, allowMinus: true) else {
            throw fail(.invalidTimestamp, start, "expected an integer timestamp ([-]digits), found \(quoted(ArraySlice(token)))")
        }
        guard let magnitude, let units = signedInt64(magnitude, negative) else {
            throw fail(.timestampOutOfRange, start, "timestamp \(quoted(ArraySlice(token))) does not fit in 64 bits")
        }
        let (ns, overflow) = units.multipliedReportingOverflow(by: precision.nanosecondsPerUnit)
        if overflow {
            throw fail(.timestampOutOfRange, start,
                       "timestamp \(quoted(ArraySlice(token))) in \(precision.rawValue) is out of the nanosecond range (years 1677–2262)")
        }
        skipSpaces()
        if i < n { throw fail(.trailingContent, i, "expected the end of the line after the timestamp, \(found(i))") }
        return ns
    }
}
