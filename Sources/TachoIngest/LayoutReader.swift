import TachoFormat
import TachoJSON
import TachoStore

/// Reads one file with the streaming parser, driven by `RecordLayout`s: the records of every
/// layout whose array the file holds become rows of its measurement (docs/SEMANTICS.md §1,
/// "Reading records"). One mechanism for nested and flat detections, status, and envelope
/// fields before or after their array (power): a field absent from a record is taken from
/// its nearest enclosing object that has it.
///
/// Rows stream: a record waits for its enclosing objects only while a field it lacks may
/// still come (columnar, in `pending` until its top-level element closes, then in `waiting`
/// until the document closes); complete rows go to the batch, handed on every
/// `ReaderOptions.batchRows` rows.
///
/// Mutable state is `@exclusivity(unchecked)` (as in `JSONParser`): one thread reads a file,
/// and no method lends inout access to these properties across a call that could touch them
/// again.
final class LayoutReader {
    let parser: JSONParser
    let options: ReaderOptions
    let plans: [LayoutPlan]
    /// Records are one per line (NDJSON), each an element of the layout's first array.
    let lines: Bool
    @exclusivity(unchecked) var report: FileReport
    @exclusivity(unchecked) var interner = ByteInterner()
    /// Bumped whenever `interner` is emptied: cached ids of older epochs are stale.
    @exclusivity(unchecked) var epoch = 0
    /// The layout being read (index into `plans`) and its plan's facts.
    @exclusivity(unchecked) var current = 0
    @exclusivity(unchecked) var plan: LayoutPlan
    @exclusivity(unchecked) var expiredBefore: Int64 = .min
    /// The rows read since the last flush, row-major in slot order (vehicle, time,
    /// fields): a complete element's records are appended with one copy.
    @exclusivity(unchecked) var rows = RowStore()
    @exclusivity(unchecked) var rowCount = 0
    /// The open objects on the path, per level (raw memory, see `LevelStore`), and their
    /// problems (counted in `lv.problemCount`/`lv.childCount`).
    let lv = LevelStore()
    @exclusivity(unchecked) var problems: [[Problem]] = Array(repeating: [], count: LevelStore.levels)
    @exclusivity(unchecked) var childProblems: [[Problem]] = Array(repeating: [], count: LevelStore.levels)
    /// The current plan's facts the hot path reads, as plain values.
    @exclusivity(unchecked) var keys = KeyView()
    let kinds = UnsafeMutablePointer<SlotKind>.allocate(capacity: LevelStore.slots)
    @exclusivity(unchecked) var depth = 1
    @exclusivity(unchecked) var recordScope: UInt64 = 0
    @exclusivity(unchecked) var requiredMask: UInt64 = 0
    @exclusivity(unchecked) var allMask: UInt64 = 0
    /// Records of the current top-level element: `rows` from `pendBase` on (`stride` values
    /// each; kept when the element is stored, cut off when it is rejected), and the slots
    /// each still lacks.
    @exclusivity(unchecked) var pendBase = 0
    @exclusivity(unchecked) var pendingMissing = MaskStore()
    @exclusivity(unchecked) var stride = 2
    /// The marker of an absent optional field of a nullable int64 column while it is read
    /// (`nullSlot` until a value read equals it, then one no value read has: `avoidIntNull`).
    @exclusivity(unchecked) var intNull = LayoutReader.nullSlot
    /// Top-level scalar members (envelope fields), as read; `docFrames` their values per layout.
    @exclusivity(unchecked) var docMembers: [DocMember] = []
    @exclusivity(unchecked) var docFrames: [Int: (epoch: Int, frame: DocFrame)] = [:]
    /// The document is still open: an envelope field may yet come.
    @exclusivity(unchecked) var docOpen = true
    /// Elements whose records lack a field the document may still supply.
    @exclusivity(unchecked) var waiting: [WaitingElement] = []
    @exclusivity(unchecked) var waitingRecords = 0
    /// While an element of the first array closes: its bytes in the input (for rejects).
    var elementBytes: Range<Int>?
    /// The layout named by the file's name, if any.
    let guessed: Int?
    /// A batch the sink is done with, if any, to fill next (see `flush`).
    var recycled: (() -> RowBatch?)?

    init(path: String, parser: JSONParser, options: ReaderOptions, lines: Bool = false) {
        self.parser = parser
        self.options = options
        self.lines = lines
        let layouts = options.layouts.isEmpty ? [RecordLayout.detections, .status] : options.layouts
        plans = layouts.map(LayoutPlan.init)
        plan = plans[0]
        report = FileReport(path: path)
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        guessed = layouts.firstIndex { $0.matches(fileName: fileName) }
    }

    deinit {
        lv.deallocate()
        kinds.deallocate()
    }

    func fail(_ message: String) -> FileError {
        let p = parser.position
        return FileError(path: report.path, line: p.line, column: p.column, offset: p.offset, message: message)
    }

    /// Reads the whole input: a top-level object (every known array read as its layout,
    /// whatever the file name says; the file name's layout, when it has one, must be
    /// present; without one, at least one known array must be), or NDJSON records.
    func readDocument(sink: (RowBatch) throws -> Void) throws {
        if lines { return try readLines(sink: sink) }
        guard try parser.next() == .beginObject else {
            throw fail("expected a JSON object at the top level")
        }
        var found: [Int] = []
        while true {
            let t = try parser.next()
            if t == .endObject { break }
            guard t == .key else { throw fail("expected a key") }
            if let k = arrayLayout() {
                if found.isEmpty || k != current { try switchLayout(k, sink) }
                if !found.contains(k) { found.append(k) }
                try readTopArray(sink: sink)
            } else if isEnvelopeKey() {
                try captureMember()
            } else {
                let p = parser.position
                report.warnings.append("line \(p.line), column \(p.column): skipped unknown top-level key \(jsonQuoted(parser.stringValue))")
                try parser.skipValue()
            }
        }
        guard try parser.next() == .endOfDocument else { throw fail("expected end of document") }
        docOpen = false
        try settleWaiting(sink)
        if let guessed, !found.contains(guessed) {
            throw FileError(path: report.path, message: "no \"\(plans[guessed].layout.topLevelKey)\" array found")
        }
        guard let first = found.first else {
            let want = plans.map { "\"\($0.layout.topLevelKey)\"" }.joined(separator: " or ")
            throw FileError(path: report.path, message: "no \(want) array found")
        }
        report.kind = plans[guessed ?? first].layout
        report.kinds = found.map { plans[$0].layout }
        try flush(sink)
    }

    /// NDJSON: one element of the named layout's first array per line.
    private func readLines(sink: (RowBatch) throws -> Void) throws {
        guard let k = guessed else {
            let names = plans.flatMap(\.layout.filePrefixes).map { "\($0)_…" }.joined(separator: ", ")
            throw FileError(path: report.path, message: "the measurement of an NDJSON file is told by its name: expected one of \(names)")
        }
        docOpen = false
        try switchLayout(k, sink)
        var index = 0
        while true {
            let t = try parser.next()
            if t == .endOfDocument { break }
            try readElement(t, index: index)
            index += 1
            if rowCount >= options.batchRows { try flush(sink) }
        }
        report.kind = plans[k].layout
        report.kinds = [plans[k].layout]
        try flush(sink)
    }

    /// The layout whose first path step is the current key (the file name's layout first).
    private func arrayLayout() -> Int? {
        parser.withStringBytes { b in
            if let g = guessed, plans[g].keys.view.lookup(b) == KeyTable.step(0) { return g }
            return plans.indices.first { plans[$0].keys.view.lookup(b) == KeyTable.step(0) }
        }
    }

    /// The current key names an inherited field of some layout: a possible envelope field.
    private func isEnvelopeKey() -> Bool {
        parser.withStringBytes { b in
            plans.contains { p in
                let s = p.keys.view.lookup(b)
                return s >= 0 && p.inherited & (1 << UInt64(s)) != 0
            }
        }
    }

    func switchLayout(_ k: Int, _ sink: (RowBatch) throws -> Void) throws {
        try flush(sink)
        current = k
        plan = plans[k]
        expiredBefore = options.expiredBefore[plan.layout.measurement.id] ?? .min
        stride = plan.count
        keys = plan.keys.view
        depth = plan.depth
        recordScope = plan.recordScope
        requiredMask = plan.required
        allMask = plan.all
        for (i, k) in plan.kinds.enumerated() { kinds[i] = k }
        rows.reserve(options.batchRows * stride)
    }

    /// Hands the rows read so far to the sink, as a batch made of this reader's arrays. A
    /// batch the sink gave back (`recycled`) lends its storage for the next rows.
    func flush(_ sink: (RowBatch) throws -> Void) throws {
        guard rowCount > 0 else { return }
        let measurement = plan.layout.measurement
        var batch = RowBatch(measurement)
        if let reuse = recycled?(), reuse.measurement == measurement {
            batch = reuse
            batch.removeAll()
        }
        transpose(into: &batch)
        batch.setDictionary(interner.strings)
        rows.removeAll()
        rowCount = 0
        try sink(batch)
        interner.removeAll()
        epoch += 1
    }

    /// The row-major rows into the batch's columns.
    private func transpose(into batch: inout RowBatch) {
        let n = rowCount, w = stride
        do {
            let p = UnsafePointer(rows.base)
            func column<T>(_ slot: Int, _ convert: (Int64) -> T) -> [T] {
                [T](unsafeUninitializedCapacity: n) { out, count in
                    var src = p + slot
                    for r in 0..<n {
                        (out.baseAddress! + r).initialize(to: convert(src.pointee))
                        src += w
                    }
                    count = n
                }
            }
            batch.vehicles = column(0) { UInt32(truncatingIfNeeded: $0) }
            batch.times = column(1) { $0 }
            for s in 2..<w {
                let c = plan.slotColumns[s]
                let nullable = plan.defaultValue(s) == .null
                switch batch.columns[c].type {
                case .int64: batch.columns[c].ints = column(s) { $0 }
                case .float64: batch.columns[c].doubles = column(s) { Double(bitPattern: UInt64(bitPattern: $0)) }
                case .string: batch.columns[c].ids = column(s) { UInt32(truncatingIfNeeded: $0) }
                case .bool: batch.columns[c].bools = column(s) { $0 == 1 }
                case .stringList: fillLists(&batch.columns[c], slot: s, rows: p, count: n, stride: w)
                }
                if nullable { markNulls(&batch.columns[c], slot: s, rows: p, count: n, stride: w) }
            }
        }
    }

    /// The value of an absent optional field of a nullable column while it is read: a NaN
    /// bit pattern, which no finite float, string id or bool takes. Every int64 can be a
    /// value: int64 columns use `intNull`, which moves away from the values read.
    static let nullSlot = Int64(bitPattern: 0x7FF8_0000_DEAD_BEEF)

    /// Null rows of a nullable column: its flags, and the type's zero value in place of the
    /// marker (string columns: the id of "").
    private func markNulls(_ col: inout ColumnValues, slot s: Int, rows p: UnsafePointer<Int64>, count n: Int, stride w: Int) {
        let marker = col.type == .int64 ? intNull : Self.nullSlot
        var any = false
        for r in 0..<n where p[r * w + s] == marker { any = true; break }
        guard any else { return }
        let empty = UInt32(Array("".utf8).withUnsafeBytes { interner.intern($0) })
        var nulls = [Bool](repeating: false, count: n)
        for r in 0..<n where p[r * w + s] == marker {
            nulls[r] = true
            switch col.type {
            case .int64: col.ints[r] = 0
            case .float64: col.doubles[r] = 0
            case .string: col.ids[r] = empty
            case .bool: col.bools[r] = false
            case .stringList: break
            }
        }
        col.nulls = nulls
    }

    /// A stringList column from the rows' joined lists (`RecordLayout.listSeparator`): each
    /// row's elements interned one by one.
    private func fillLists(_ col: inout ColumnValues, slot s: Int, rows p: UnsafePointer<Int64>, count n: Int, stride w: Int) {
        col.ids.removeAll(keepingCapacity: true)
        col.listEnds.removeAll(keepingCapacity: true)
        let sep = UInt8(0x1F)
        for r in 0..<n {
            let v = p[r * w + s]
            if v != Self.nullSlot, interner.strings.indices.contains(Int(v)) {
                let bytes = Array(interner.strings[Int(v)].utf8)
                if !bytes.isEmpty {
                    for part in bytes.split(separator: sep, omittingEmptySubsequences: false) {
                        col.ids.append(UInt32(Array(part).withUnsafeBytes { interner.intern($0) }))
                    }
                }
            }
            col.listEnds.append(UInt32(col.ids.count))
        }
    }

    /// Reads the first array of the current layout: its elements, one by one.
    private func readTopArray(sink: (RowBatch) throws -> Void) throws {
        guard try parser.next() == .beginArray else { throw fail("expected an array of \(plan.layout.path[0].item)s") }
        var index = 0
        while true {
            let t = try parser.next()
            if t == .endArray { return }
            try readElement(t, index: index)
            index += 1
            if rowCount >= options.batchRows { try flush(sink) }
        }
    }

    /// One element of the first array (`t` its first token): rejected unless an object.
    private func readElement(_ t: JSONToken, index: Int) throws {
        let p = parser.position
        report.events += 1
        guard t == .beginObject else {
            let text: String
            switch t {
            case .number: text = parser.withNumberBytes { String(decoding: $0, as: UTF8.self) }
            case .string: text = jsonQuoted(parser.stringValue)
            case .bool(let b): text = b ? "true" : "false"
            case .beginArray:
                try parser.skipToEndOfContainer()
                text = "[]"
            default: text = "null"
            }
            reject(index, p, Problem(field: nil, reason: "expected \(article(plan.layout.path[0].item)) object"), record: text)
            return
        }
        pendBase = rows.count
        pendingMissing.removeAll()
        if depth == 1 {
            try readRecord(level: 1)
        } else {
            try readObject(level: 1, start: p)
        }
        // The last token read is the element's `}`: the element is [start, that + 1).
        elementBytes = p.offset..<(parser.position.offset + 1)
        defer { elementBytes = nil }
        try closeElement(index: index, start: p)
    }

    func reject(_ index: Int, _ p: JSONPosition, _ problem: Problem, record: String) {
        report.rejectCount += 1
        guard report.rejects.count < options.maxRejectsKept else { return }
        report.rejects.append(
            RecordReject(
                index: index, line: p.line, column: p.column, reason: problem.reason, record: record,
                measurement: plan.layout.measurement.name, field: problem.field,
                bytes: elementBytes.flatMap { $0.lowerBound == p.offset ? $0 : nil }))
    }
}

/// "an event", "a detection".
func article(_ word: String) -> String {
    guard let c = word.first else { return word }
    return ("aeiou".contains(c) ? "an " : "a ") + word
}

/// A problem with a record: which field (nil: the record as a whole) and why.
struct Problem: Sendable, Hashable {
    var field: String?
    var reason: String
}
