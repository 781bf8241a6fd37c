import TachoFormat
import TachoJSON

/// The result of reading one field value.
enum Outcome {
    case value(Int64)
    case problem(String)
    /// A valid value that still rejects its record (a time before the retention watermark);
    /// the value shows in the reject's record text.
    case flagged(Int64, String)
}

extension LayoutReader {
    /// Reads the value of slot `s` (its key just read) into `f`. A value of the wrong JSON
    /// type is skipped whole and noted as a problem; `null` for an optional field is absence.
    @inline(__always)
    func readSlot(_ s: Int, level f: Int) throws {
        let t = try parser.next()
        if let v = fastValue(t, s) { return put(v, s, f) }
        try readSlotChecked(t, s, f, kinds[s])
    }

    /// The fast paths: a valid value of the common kinds (a string seen before, an RFC 3339
    /// time, an integer or a number in range), or nil for everything `readSlotChecked`
    /// decides (new strings, other kinds, wrong types, values that fail a check, and an
    /// integer equal to `intNull`, which moves the marker).
    @inline(__always)
    func fastValue(_ t: JSONToken, _ s: Int) -> Int64? {
        let k = kinds + s
        switch k.pointee.input {
        case .string:
            if t == .string && !k.pointee.hasAllowed {
                let maxBytes = k.pointee.maxBytes
                let id: UInt32? = parser.withStringBytes { b in
                    // An interned string passed every check but the length when first seen.
                    b.isEmpty || b.count > maxBytes ? nil : interner.find(b)
                }
                if let id { return Int64(id) }
            }
        case .time:
            if t == .string && k.pointee.timeFormat == .rfc3339, let m = parser.withStringBytes({ Timestamp.parseMicros($0) }),
                m >= expiredBefore
            {
                return m
            }
        case .integer:
            if t == .number, let v = parser.asExactInt64, v != intNull, k.pointee.contains(Double(v)) { return v }
        case .number:
            if t == .number {
                let d = parser.doubleValue
                if d.isFinite && k.pointee.contains(d) { return Int64(bitPattern: d.bitPattern) }
            }
        default:
            break
        }
        return nil
    }

    @inline(__always)
    private func put(_ v: Int64, _ s: Int, _ f: Int) {
        lv.values(f)[s] = v
        lv.found[f] |= UInt64(1) << UInt64(s)
    }

    /// `readSlot` for everything but the fast paths: new strings, other kinds, and values
    /// that fail a check (with the reason).
    @inline(never)
    func readSlotChecked(_ t: JSONToken, _ s: Int, _ f: Int, _ k: SlotKind) throws {
        let outcome: Outcome
        switch k.input {
        case .string, .stringOrInteger:
            if t == .string {
                outcome = parser.withStringBytes { stringOutcome($0, s, k) }
            } else if k.input == .stringOrInteger, t == .number, let v = parser.int64Value {
                outcome = Array(String(v).utf8).withUnsafeBytes { stringOutcome($0, s, k) }
            } else {
                return try mismatch(t, s, f, k.want)
            }
        case .time:
            if k.timeFormat == .rfc3339 {
                guard t == .string else { return try mismatch(t, s, f, k.want) }
                outcome = parser.withStringBytes { timeOutcome(string: $0, s) }
            } else {
                guard t == .number else { return try mismatch(t, s, f, k.want) }
                outcome = timeOutcome(exact: parser.int64Value, double: parser.doubleValue, text: self.numberText(), s, k.timeFormat)
            }
        case .integer:
            guard t == .number else { return try mismatch(t, s, f, k.want) }
            outcome = integerOutcome(parser.asExactInt64, parser.doubleValue, s, k)
        case .number:
            guard t == .number else { return try mismatch(t, s, f, k.want) }
            outcome = numberOutcome(parser.doubleValue, s, k)
        case .bool:
            guard case .bool(let b) = t else { return try mismatch(t, s, f, k.want) }
            outcome = .value(b ? 1 : 0)
        case .joined:
            guard t == .beginArray else { return try mismatch(t, s, f, k.want) }
            outcome = try joinedOutcome(s, k)
        }
        store(outcome, s, into: f)
    }

    @inline(__always)
    func store(_ outcome: Outcome, _ s: Int, into f: Int) {
        let bit = UInt64(1) << UInt64(s)
        switch outcome {
        case .value(let v):
            if v == intNull { avoidIntNull() }
            lv.values(f)[s] = v
            lv.found[f] |= bit
        case .problem(let why):
            lv.bad[f] |= bit
            addProblem(f, Problem(field: plan.names[s], reason: why))
        case .flagged(let v, let why):
            if v == intNull { avoidIntNull() }
            lv.values(f)[s] = v
            lv.found[f] |= bit
            addProblem(f, Problem(field: plan.names[s], reason: why))
        }
    }

    /// A value of the wrong JSON type: skipped, and noted unless it is the `null` of an
    /// optional field.
    private func mismatch(_ t: JSONToken, _ s: Int, _ f: Int, _ want: String) throws {
        if t == .beginObject || t == .beginArray { try parser.skipToEndOfContainer() }
        if t == .null && requiredMask & (1 << UInt64(s)) == 0 { return }
        store(.problem("\(plan.names[s]) must be \(want)"), s, into: f)
    }

    private func numberText() -> String { parser.withNumberBytes { String(decoding: $0, as: UTF8.self) } }

    /// A string: interned when valid (1…maxBytes bytes, no control characters, one of
    /// `allowed` if given).
    @inline(__always)
    func stringOutcome(_ b: UnsafeRawBufferPointer, _ s: Int, _ k: SlotKind) -> Outcome {
        // An interned string passed the control-character check when it was first seen
        // (invalid ones are never interned); only the length depends on the field.
        if !k.hasAllowed && !b.isEmpty && b.count <= k.maxBytes, let id = interner.find(b) { return .value(Int64(id)) }
        if let p = FieldText.problem(b, max: k.maxBytes) { return .problem("\(plan.names[s]) \(p)") }
        if k.hasAllowed {
            let allowed = plan.allowed[s]
            guard allowed.contains(where: { $0.elementsEqual(b) }) else {
                let list = allowed.map { jsonQuoted(String(decoding: $0, as: UTF8.self)) }.joined(separator: ", ")
                return .problem("\(plan.names[s]) must be one of \(list), found \(jsonQuoted(String(decoding: b, as: UTF8.self)))")
            }
        }
        return .value(Int64(interner.intern(b)))
    }

    func timeOutcome(string b: UnsafeRawBufferPointer, _ s: Int) -> Outcome {
        guard let micros = Timestamp.parseMicros(b) else {
            return .problem("\(plan.names[s]) \(jsonQuoted(String(decoding: b, as: UTF8.self))) is not an RFC 3339 time or YYYY-MM-DD HH:MM:SS")
        }
        return expiry(micros, jsonQuoted(String(decoding: b, as: UTF8.self)), s)
    }

    func timeOutcome(exact: Int64?, double: Double, text: @autoclosure () -> String, _ s: Int, _ format: TimeFormat) -> Outcome {
        let perUnit: Int64
        switch format {
        case .unixSeconds: perUnit = 1_000_000
        case .unixMillis: perUnit = 1_000
        case .unixMicros, .unixNanos, .rfc3339: perUnit = 1
        }
        var micros: Int64?
        if format == .unixNanos {
            if let v = exact { micros = v >= 0 ? v / 1_000 : -((-v + 999) / 1_000) }
        } else if let v = exact {
            let (m, o) = v.multipliedReportingOverflow(by: perUnit)
            micros = o ? nil : m
        } else if perUnit > 1, double.isFinite {
            let m = (double * Double(perUnit)).rounded(.down)
            micros = m.magnitude < 0x1p62 ? Int64(m) : nil
        }
        guard let micros, micros.magnitude < 253_402_300_800_000_000 else {
            return .problem("\(plan.names[s]) \(text()) is not a time in \(format.rawValue)")
        }
        return expiry(micros, text(), s)
    }

    @inline(__always)
    private func expiry(_ micros: Int64, _ text: @autoclosure () -> String, _ s: Int) -> Outcome {
        guard micros < expiredBefore else { return .value(micros) }
        return .flagged(
            micros,
            "\(plan.names[s]) \(text()) is older than the retention watermark of \(plan.layout.measurement.name) (\(Timestamp.format(expiredBefore))): expired on arrival, not stored")
    }

    /// Any grammatical number arrives here (the parser leaves range to us): one the column
    /// cannot hold (3.5, -1 with a minimum of 0, 1e19, 1e400) rejects its record only.
    func integerOutcome(_ exact: Int64?, _ double: Double, _ s: Int, _ k: SlotKind) -> Outcome {
        if let v = exact, k.contains(Double(v)) { return .value(v) }
        let tooLarge = exact == nil && double.magnitude >= 0x1p63 ? " (beyond the 64-bit range)" : ""
        return .problem("\(plan.names[s]) must be an integer\(k.rangeText), found \(numberText())\(tooLarge)")
    }

    func numberOutcome(_ d: Double, _ s: Int, _ k: SlotKind) -> Outcome {
        if d.isFinite && k.contains(d) { return .value(Int64(bitPattern: d.bitPattern)) }
        let tooLarge = d.isFinite ? "" : " (beyond the 64-bit floating-point range)"
        return .problem("\(plan.names[s]) must be a number\(k.rangeText), found \(numberText())\(tooLarge)")
    }

    /// A list of strings, stored joined by the separator (the store has no list columns).
    private func joinedOutcome(_ s: Int, _ k: SlotKind) throws -> Outcome {
        let sep = plan.separators[s]
        var joined: [UInt8] = []
        var i = 0
        var problem: String?
        while true {
            let t = try parser.next()
            if t == .endArray { break }
            defer { i += 1 }
            if problem != nil {
                if t == .beginObject || t == .beginArray { try parser.skipToEndOfContainer() }
                continue
            }
            guard t == .string else {
                if t == .beginObject || t == .beginArray { try parser.skipToEndOfContainer() }
                problem = "\(plan.names[s]) element \(i) must be a string"
                continue
            }
            parser.withStringBytes { b in
                if let p = FieldText.problem(b, max: k.maxBytes) {
                    problem = "\(plan.names[s]) element \(i) \(p)"
                } else if !sep.isEmpty && FieldText.contains(b, sep) {
                    problem = "\(plan.names[s]) element \(i) contains the separator \(jsonQuoted(String(decoding: sep, as: UTF8.self)))"
                } else {
                    if i > 0 { joined.append(contentsOf: sep) }
                    joined.append(contentsOf: b)
                }
            }
        }
        if let problem { return .problem(problem) }
        return .value(Int64(joined.withUnsafeBytes { interner.intern($0) }))
    }

    /// The value of an absent optional slot.
    func defaultSlotValue(_ s: Int) -> Int64 {
        switch plan.defaultValue(s) {
        case .int(let v): return v
        case .double(let d): return Int64(bitPattern: d.bitPattern)
        case .string(let str): return Int64(Array(str.utf8).withUnsafeBytes { interner.intern($0) })
        case .null: return isIntColumn(s) ? intNull : LayoutReader.nullSlot
        case nil: return 0
        }
    }

    /// A slot value as JSON text, for reject records.
    func valueText(_ s: Int, _ v: Int64) -> String {
        if s > 1 && v == (isIntColumn(s) ? intNull : LayoutReader.nullSlot) && plan.defaultValue(s) == .null { return "null" }
        if s == 1 { return "\"\(Timestamp.format(v))\"" }
        if plan.stringSlots & (1 << UInt64(s)) != 0 {
            let i = Int(v)
            return interner.strings.indices.contains(i) ? jsonQuoted(interner.strings[i]) : "null"
        }
        if kinds[s].input == .number { return "\(Double(bitPattern: UInt64(bitPattern: v)))" }
        return "\(v)"
    }
}

/// String checks shared by every string field: not empty, at most `max` bytes, no control
/// characters.
enum FieldText {
    static func problem(_ b: UnsafeRawBufferPointer, max: Int) -> String? {
        if b.isEmpty { return "is empty" }
        if b.count > max { return "is \(b.count) bytes, more than \(max)" }
        for c in b where c < 0x20 || c == 0x7F { return "contains a control character (0x\(String(c, radix: 16)))" }
        return nil
    }

    static func contains(_ b: UnsafeRawBufferPointer, _ sep: [UInt8]) -> Bool {
        guard sep.count <= b.count else { return false }
        for i in 0...(b.count - sep.count) where sep.indices.allSatisfy({ b[i + $0] == sep[$0] }) { return true }
        return false
    }
}
