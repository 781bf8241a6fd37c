import TachoFormat

/// A comparison operator of a `--where` filter.
public enum FilterOp: String, Sendable, Hashable, CaseIterable {
    case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
}

/// Keep only rows whose column `column` compares with the value as `op` says
/// (docs/SEMANTICS.md "Filters"):
/// - numbers (int64, float64): `= != < <= > >=`; an int64 column compared with an integer
///   literal compares exactly, with a decimal literal as Doubles;
/// - strings and bools: `=` and `!=` (bools are `true`/`false`); strings match by bytes;
/// - string lists: `=` means "the list contains the value", `!=` "does not contain it";
/// - a null cell matches no filter, `!=` included.
/// Several `values` (only with `=`, not for numbers or bools) match a row holding any of
/// them: `--type a --type b`; no values with `=` match nothing.
public struct ColumnFilter: Sendable, Hashable {
    public var column: String
    public var op: FilterOp
    public var values: [String]

    public init(_ column: String, _ op: FilterOp, _ values: [String]) {
        (self.column, self.op, self.values) = (column, op, values)
    }

    public init(_ column: String, _ op: FilterOp, _ value: String) { self.init(column, op, [value]) }

    /// `severity>=2`, `alarm_type = harsh_braking`, `units!=kW`: the column, the first
    /// operator, the value (spaces around the column and the value are dropped).
    public static func parse(_ text: String) throws -> ColumnFilter {
        let b = Array(text.utf8)
        for i in b.indices where b[i] == UInt8(ascii: "=") || b[i] == UInt8(ascii: "<") || b[i] == UInt8(ascii: ">")
            || b[i] == UInt8(ascii: "!") {
            let two = i + 1 < b.count && b[i + 1] == UInt8(ascii: "=")
            let op: FilterOp
            switch (b[i], two) {
            case (UInt8(ascii: "!"), true): op = .ne
            case (UInt8(ascii: "!"), false): continue
            case (UInt8(ascii: "<"), true): op = .le
            case (UInt8(ascii: "<"), false): op = .lt
            case (UInt8(ascii: ">"), true): op = .ge
            case (UInt8(ascii: ">"), false): op = .gt
            default: op = .eq
            }
            let name = trimSpaces(String(decoding: b[..<i], as: UTF8.self))
            let value = trimSpaces(String(decoding: b[(i + (op.rawValue.utf8.count))...], as: UTF8.self))
            guard !name.isEmpty else { break }
            return ColumnFilter(name, op, value)
        }
        throw QueryError(.badFilter, "filter \"\(text)\": expected COLUMN OP VALUE with OP one of = != < <= > >= (e.g. severity>=2)")
    }

    static func trimSpaces(_ s: String) -> String {
        var t = Substring(s)
        while t.first == " " { t.removeFirst() }
        while t.last == " " { t.removeLast() }
        return String(t)
    }

    var text: String { "\(column)\(op.rawValue)\(values.joined(separator: "|"))" }
}

/// What the footer says about a chunk and a filter.
enum ChunkVerdict { case none, all, unknown }

/// A `ColumnFilter` checked against a measurement: the column index, its kind and the
/// value in the column's type.
struct ResolvedFilter: Sendable {
    let column: Int
    let op: FilterOp
    let kind: CellKind
    let strings: Set<ByteString>
    /// The literal as an integer when it is one (int64 columns compare exactly then).
    let int: Int64?
    let double: Double
    let bool: Bool

    init(_ f: ColumnFilter, in m: Measurement) throws {
        column = try MeasurementLookup.column(f.column, of: m)
        op = f.op
        kind = ChunkCells.kind(m, column)
        let col = "\(m.name).\(m.columns[column].name) (\(m.columns[column].type))"
        guard f.values.count <= 1 || f.op == .eq else {
            throw QueryError(.badFilter, "filter \(f.text): several values need = (any of them)")
        }
        strings = Set(bytesOf: f.values)
        var int: Int64?, double = 0.0, bool = false
        switch kind {
        case .string, .stringList:
            guard op == .eq || op == .ne else {
                throw QueryError(.badFilter, "filter \(f.text): \(col) compares with = or != only")
            }
        case .bool:
            guard op == .eq || op == .ne else {
                throw QueryError(.badFilter, "filter \(f.text): \(col) compares with = or != only")
            }
            guard f.values.count == 1, let b = Bool(f.values[0]) else {
                throw QueryError(.badFilter, "filter \(f.text): \(col) expects true or false")
            }
            bool = b
        case .int, .double:
            guard f.values.count == 1 else { throw QueryError(.badFilter, "filter \(f.text): \(col) takes one number") }
            let v = f.values[0]
            if let i = Int64(v) {
                int = i
                double = Double(i)
            } else if let d = Double(v), d.isFinite {
                double = d
            } else {
                throw QueryError(.badFilter, "filter \(f.text): \(col) expects a number, not \"\(v)\"")
            }
            if kind == .double { int = nil }
        }
        (self.int, self.double, self.bool) = (int, double, bool)
    }

    @inline(__always)
    func test<T: Comparable>(_ x: T, _ v: T) -> Bool {
        switch op {
        case .eq: x == v
        case .ne: x != v
        case .lt: x < v
        case .le: x <= v
        case .gt: x > v
        case .ge: x >= v
        }
    }

    /// Whether every row passes or none can, from the footer alone.
    func verdict(_ meta: ChunkMeta) -> ChunkVerdict {
        let nulls = ChunkCells.mayHaveNulls(meta, column: column)
        switch kind {
        case .string:
            guard let s = ChunkCells.singleNonNullString(meta, column: column) else { return .unknown }
            return passes(string: s) ? (nulls ? .unknown : .all) : .none
        case .bool:
            let n = ChunkCells.valueCount(meta, column: column), t = ChunkCells.trueCount(meta, column: column)
            let hits = bool ? t : n - t  // rows whose value equals the filter's
            let kept = op == .eq ? hits : n - hits
            return kept == 0 ? .none : (kept == meta.rowCount ? .all : .unknown)
        case .int, .double:
            let none: Bool, all: Bool
            if kind == .int, let v = int {
                let (lo, hi) = ChunkCells.intRange(meta, column: column)
                (none, all) = rangeVerdict(lo, hi, v)
            } else {
                var (lo, hi) = ChunkCells.doubleRange(meta, column: column)
                if kind == .int {
                    let r = ChunkCells.intRange(meta, column: column)
                    (lo, hi) = (Double(r.min), Double(r.max))
                }
                if lo.isNaN || hi.isNaN { return .unknown }
                (none, all) = rangeVerdict(lo, hi, double)
            }
            if none { return .none }
            return all && !nulls ? .all : .unknown
        case .stringList:
            return .unknown
        }
    }

    /// (no row in [lo, hi] passes, every value in [lo, hi] passes).
    func rangeVerdict<T: Comparable>(_ lo: T, _ hi: T, _ v: T) -> (Bool, Bool) {
        switch op {
        case .eq: (v < lo || v > hi, lo == v && hi == v)
        case .ne: (lo == v && hi == v, v < lo || v > hi)
        case .lt: (lo >= v, hi < v)
        case .le: (lo > v, hi <= v)
        case .gt: (hi <= v, lo > v)
        case .ge: (hi < v, lo >= v)
        }
    }

    func passes(string s: String) -> Bool { strings.contains(bytesOf: s) == (op == .eq) }

    /// The test on one decoded cell (the slow, general path).
    func passes(_ cell: CellValue) -> Bool {
        switch cell {
        case .null: false
        case .string(let s): passes(string: s)
        case .strings(let a): a.contains { strings.contains(bytesOf: $0) } == (op == .eq)
        case .bool(let b): (b == bool) == (op == .eq)
        case .int(let x): int.map { test(x, $0) } ?? test(Double(x), double)
        case .double(let x): test(x, double)
        }
    }

    /// Narrows `rows` (chunk row indexes, ascending) to those that pass. Strings are
    /// compared once per dictionary entry, rows by id.
    func select(_ chunk: DecodedChunk, _ rows: RowSelection, keep: inout [Bool]) -> RowSelection {
        let nulls = ChunkCells.hasNulls(chunk, column: column)
        switch kind {
        case .string:
            keep.removeAll(keepingCapacity: true)
            var kept = 0
            for s in ChunkCells.dictionary(chunk, column: column) {
                let k = passes(string: s)
                keep.append(k)
                if k { kept += 1 }
            }
            if kept == 0 { return .indexes([]) }
            if kept == keep.count && !nulls { return rows }
            return keep.withUnsafeBufferPointer { keep in
                ChunkCells.withIDs(chunk, column: column) { ids in
                    rows.filter { keep[Int(ids[$0])] && !(nulls && ChunkCells.isNull(chunk, column: column, row: $0)) }
                }
            }
        case .int where int != nil:
            let v = int ?? 0
            return ChunkCells.withInts(chunk, column: column) { xs in
                rows.filter { test(xs[$0], v) && !(nulls && ChunkCells.isNull(chunk, column: column, row: $0)) }
            }
        case .double:
            return ChunkCells.withDoubles(chunk, column: column) { xs in
                rows.filter { test(xs[$0], double) && !(nulls && ChunkCells.isNull(chunk, column: column, row: $0)) }
            }
        default:
            return rows.filter { passes(ChunkCells.cell(chunk, column: column, row: $0)) }
        }
    }
}

extension RowSelection {
    /// The selected rows that pass `keep`, as indexes.
    @inline(__always)
    func filter(_ keep: (Int) -> Bool) -> RowSelection {
        var out: [Int] = []
        switch self {
        case .range(let r): for i in r where keep(i) { out.append(i) }
        case .indexes(let a): for i in a where keep(i) { out.append(i) }
        }
        return .indexes(out)
    }

    var isEmpty: Bool {
        switch self {
        case .range(let r): r.isEmpty
        case .indexes(let a): a.isEmpty
        }
    }
}

/// Every filter of a query, resolved: the footer test for whole chunks and the row test.
struct RowPredicate: Sendable {
    let filters: [ResolvedFilter]

    init(_ filters: [ColumnFilter], in m: Measurement) throws {
        self.filters = try filters.map { try ResolvedFilter($0, in: m) }
    }

    var isEmpty: Bool { filters.isEmpty }

    /// Columns the filters read.
    var columns: Set<Int> { Set(filters.map(\.column)) }

    /// `.none` when the footer shows no row of the chunk passes, `.all` when every row does.
    func verdict(_ meta: ChunkMeta) -> ChunkVerdict {
        var all = true
        for f in filters {
            switch f.verdict(meta) {
            case .none: return .none
            case .unknown: all = false
            case .all: break
            }
        }
        return all ? .all : .unknown
    }

    /// String columns the filters test (what a dictionary probe decodes), as a column mask
    /// of `m`; nil when no filter is on a string column.
    func stringColumns(_ m: Measurement) -> [Bool]? {
        let cols = Set(filters.filter { $0.kind == .string }.map(\.column))
        return cols.isEmpty ? nil : m.columns.indices.map { cols.contains($0) }
    }

    /// Whether a string filter keeps no entry of its column's dictionary: then no row of
    /// the chunk passes, whatever the other columns hold.
    func dictionaryRulesOut(_ chunk: DecodedChunk) -> Bool {
        filters.contains { f in
            f.kind == .string && !ChunkCells.dictionary(chunk, column: f.column).contains { f.passes(string: $0) }
        }
    }

    func select(_ chunk: DecodedChunk, _ range: Range<Int>, keep: inout [Bool]) -> RowSelection {
        var sel = RowSelection.range(range)
        for f in filters {
            sel = f.select(chunk, sel, keep: &keep)
            if sel.isEmpty { return .indexes([]) }
        }
        return sel
    }
}
