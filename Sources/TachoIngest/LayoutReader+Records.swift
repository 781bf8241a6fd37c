import TachoFormat
import TachoJSON

/// The envelope's values for one layout (`LayoutReader.documentFrame`).
struct DocFrame {
    var vals: [Int64]
    var found: UInt64 = 0
    var bad: UInt64 = 0
    var problems: [Problem] = []
}

/// Per-level state of the open objects on the path, in raw memory owned by the reader
/// (level k's slot s at `k * LevelStore.slots + s`): the hot path touches no reference
/// counts. Level `LevelStore.scratch` is used to validate envelope values.
struct LevelStore {
    static let levels = 9
    static let slots = 64
    static let scratch = 8
    let vals = UnsafeMutablePointer<Int64>.allocate(capacity: levels * slots)
    /// Slots with a valid value; slots present with an invalid one.
    let found = UnsafeMutablePointer<UInt64>.allocate(capacity: levels)
    let bad = UnsafeMutablePointer<UInt64>.allocate(capacity: levels)
    /// The object held the array of the next path step.
    let hasNext = UnsafeMutablePointer<Bool>.allocate(capacity: levels)
    /// `pendingMissing.count` when the object opened: the records from there on are its own.
    let pendStart = UnsafeMutablePointer<Int>.allocate(capacity: levels)
    /// Counts of `LayoutReader.problems[k]` and `childProblems[k]`, so the hot path reads no array.
    let problemCount = UnsafeMutablePointer<Int>.allocate(capacity: levels)
    let childCount = UnsafeMutablePointer<Int>.allocate(capacity: levels)

    init() {
        vals.initialize(repeating: 0, count: Self.levels * Self.slots)
        for p in [found, bad] { p.initialize(repeating: 0, count: Self.levels) }
        hasNext.initialize(repeating: false, count: Self.levels)
        for p in [pendStart, problemCount, childCount] { p.initialize(repeating: 0, count: Self.levels) }
    }

    func deallocate() {
        vals.deallocate()
        found.deallocate()
        bad.deallocate()
        hasNext.deallocate()
        pendStart.deallocate()
        problemCount.deallocate()
        childCount.deallocate()
    }

    @inline(__always)
    func values(_ k: Int) -> UnsafeMutablePointer<Int64> { vals + k * Self.slots }
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
    @inline(__always)
    func addProblem(_ k: Int, _ p: Problem) {
        problems[k].append(p)
        lv.problemCount[k] += 1
    }

    @inline(__always)
    func addChildProblem(_ k: Int, _ p: Problem) {
        childProblems[k].append(p)
        lv.childCount[k] += 1
    }

    /// Reads the members of an object at `level` (its `{` consumed) into that level's
    /// state, descending into the next path step's array; then decides what the object is.
    func readObject(level k: Int, start: JSONPosition) throws {
        lv.found[k] = 0
        openLevel(k)
        try readMembers(level: k)
        closeObject(level: k, start: start)
    }

    /// Level `k`'s state for a new object, but for its found slots.
    @inline(__always)
    private func openLevel(_ k: Int) {
        lv.bad[k] = 0
        lv.hasNext[k] = false
        lv.pendStart[k] = pendingMissing.count
        if lv.problemCount[k] != 0 || lv.childCount[k] != 0 { clearProblems(k) }
    }

    @inline(never)
    private func clearProblems(_ k: Int) {
        problems[k].removeAll(keepingCapacity: true)
        lv.problemCount[k] = 0
        childProblems[k].removeAll(keepingCapacity: true)
        lv.childCount[k] = 0
    }

    /// A record at the last level of the path (where every layout's records are; `depth`),
    /// read the way `readObject` reads it, with the found slots in a register and the value
    /// fast paths inline: most records are a few valid members. The first value that needs
    /// more (a problem, a new string, `null`) hands the object to `readMembers` midway, with
    /// the level's state as `readObject` keeps it. On the fast path only `found` is kept:
    /// the level's other state is read only for a record with problems (`closeObject`,
    /// `childFailed`).
    @inline(__always)
    func readRecord(level k: Int) throws {
        if lv.problemCount[k] != 0 || lv.childCount[k] != 0 { clearProblems(k) }
        let vals = lv.values(k)
        var found: UInt64 = 0
        while true {
            let t = try parser.next()
            if t == .endObject { break }
            let s = parser.withStringBytes { keys.lookup($0) }
            // At the last level a path step's key is not descended into: skipped, as any other.
            guard s >= 0 else {
                try parser.skipValue()
                continue
            }
            let value = try parser.next()
            if let v = fastValue(value, s) {
                vals[s] = v
                found |= UInt64(1) << UInt64(s)
                continue
            }
            lv.found[k] = found
            openLevel(k)
            try readSlotChecked(value, s, k, kinds[s])
            try readMembers(level: k)
            return closeObject(level: k, start: JSONPosition(line: 0, column: 0, offset: 0))
        }
        lv.found[k] = found
        if recordScope & requiredMask & ~found == 0 {
            pushRecord(vals, found: found)
        } else {
            openLevel(k)
            closeObject(level: k, start: JSONPosition(line: 0, column: 0, offset: 0))
        }
    }

    /// The members of an object at `level` up to its `}`: slots into the level's state, the
    /// next path step's array descended into, anything else skipped.
    private func readMembers(level k: Int) throws {
        let last = depth
        let next = KeyTable.step(k)
        while true {
            let t = try parser.next()
            if t == .endObject { break }
            let target = parser.withStringBytes { keys.lookup($0) }
            if target >= 0 {
                try readSlot(target, level: k)
            } else if k < last && target == next {
                lv.hasNext[k] = true
                try readArray(level: k + 1)
            } else {
                try parser.skipValue()
            }
        }
    }

    /// The array of path step `level - 1` (its key just read): each element an object of `level`.
    private func readArray(level j: Int) throws {
        let parent = j - 1
        guard try parser.next() == .beginArray else {
            if parser.currentToken == .beginObject { try parser.skipToEndOfContainer() }
            let key = plan.layout.path[j - 1].key
            addProblem(parent, Problem(field: key, reason: "\(key) must be an array"))
            return
        }
        var i = 0
        while true {
            let t = try parser.next()
            if t == .endArray { return }
            defer { i += 1 }
            guard t == .beginObject else {
                if t == .beginArray { try parser.skipToEndOfContainer() }
                let item = plan.layout.path[j - 1].item
                addChildProblem(parent, Problem(field: nil, reason: "\(item) \(i): \(item) must be an object"))
                continue
            }
            // Where an object starts matters only for the repair message of an enclosing one.
            if j == depth {
                try readRecord(level: j)
            } else {
                try readObject(level: j, start: parser.position)
            }
            if lv.problemCount[j] != 0 || lv.childCount[j] != 0 { childFailed(level: j, index: i) }
        }
    }

    /// A child object at level `j` had problems: it is dropped with its records and its
    /// problems become its parent's ("detection 1: …"); the parent stays.
    private func childFailed(level j: Int, index i: Int) {
        let item = plan.layout.path[j - 1].item
        if let first = problems[j].first {
            let start = lv.pendStart[j]
            rows.truncate(to: pendBase + start * stride)
            pendingMissing.truncate(to: start)
            addChildProblem(j - 1, Problem(field: first.field, reason: "\(item) \(i): \(first.reason)"))
        }
        for p in childProblems[j] {
            addChildProblem(j - 1, Problem(field: p.field, reason: "\(item) \(i): \(p.reason)"))
        }
    }

    /// Decides what a closed object is: a record (the last level; an earlier one without
    /// the next array, i.e. flat; or, leniently, one carrying record fields beside that
    /// array), and fills the records read inside it with its values where they lack them.
    @inline(__always)
    private func closeObject(level k: Int, start: JSONPosition) {
        let last = depth
        let found = lv.found[k], bad = lv.bad[k]
        let own = (found | bad) & recordScope
        var isRecord = k == last
        if k < last {
            if !lv.hasNext[k] {
                if own == 0 && recordScope != 0 {
                    if lv.problemCount[k] == 0 {
                        let nextKey = plan.layout.path[k].key
                        let names = bitNames(recordScope & requiredMask).joined(separator: " and ")
                        addProblem(k, Problem(field: nextKey, reason: "missing \(nextKey) (or \(names))"))
                    }
                } else {
                    isRecord = true
                }
            } else if own != 0 {
                isRecord = recordBesideArray(level: k, start: start)
            }
        }
        if isRecord {
            let missingOwn = recordScope & requiredMask & ~(found | bad)
            if missingOwn != 0 {
                if k == last {
                    forEachBit(missingOwn) { s in addProblem(k, Problem(field: plan.names[s], reason: "missing \(plan.names[s])")) }
                } else if lv.problemCount[k] == 0 {
                    let s = missingOwn.trailingZeroBitCount
                    addProblem(k, Problem(field: plan.names[s], reason: "missing \(plan.names[s])"))
                }
            } else if bad & recordScope == 0 && (k < last || lv.problemCount[k] == 0) {
                pushRecord(level: k)
            }
        }
        if k < last { fill(from: lv.values(k), found, records: lv.pendStart[k]) }
    }

    /// An object that holds the next array and fields of a record of its own (the malformed
    /// appendix's event-level `object_type`/`object_value`): strict, a problem; lenient, one
    /// more record (true) and a repair.
    private func recordBesideArray(level k: Int, start: JSONPosition) -> Bool {
        let found = lv.found[k], bad = lv.bad[k]
        let nextKey = plan.layout.path[k].key
        let missingOwn = recordScope & requiredMask & ~(found | bad)
        if missingOwn != 0 {
            if lv.problemCount[k] == 0 {
                let s = missingOwn.trailingZeroBitCount
                addProblem(k, Problem(field: plan.names[s], reason: "missing \(plan.names[s])"))
            }
            return false
        }
        guard bad & recordScope == 0 else { return false }
        let names = plan.recordFieldNames
        guard options.lenient else {
            addProblem(k, Problem(field: nextKey, reason: "\(names) beside a \(nextKey) array (accepted with --lenient)"))
            return false
        }
        let item = plan.layout.path[k - 1].item, inner = plan.layout.path[depth - 1].item
        report.repairCount += 1
        report.repairs.append(
            "line \(start.line), column \(start.column): warning: \(item) \(pendingIndex) has \(names) beside \(nextKey); kept as one more \(inner)")
        return true
    }

    /// Adds the record whose values level `k` holds to the pending rows; record fields it lacks
    /// take their defaults, inherited ones are left to its enclosing objects.
    @inline(__always)
    private func pushRecord(level k: Int) { pushRecord(lv.values(k), found: lv.found[k]) }

    @inline(__always)
    private func pushRecord(_ vals: UnsafePointer<Int64>, found: UInt64) {
        let base = rows.count
        rows.append(vals, count: stride)
        var missing = ~found & allMask
        let defaults = missing & recordScope
        if defaults != 0 {
            applyDefaults(defaults, row: base)
            missing &= ~defaults
        }
        pendingMissing.append(missing)
    }

    /// A record's absent optional fields (`defaults`) take their defaults.
    @inline(never)
    private func applyDefaults(_ defaults: UInt64, row base: Int) {
        forEachBit(defaults) { s in rows[base + s] = defaultSlotValue(s) }
    }

    /// Gives the records from `start` on the values `vals` has (`have`) for slots they lack.
    @inline(__always)
    func fill(from vals: UnsafePointer<Int64>, _ have: UInt64, records start: Int) {
        guard have != 0 else { return }
        let n = pendingMissing.count
        guard start < n else { return }
        let w = stride, pb = pendBase
        let rows = self.rows.base
        let missing = pendingMissing.base
        for r in start..<n {
            let m = missing[r] & have
            if m == 0 { continue }
            let row = rows + pb + r * w
            forEachBit(m) { s in row[s] = vals[s] }
            missing[r] = missing[r] & ~m
        }
    }

    /// The index of the element being read, for repair messages.
    var pendingIndex: Int { report.events - 1 }

    /// An element of the first array closed: it is rejected whole (its own problems), or its
    /// child problems are reported and its records stored, or they wait for the document.
    func closeElement(index: Int, start: JSONPosition) throws {
        if lv.problemCount[1] != 0 {
            let ps = problems[1]
            let reason = ps.map(\.reason).joined(separator: "; ")
            reject(index, start, Problem(field: ps[0].field, reason: reason), record: elementText(records: true))
            return dropPending()
        }
        if lv.childCount[1] != 0 {
            let text = elementText(records: false)
            for p in childProblems[1] { reject(index, start, p, record: text) }
        }
        let n = pendingMissing.count
        guard n > 0 else { return }
        var lacking: UInt64 = 0
        for r in 0..<n { lacking |= pendingMissing[r] }
        if lacking != 0 {
            if !docMembers.isEmpty {
                let doc = documentFrame()
                if let p = docProblem(doc, lacking) {
                    reject(index, start, p, record: elementText(records: true))
                    return dropPending()
                }
                doc.vals.withUnsafeBufferPointer { fill(from: $0.baseAddress!, doc.found, records: 0) }
                lacking = 0
                for r in 0..<n { lacking |= pendingMissing[r] }
            }
            if lacking != 0 {
                if docOpen {
                    try park(index: index, start: start, text: elementText(records: true))
                    return dropPending()
                }
                if let p = missingProblem(lacking) {
                    reject(index, start, p, record: elementText(records: true))
                    return dropPending()
                }
                applyDefaults()
            }
        }
        commitPending()
    }

    /// Keeps the pending records (complete) in the batch: they are its last rows already.
    @inline(__always)
    func commitPending() {
        rowCount += pendingMissing.count
        report.rows += pendingMissing.count
    }

    /// Removes the current element's records (rejected, or parked to wait).
    func dropPending() {
        rows.truncate(to: pendBase)
        pendingMissing.removeAll()
    }

    /// "missing vehicle_id; missing units" for required slots no object supplied; nil when
    /// only optional ones (with defaults) are absent.
    func missingProblem(_ lacking: UInt64) -> Problem? {
        let req = lacking & requiredMask
        guard req != 0 else { return nil }
        let names = bitNames(req)
        return Problem(field: names[0], reason: names.map { "missing \($0)" }.joined(separator: "; "))
    }

    /// Absent optional inherited slots take their defaults.
    func applyDefaults() {
        for r in 0..<pendingMissing.count where pendingMissing[r] != 0 {
            forEachBit(pendingMissing[r]) { s in rows[pendBase + r * stride + s] = defaultSlotValue(s) }
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
    func elementText(records: Bool) -> String {
        var parts: [String] = []
        let deep = depth > 1
        let vals = lv.values(1)
        forEachBit(deep ? lv.found[1] & plan.inherited : lv.found[1]) { s in
            parts.append("\(jsonQuoted(plan.names[s])):\(valueText(s, vals[s]))")
        }
        if deep && records && !pendingMissing.isEmpty {
            var recs: [String] = []
            for r in 0..<pendingMissing.count {
                var fields: [String] = []
                forEachBit(recordScope & ~pendingMissing[r]) { s in
                    fields.append("\(jsonQuoted(plan.names[s])):\(valueText(s, rows[pendBase + r * stride + s]))")
                }
                recs.append("{" + fields.joined(separator: ",") + "}")
            }
            parts.append("\(jsonQuoted(plan.layout.path[depth - 1].key)):[" + recs.joined(separator: ",") + "]")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }
}
