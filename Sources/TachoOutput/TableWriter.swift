import TachoTime

/// The `table` output format: columns padded to their display width (a CJK character is two
/// columns, a combining mark none), numbers right-aligned (header too), doubles at a readable
/// precision (`TableWriter.number`), two spaces between columns, trailing spaces trimmed, and
/// a row-count footer. CSV and JSON keep exact values; only this format rounds.
public struct TableWriter: Sendable {
    public let columns: [String]
    private var rows: [[String]] = []
    /// Per column: every non-null cell so far was a number (and there was one).
    private var numeric: [Bool]
    private var sawNumber: [Bool]

    public init(columns: [String]) {
        self.columns = columns
        numeric = Array(repeating: true, count: columns.count)
        sawNumber = Array(repeating: false, count: columns.count)
    }

    public var count: Int { rows.count }

    public mutating func append(_ cells: [Cell]) {
        var r: [String] = []
        r.reserveCapacity(cells.count)
        for (i, c) in cells.enumerated() {
            switch c {
            case .text(let s): r.append(s); noteText(i)
            case .int(let v): r.append(String(v)); noteNumber(i)
            case .double(let v): r.append(TableWriter.number(v)); noteNumber(i)
            case .time(let t): r.append(Timestamp.format(t)); noteText(i)
            case .null: r.append("")
            case .bool(let b): r.append(b ? "true" : "false"); noteText(i)
            case .strings(let a): r.append(a.joined(separator: ";")); noteText(i)
            }
        }
        rows.append(r)
    }

    private mutating func noteText(_ i: Int) { if i < numeric.count { numeric[i] = false } }
    private mutating func noteNumber(_ i: Int) { if i < sawNumber.count { sawNumber[i] = true } }

    /// Every line of the table, each ending in "\n", handed to `emit` one at a time.
    public func render(_ emit: (String) -> Void) {
        let right = zip(numeric, sawNumber).map { $0 && $1 }
        var widths = columns.map(displayWidth)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], displayWidth(c)) } }
        emit(line(columns, widths, right))
        emit(line(widths.map { String(repeating: "-", count: $0) }, widths, right))
        for r in rows { emit(line(r, widths, right)) }
        emit(rows.count == 1 ? "(1 row)\n" : "(\(rows.count) rows)\n")
    }

    private func line(_ cells: [String], _ widths: [Int], _ right: [Bool]) -> String {
        var s = ""
        for (i, c) in cells.enumerated() {
            if i > 0 { s += "  " }
            let pad = String(repeating: " ", count: max(0, widths[i] - displayWidth(c)))
            s += right[i] ? pad + c : c + pad
        }
        return s.trimmingTrailingSpaces() + "\n"
    }

    /// A double as a person reads it: integral values without a fraction, else about six
    /// significant digits (`2.33333`, `43.667`, `1234567.9`, `0.000123457`), trailing zeros
    /// dropped. Exact values stay in csv/json/ndjson.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return String(v) }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        let a = abs(v)
        guard a < 1e15 else { return String(v) }
        var text: String
        if a >= 1 {
            var digits = 0
            var x = a
            while x >= 1 { x /= 10; digits += 1 }
            text = String(fixed: v, decimals: max(1, 6 - digits))
        } else {
            text = String(formatG: v)
        }
        if text.contains("."), !text.contains("e") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}

/// Terminal columns `s` takes: East Asian wide and fullwidth characters (and emoji) two,
/// combining marks, zero-width and control characters none, everything else one.
public func displayWidth(_ s: String) -> Int {
    var w = 0
    if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.utf8.count }
    for ch in s {
        var cw = 0
        for u in ch.unicodeScalars {
            let sw = scalarWidth(u)
            if sw == 2 { cw = 2; break }
            cw = max(cw, sw)
        }
        w += cw
    }
    return w
}

public func scalarWidth(_ u: Unicode.Scalar) -> Int {
    let v = u.value
    if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
    switch u.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    if v == 0x200B { return 0 }
    if isWide(v) { return 2 }
    return 1
}

private func isWide(_ v: UInt32) -> Bool {
    switch v {
    case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
         0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB,
         0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA,
         0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757,
         0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
         0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
         0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
         0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF,
         0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F64F,
         0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF,
         0x20000...0x2FFFD, 0x30000...0x3FFFD:
        return true
    default:
        return false
    }
}
