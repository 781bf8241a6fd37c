import TachoFormat
import TachoJSON

/// A `RecordLayout` prepared for reading: its fields numbered as slots (0 the vehicle, 1 the
/// time, 2… the fields in order) and its keys in a table matched on raw key bytes.
struct LayoutPlan {
    enum Slot {
        case vehicle(FieldLayout)
        case time(TimeLayout)
        case field(FieldLayout, ColumnType)
    }

    let layout: RecordLayout
    let slots: [Slot]
    let names: [String]
    let keys: KeyTable
    /// Slots a record must carry itself (`FieldScope.record`).
    let recordScope: UInt64
    /// Slots that may come from enclosing objects.
    let inherited: UInt64
    /// Slots without which a record is rejected.
    let required: UInt64
    /// Every slot.
    let all: UInt64
    /// Slots holding dictionary ids (the vehicle, string columns).
    let stringSlots: UInt64
    /// The measurement column of each slot (-1 for the vehicle and time).
    let slotColumns: [Int]
    /// Per slot: how its value is read, and the allowed strings and list separator.
    let kinds: [SlotKind]
    let allowed: [[[UInt8]]]
    let separators: [[UInt8]]
    /// Number of path steps: records sit at level `depth` (level 0 is the document).
    var depth: Int { layout.path.count }
    var count: Int { slots.count }

    init(_ layout: RecordLayout) {
        self.layout = layout
        var slots: [Slot] = [.vehicle(layout.vehicle), .time(layout.time)]
        var names = [layout.vehicle.name, layout.time.name]
        for f in layout.fields {
            let type = layout.measurement.columns.indices.contains(f.column) ? layout.measurement.columns[f.column].type : .string
            slots.append(.field(f, type))
            names.append(f.name)
        }
        precondition(slots.count <= LevelStore.slots, "a layout has at most 62 fields")
        precondition(layout.path.count >= 1 && layout.path.count < LevelStore.scratch, "a layout's path has 1 to 7 steps")
        self.slots = slots
        self.names = names
        let table = KeyTable()
        var recordScope: UInt64 = 0, required: UInt64 = 0
        for (s, slot) in slots.enumerated() {
            let bit = UInt64(1) << UInt64(s)
            switch slot {
            case .vehicle(let f):
                for k in f.keys { table.add(k, target: s) }
                if f.scope == .record { recordScope |= bit }
                required |= bit
            case .time(let t):
                for k in t.keys { table.add(k, target: s) }
                if t.scope == .record { recordScope |= bit }
                required |= bit
            case .field(let f, _):
                for k in f.keys { table.add(k, target: s) }
                if f.scope == .record { recordScope |= bit }
                if f.required || f.defaultValue == nil { required |= bit }
            }
        }
        for (k, step) in layout.path.enumerated() { table.add(step.key, target: KeyTable.step(k)) }
        table.seal()
        keys = table
        self.recordScope = recordScope
        self.required = required
        let all: UInt64 = slots.count == 64 ? ~0 : (UInt64(1) << UInt64(slots.count)) - 1
        self.all = all
        inherited = all & ~recordScope
        var stringSlots: UInt64 = 1
        var slotColumns = [-1, -1]
        for f in layout.fields {
            let c = f.column
            precondition(
                layout.measurement.columns.indices.contains(c) && !slotColumns.contains(c),
                "layout of \(layout.measurement.name): field \(f.name) names column \(c), which is missing or taken")
            if layout.measurement.columns[c].type == .string { stringSlots |= 1 << UInt64(slotColumns.count) }
            slotColumns.append(c)
        }
        precondition(
            slotColumns.count - 2 == layout.measurement.columns.count,
            "layout of \(layout.measurement.name): \(slotColumns.count - 2) fields for \(layout.measurement.columns.count) columns")
        self.stringSlots = stringSlots
        self.slotColumns = slotColumns
        kinds = slots.map(SlotKind.init)
        allowed = slots.map { slot in
            if case .field(let f, _) = slot, let a = f.rule.allowed { return a.map { Array($0.utf8) } }
            return []
        }
        separators = slots.map { slot in
            if case .field(let f, _) = slot, case .joinedStrings(let sep) = f.input { return Array(sep.utf8) }
            return []
        }
    }

    /// "object_type/object_value": the record's own fields, for messages.
    var recordFieldNames: String {
        names.indices.filter { recordScope & (1 << UInt64($0)) != 0 }.map { names[$0] }.joined(separator: "/")
    }

    /// The default of an absent optional slot, if it has one.
    func defaultValue(_ s: Int) -> FieldDefault? {
        if case .field(let f, _) = slots[s] { return f.defaultValue }
        return nil
    }
}

/// Input keys → slot (≥ 0) or path step (`step(k)`, < 0). Owns the key bytes; `view`
/// reads them.
final class KeyTable: @unchecked Sendable {
    static func step(_ k: Int) -> Int { -(k + 1) }
    static let none = Int.min

    private(set) var keys: [(bytes: [UInt8], target: Int)] = []
    private var storage: UnsafeMutableRawPointer?
    private(set) var view = KeyView()

    func add(_ key: String, target: Int) {
        let bytes = Array(key.utf8)
        guard !keys.contains(where: { $0.bytes == bytes }) else { return }
        keys.append((bytes, target))
    }

    /// Lays the keys out for `view`; call once, after the last `add`.
    func seal() {
        let n = keys.count
        let bytes = keys.reduce(0) { $0 + $1.bytes.count }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 40 + bytes + 8, alignment: 8)
        storage = raw
        let lens = raw.bindMemory(to: Int.self, capacity: n)
        let heads = (raw + n * 8).bindMemory(to: UInt64.self, capacity: n)
        let targets = (raw + n * 16).bindMemory(to: Int.self, capacity: n)
        let offsets = (raw + n * 24).bindMemory(to: Int.self, capacity: n)
        let tails = (raw + n * 32).bindMemory(to: UInt64.self, capacity: n)
        let text = (raw + n * 40).bindMemory(to: UInt8.self, capacity: bytes + 8)
        var at = 0
        for (i, k) in keys.enumerated() {
            lens[i] = k.bytes.count
            heads[i] = k.bytes.withUnsafeBytes(KeyView.head)
            tails[i] = k.bytes.withUnsafeBytes(KeyView.tail)
            targets[i] = k.target
            offsets[i] = at
            for b in k.bytes {
                text[at] = b
                at += 1
            }
        }
        view = KeyView(
            count: n, lens: UnsafePointer(lens), heads: UnsafePointer(heads), tails: UnsafePointer(tails),
            targets: UnsafePointer(targets), offsets: UnsafePointer(offsets), text: UnsafePointer(text))
    }

    deinit { storage?.deallocate() }
}

/// A `KeyTable`'s keys in raw memory, matched on raw key bytes: length, first and last eight
/// bytes as words (all of a key up to 16 bytes), then the middle. Layouts have a handful of keys, so a linear scan beats hashing.
/// Valid while its table lives.
struct KeyView {
    var count = 0
    var lens = KeyView.empty.assumingMemoryBound(to: Int.self)
    var heads = KeyView.empty.assumingMemoryBound(to: UInt64.self)
    var tails = KeyView.empty.assumingMemoryBound(to: UInt64.self)
    var targets = KeyView.empty.assumingMemoryBound(to: Int.self)
    var offsets = KeyView.empty.assumingMemoryBound(to: Int.self)
    var text = KeyView.empty.assumingMemoryBound(to: UInt8.self)

    /// What an empty view points at (never read: its count is 0).
    nonisolated(unsafe) static let empty = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8))

    @inline(__always)
    static func head(_ b: UnsafeRawBufferPointer) -> UInt64 {
        let n = b.count
        if n >= 8 { return b.loadUnaligned(as: UInt64.self) }
        var w: UInt64 = 0
        for i in 0..<n { w |= UInt64(b[i]) << UInt64(8 * i) }
        return w
    }

    /// The last eight bytes of a key longer than eight, as a word (0 otherwise).
    @inline(__always)
    static func tail(_ b: UnsafeRawBufferPointer) -> UInt64 {
        b.count > 8 ? b.loadUnaligned(fromByteOffset: b.count - 8, as: UInt64.self) : 0
    }

    /// The target of `key`, or `KeyTable.none`.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer) -> Int {
        let n = key.count
        let head = Self.head(key), tail = Self.tail(key)
        for i in 0..<count where lens[i] == n && heads[i] == head && tails[i] == tail {
            if n <= 16 || memcmpEqual(text + offsets[i] + 8, key.baseAddress! + 8, n - 16) { return targets[i] }
        }
        return KeyTable.none
    }
}

/// A slot's reading rules as plain values (no arrays), cheap to copy on the hot path.
struct SlotKind {
    enum Input: UInt8 { case string, stringOrInteger, time, integer, number, bool, joined }

    var input: Input
    var timeFormat: TimeFormat = .rfc3339
    var min: Double?
    var max: Double?
    var maxBytes = 1 << 20
    var hasAllowed = false

    init(_ slot: LayoutPlan.Slot) {
        switch slot {
        case .vehicle(let f):
            input = f.input == .string(numbers: true) ? .stringOrInteger : .string
            maxBytes = f.rule.maxBytes ?? maxBytes
        case .time(let t):
            input = .time
            timeFormat = t.format
        case .field(let f, _):
            switch f.input {
            case .string(let numbers): input = numbers ? .stringOrInteger : .string
            case .integer: input = .integer
            case .number: input = .number
            case .joinedStrings: input = .joined
            case .bool: input = .bool
            }
            min = f.rule.min
            max = f.rule.max
            maxBytes = f.rule.maxBytes ?? maxBytes
            hasAllowed = f.rule.allowed != nil
        }
    }

    /// What a value of the wrong JSON type should have been.
    var want: String {
        switch input {
        case .string: "a string"
        case .stringOrInteger: "a string or an integer"
        case .time: timeFormat == .rfc3339 ? "a string" : "a number (\(timeFormat.rawValue))"
        case .integer: "an integer" + rangeText
        case .number: "a number" + rangeText
        case .bool: "true or false"
        case .joined: "an array of strings"
        }
    }

    /// " ≥ 0", " ≥ -90 and ≤ 90", or "".
    var rangeText: String {
        var parts: [String] = []
        if let min { parts.append("≥ \(Self.format(min))") }
        if let max { parts.append("≤ \(Self.format(max))") }
        return parts.isEmpty ? "" : " " + parts.joined(separator: " and ")
    }

    @inline(__always)
    func contains(_ v: Double) -> Bool {
        if let min, v < min { return false }
        if let max, v > max { return false }
        return true
    }

    static func format(_ d: Double) -> String {
        d == d.rounded() && d.magnitude < 1e15 ? String(Int64(d)) : String(d)
    }
}
