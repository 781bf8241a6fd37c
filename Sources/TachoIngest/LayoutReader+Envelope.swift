import TachoFormat
import TachoJSON
import TachoStore

/// A scalar member of the top-level object whose key is an inherited field of some layout
/// (an envelope field: power's `spaceship_id` and `units`), kept as read.
struct DocMember {
    enum Value {
        case string([UInt8])
        case number(exact: Int64?, integer: Int64?, double: Double, text: String)
        case bool(Bool)
        case null
    }

    var key: [UInt8]
    var value: Value
}

extension LayoutReader {
    /// Keeps the value of an envelope key (the current token). Objects and arrays are
    /// skipped with a warning: envelope fields are scalars.
    func captureMember() throws {
        let key = parser.withStringBytes { Array($0) }
        let p = parser.position
        let value: DocMember.Value
        switch try parser.next() {
        case .string: value = .string(parser.withStringBytes { Array($0) })
        case .number:
            value = .number(
                exact: parser.asExactInt64, integer: parser.int64Value, double: parser.doubleValue,
                text: parser.withNumberBytes { String(decoding: $0, as: UTF8.self) })
        case .bool(let b): value = .bool(b)
        case .null: value = .null
        default:
            try parser.skipToEndOfContainer()
            report.warnings.append(
                "line \(p.line), column \(p.column): skipped top-level key \(jsonQuoted(String(decoding: key, as: UTF8.self))): an envelope field must be a string, number, boolean or null")
            return
        }
        docMembers.append(DocMember(key: key, value: value))
        docFrames.removeAll()
    }

    /// The envelope's values for the current layout, read from `docMembers` (once per
    /// dictionary epoch: string ids die with each flush).
    func documentFrame() -> DocFrame {
        if let cached = docFrames[current], cached.epoch == epoch { return cached.frame }
        let k = LevelStore.scratch
        lv.found[k] = 0
        lv.bad[k] = 0
        problems[k].removeAll()
        lv.problemCount[k] = 0
        for m in docMembers {
            let s = m.key.withUnsafeBytes { keys.lookup($0) }
            guard s >= 0, plan.inherited & (1 << UInt64(s)) != 0 else { continue }
            store(outcome(of: m.value, s), s, into: k)
        }
        let f = DocFrame(
            vals: Array(UnsafeBufferPointer(start: lv.values(k), count: stride)), found: lv.found[k], bad: lv.bad[k],
            problems: problems[k])
        docFrames[current] = (epoch, f)
        return f
    }

    /// `readSlot` for a kept envelope value.
    private func outcome(of value: DocMember.Value, _ s: Int) -> Outcome {
        let k = kinds[s]
        let name = plan.names[s]
        switch (k.input, value) {
        case (.string, .string(let b)), (.stringOrInteger, .string(let b)):
            return b.withUnsafeBytes { stringOutcome($0, s, k) }
        case (.stringOrInteger, .number(_, let int?, _, _)):
            return Array(String(int).utf8).withUnsafeBytes { stringOutcome($0, s, k) }
        case (.time, .string(let b)) where k.timeFormat == .rfc3339:
            return b.withUnsafeBytes { timeOutcome(string: $0, s) }
        case (.time, .number(_, let int, let d, let text)) where k.timeFormat != .rfc3339:
            return timeOutcome(exact: int, double: d, text: text, s, k.timeFormat)
        case (.integer, .number(let exact, _, let d, let text)):
            if let v = exact, k.contains(Double(v)) { return .value(v) }
            let tooLarge = exact == nil && d.magnitude >= 0x1p63 ? " (beyond the 64-bit range)" : ""
            return .problem("\(name) must be an integer\(k.rangeText), found \(text)\(tooLarge)")
        case (.number, .number(_, _, let d, let text)):
            if d.isFinite && k.contains(d) { return .value(Int64(bitPattern: d.bitPattern)) }
            return .problem("\(name) must be a number\(k.rangeText), found \(text)")
        case (.bool, .bool(let b)):
            return .value(b ? 1 : 0)
        default:
            return .problem("\(name) must be \(k.want)")
        }
    }

    /// The envelope's problem with a slot the records lack (units "MW"), if any.
    func docProblem(_ doc: DocFrame, _ lacking: UInt64) -> Problem? {
        let bad = doc.bad & lacking & ~doc.found
        guard bad != 0 else {
            // A valid value that still rejects (an expired envelope time).
            let flagged = doc.found & lacking
            if flagged != 0, let p = doc.problems.first(where: { p in bitNames(flagged).contains { $0 == p.field } }) { return p }
            return nil
        }
        let name = plan.names[bad.trailingZeroBitCount]
        return doc.problems.last { $0.field == name }
    }

    /// Keeps the pending records of an element until the document closes (a field they lack
    /// may follow the array). Bounded by `ReaderOptions.maxWaitingRecords`.
    func park(index: Int, start: JSONPosition, text: String) throws {
        let n = pendingMissing.count
        waitingRecords += n
        if waitingRecords > options.maxWaitingRecords {
            throw FileError(
                path: report.path, line: start.line, column: start.column, offset: start.offset,
                message: "more than \(options.maxWaitingRecords) \(plan.layout.measurement.name) records wait for a field that may follow their array (\(bitNames(pendingMissing.union() & allMask).joined(separator: ", "))); put such fields before the array")
        }
        var w = WaitingElement(
            layout: current, index: index, start: start, text: text, values: rows.copy(from: pendBase), missing: pendingMissing.array, strings: [])
        for r in 0..<n {
            forEachBit(plan.stringSlots & ~pendingMissing[r]) { s in
                let i = r * stride + s
                let id = Int(w.values[i])
                w.values[i] = Int64(w.strings.count)
                w.strings.append(interner.strings[id])
            }
        }
        waiting.append(w)
    }

    /// The document closed: every waiting element takes the envelope's values, or is
    /// rejected for what it still lacks.
    func settleWaiting(_ sink: (RowBatch) throws -> Void) throws {
        let all = waiting
        waiting.removeAll()
        for w in all {
            if w.layout != current { try switchLayout(w.layout, sink) }
            pendBase = rows.count
            rows.append(contentsOf: w.values)
            pendingMissing.replace(with: w.missing)
            for r in 0..<w.missing.count {
                forEachBit(plan.stringSlots & ~w.missing[r]) { s in
                    let i = r * stride + s
                    rows[pendBase + i] = Int64(Array(w.strings[Int(w.values[i])].utf8).withUnsafeBytes { interner.intern($0) })
                }
            }
            var lacking = pendingMissing.union()
            if !docMembers.isEmpty {
                let doc = documentFrame()
                if let p = docProblem(doc, lacking) {
                    reject(w.index, w.start, p, record: w.text)
                    dropPending()
                    continue
                }
                doc.vals.withUnsafeBufferPointer { fill(from: $0.baseAddress!, doc.found, records: 0) }
                lacking = pendingMissing.union()
            }
            if let p = missingProblem(lacking) {
                reject(w.index, w.start, p, record: w.text)
                dropPending()
                continue
            }
            applyDefaults()
            commitPending()
            if rowCount >= options.batchRows { try flush(sink) }
        }
        waitingRecords = 0
    }
}
