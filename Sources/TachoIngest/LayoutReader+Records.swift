import TachoFormat
import TachoJSON

/// The values found in one open object on the path (level 1 = an element of the first
/// array, … `depth` = a record of the last one).
final class Frame {
    @exclusivity(unchecked) var vals: [Int64]
    /// Slots with a valid value; slots present with an invalid one.
    @exclusivity(unchecked) var found: UInt64 = 0
    @exclusivity(unchecked) var bad: UInt64 = 0
    @exclusivity(unchecked) var problems: [Problem] = []
    /// Problems of child objects ("detection 1: …"): each rejects that child only.
    @exclusivity(unchecked) var childProblems: [Problem] = []
    /// The object held the array of the next path step.
    @exclusivity(unchecked) var hasNext = false
    /// `pendingMissing.count` when the object opened: the records from there on are its own.
    @exclusivity(unchecked) var pendStart = 0

    init(count: Int) { vals = [Int64](repeating: 0, count: count) }

    @inline(__always)
    func reset(pendStart: Int) {
        found = 0
        bad = 0
        if !problems.isEmpty { problems.removeAll(keepingCapacity: true) }
        if !childProblems.isEmpty { childProblems.removeAll(keepingCapacity: true) }
        hasNext = false
        self.pendStart = pendStart
    }
}

/// An element of the first array whose records lack a field the document may still supply
/// (an envelope field after the array): kept until the document closes. Strings are kept as
/// text (the batch dictionary is emptied at every flush).
struct WaitingElement {
    var layout: Int
    var index: Int
    var start: JSONPosition
    var text: String
    var values: [Int64]
    var missing: [UInt64]
    var strings: [String]
}

/// The set bits of a mask, lowest first.
@inline(__always)
func forEachBit(_ mask: UInt64, _ body: (Int) -> Void) {
    var m = mask
    while m != 0 {
        body(m.trailingZeroBitCount)
        m &= m &- 1
    }
}

extension LayoutReader {
    /// Reads the members of an object at `level` (its `{` consumed) into that level's frame,
    /// descending into the next path step's array; then decides what the object is.
    func readObject(level k: Int, start: JSONPosition) throws {
        let f = frames[k]
        f.reset(pendStart: pendingMissing.count)
        let last = plan.depth
        let keys = plan.keys
        while true {
            let t = try parser.next()
            if t == .endObject { break }
            let target = parser.withStringBytes { keys.lookup($0) }
            if target >= 0 {
                try readSlot(target, into: f)
            } else if k < last && target == KeyTable.step(k) {
                f.hasNext = true
                try readArray(level: k + 1, parent: f)
            } else {
                try parser.skipValue()
            }
        }
        closeObject(level: k, start: start)
    }

    /// The array of path step `level - 1` (its key just read): each element an object of `level`.
    private func readArray(level j: Int, parent: Frame) throws {
        let step = plan.layout.path[j - 1]
        guard try parser.next() == .beginArray else {
            if parser.currentToken == .beginObject { try parser.skipToEndOfContainer() }
            parent.problems.append(Problem(field: step.key, reason: "\(step.key) must be an array"))
            return
        }
        var i = 0
        while true {
            let t = try parser.next()
            if t == .endArray { return }
            defer { i += 1 }
            guard t == .beginObject else {
                if t == .beginArray { try parser.skipToEndOfContainer() }
                parent.childProblems.append(Problem(field: nil, reason: "\(step.item) \(i): \(step.item) must be an object"))
                continue
            }
            try readObject(level: j, start: parser.position)
            let f = frames[j]
            if let first = f.problems.first {
                // A child with problems is dropped with its records; its parent stays.
                pending.removeLast(pending.count - f.pendStart * stride)
                pendingMissing.removeLast(pendingMissing.count - f.pendStart)
                parent.childProblems.append(Problem(field: first.field, reason: "\(step.item) \(i): \(first.reason)"))
            }
            parent.childProblems.append(contentsOf: f.childProblems.map {
                Problem(field: $0.field, reason: "\(step.item) \(i): \($0.reason)")
            })
        }
    }

    /// Decides what a closed object is: a record (the last level; an earlier one without
    /// the next array, i.e. flat; or, leniently, one carrying record fields beside that
    /// array), and fills the records read inside it with its values where they lack them.
    private func closeObject(level k: Int, start: JSONPosition) {
        let f = frames[k]
        let last = plan.depth
        let own = (f.found | f.bad) & plan.recordScope
        var isRecord = k == last
        if k < last {
            let nextKey = plan.layout.path[k].key
            if !f.hasNext {
                if own == 0 && plan.recordScope != 0 {
                    if f.problems.isEmpty {
                        let names = bitNames(plan.recordScope & plan.required).joined(separator: " and ")
                        f.problems.append(Problem(field: nextKey, reason: "missing \(nextKey) (or \(names))"))
                    }
                } else {
                    isRecord = true
                }
            } else if own != 0 {
                let missingOwn = plan.recordScope & plan.required & ~(f.found | f.bad)
                if missingOwn != 0 {
                    if f.problems.isEmpty {
                        let s = missingOwn.trailingZeroBitCount
                        f.problems.append(Problem(field: plan.names[s], reason: "missing \(plan.names[s])"))
                    }
                } else if f.bad & plan.recordScope == 0 {
                    let names = plan.recordFieldNames
                    if options.lenient {
                        isRecord = true
                        let item = plan.layout.path[k - 1].item, inner = plan.layout.path[last - 1].item
                        report.repairCount += 1
                        report.repairs.append(
                            "line \(start.line), column \(start.column): warning: \(item) \(pendingIndex) has \(names) beside \(nextKey); kept as one more \(inner)")
                    } else {
                        f.problems.append(Problem(field: nextKey, reason: "\(names) beside a \(nextKey) array (accepted with --lenient)"))
                    }
                }
            }
        }
        if isRecord {
            let missingOwn = plan.recordScope & plan.required & ~(f.found | f.bad)
            if k == last {
                forEachBit(missingOwn) { s in f.problems.append(Problem(field: plan.names[s], reason: "missing \(plan.names[s])")) }
            } else if missingOwn != 0 && f.problems.isEmpty {
                let s = missingOwn.trailingZeroBitCount
                f.problems.append(Problem(field: plan.names[s], reason: "missing \(plan.names[s])"))
            }
            if missingOwn == 0 && f.bad & plan.recordScope == 0 && (k < last || f.problems.isEmpty) {
                pushRecord(f)
            }
        }
        if k < last { fill(from: f, records: f.pendStart) }
    }

    /// Adds the record whose values `f` holds to `pending`; record fields it lacks take
    /// their defaults, inherited ones are left to its enclosing objects.
    @inline(__always)
    private func pushRecord(_ f: Frame) {
        let base = pending.count
        pending.append(contentsOf: f.vals)
        var missing = ~f.found & plan.all
        let defaults = missing & plan.recordScope
        if defaults != 0 {
            forEachBit(defaults) { s in pending[base + s] = defaultSlotValue(s) }
            missing &= ~defaults
        }
        pendingMissing.append(missing)
    }

    /// Gives the records from `start` on the values `f` has for slots they lack.
    @inline(__always)
    func fill(from f: Frame, records start: Int) {
        let have = f.found
        guard have != 0 else { return }
        for r in start..<pendingMissing.count {
            let m = pendingMissing[r] & have
            if m == 0 { continue }
            forEachBit(m) { s in pending[r * stride + s] = f.vals[s] }
            pendingMissing[r] &= ~m
        }
    }

    /// The index of the element being read, for repair messages.
    var pendingIndex: Int { report.events - 1 }

    /// An element of the first array closed: it is rejected whole (its own problems), or its
    /// child problems are reported and its records stored, or they wait for the document.
    func closeElement(index: Int, start: JSONPosition) throws {
        let f = frames[1]
        if !f.problems.isEmpty {
            let reason = f.problems.map(\.reason).joined(separator: "; ")
            reject(index, start, Problem(field: f.problems[0].field, reason: reason), record: elementText(f, records: true))
            return
        }
        if !f.childProblems.isEmpty {
            let text = elementText(f, records: false)
            for p in f.childProblems { reject(index, start, p, record: text) }
        }
        let n = pendingMissing.count
        guard n > 0 else { return }
        var lacking: UInt64 = 0
        for r in 0..<n { lacking |= pendingMissing[r] }
        if lacking != 0 {
            if !docMembers.isEmpty {
                let doc = documentFrame()
                if let p = docProblem(doc, lacking) {
                    reject(index, start, p, record: elementText(f, records: true))
                    return
                }
                fill(from: doc, records: 0)
                lacking = 0
                for r in 0..<n { lacking |= pendingMissing[r] }
            }
            if lacking != 0 {
                if docOpen {
                    try park(index: index, start: start, text: elementText(f, records: true))
                    return
                }
                if let p = missingProblem(lacking) {
                    reject(index, start, p, record: elementText(f, records: true))
                    return
                }
                applyDefaults()
            }
        }
        commitPending()
    }

    /// Appends the pending records (complete) to the batch.
    @inline(__always)
    func commitPending() {
        let n = pendingMissing.count
        let cols = plan.slotColumns
        pending.withUnsafeBufferPointer { p in
            for r in 0..<n {
                let b = r * stride
                vehicles.append(UInt32(truncatingIfNeeded: p[b]))
                times.append(p[b + 1])
                for s in 2..<stride { stages[cols[s]].append(p[b + s]) }
            }
        }
        report.rows += n
    }

    /// "missing vehicle_id; missing units" for required slots no object supplied; nil when
    /// only optional ones (with defaults) are absent.
    func missingProblem(_ lacking: UInt64) -> Problem? {
        let req = lacking & plan.required
        guard req != 0 else { return nil }
        let names = bitNames(req)
        return Problem(field: names[0], reason: names.map { "missing \($0)" }.joined(separator: "; "))
    }

    /// Absent optional inherited slots take their defaults.
    func applyDefaults() {
        for r in 0..<pendingMissing.count where pendingMissing[r] != 0 {
            forEachBit(pendingMissing[r]) { s in pending[r * stride + s] = defaultSlotValue(s) }
            pendingMissing[r] = 0
        }
    }

    func bitNames(_ mask: UInt64) -> [String] {
        var out: [String] = []
        forEachBit(mask) { out.append(plan.names[$0]) }
        return out
    }

    /// A rejected element's fields as a JSON object: its own valid values in slot order
    /// (inherited ones only when records sit deeper), then its valid records' own fields as
    /// the last step's array.
    func elementText(_ f: Frame, records: Bool) -> String {
        var parts: [String] = []
        let deep = plan.depth > 1
        forEachBit(deep ? f.found & plan.inherited : f.found) { s in
            parts.append("\(jsonQuoted(plan.names[s])):\(valueText(s, f.vals[s]))")
        }
        if deep && records && !pendingMissing.isEmpty {
            var recs: [String] = []
            for r in 0..<pendingMissing.count {
                var fields: [String] = []
                forEachBit(plan.recordScope & ~pendingMissing[r]) { s in
                    fields.append("\(jsonQuoted(plan.names[s])):\(valueText(s, pending[r * stride + s]))")
                }
                recs.append("{" + fields.joined(separator: ",") + "}")
            }
            parts.append("\(jsonQuoted(plan.layout.path[plan.depth - 1].key)):[" + recs.joined(separator: ",") + "]")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
