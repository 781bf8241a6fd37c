/// Where the keys of a config are written, for errors that TOMLKit cannot place: it reports
/// positions for syntax errors only, never for the nodes of a parsed document.
///
/// Not a TOML parser: TOMLKit has already accepted the text; this walks its lines and notes
/// table headers (`[a.b]`, `[[a]]`, counted per array), `key = value` lines, the keys of
/// inline tables and the items of arrays that fit on their lines. A path written twice (the
/// walk guessed wrong, e.g. inside a multi-line string) is ambiguous and gets no position;
/// anything the walk does not understand is skipped, never guessed. Columns count bytes.
struct TOMLKeyLocator {
    enum Part: Hashable { case key(String), index(Int) }

    private var found: [[Part]: TOMLPosition] = [:]
    private var ambiguous: Set<[Part]> = []
    /// The delimiter of a multi-line string left open at the end of the current line.
    private var openString: [UInt8]?
    /// An array left open at the end of the current line, and its next item's index.
    private var openArray: (path: [Part], next: Int)?
    /// The first table header whose name does not start with a key character, `"`, `'` or `]`
    /// (`[.a]`, `[=]`, `[` at a line's end). toml++ 3.4 *assumes* it never meets one
    /// (`TOML_ASSERT_ASSUME` in `parse_key`: an abort in a debug build, undefined behaviour in
    /// a release build), so `TOMLReader` refuses such text before TOMLKit sees it.
    private(set) var unsafeHeader: TOMLPosition?

    /// Where `path` is written: its value (keys), its header (tables) or its first byte (array
    /// items), when that is known and unambiguous.
    subscript(path: [Part]) -> TOMLPosition? { ambiguous.contains(path) ? nil : found[path] }

    init(_ bytes: [UInt8]) {
        var current: [Part] = []
        var arrayCounts: [[Part]: Int] = [:]
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        for (n, line) in lines.enumerated() {
            let l = Array(line), lineNo = n + 1
            if let d = openString {
                if let end = Self.find(d, in: l, from: 0) { openString = nil; _ = end }
                continue
            }
            if let open = openArray {
                openArray = nil
                walkArray(l, 0, open.path, open.next, lineNo)
                continue
            }
            let i = Self.skipSpaces(l, 0)
            guard i < l.count, l[i] != Self.hash else { continue }
            if l[i] == Self.lbracket {
                let double = i + 1 < l.count && l[i + 1] == Self.lbracket
                var name = i + (double ? 2 : 1)
                while name < l.count, l[name] == 0x20 || l[name] == 0x09 { name += 1 }
                let safe = name < l.count
                    ? TOMLWriter.isBareKeyByte(l[name]) || [Self.quote, Self.apostrophe, Self.rbracket].contains(l[name])
                    : n == lines.count - 1
                if !safe, unsafeHeader == nil { unsafeHeader = TOMLPosition(line: lineNo, column: name + 1) }
                guard let (parts, _) = Self.keyParts(l, i + (double ? 2 : 1)) else { continue }
                var p: [Part] = []
                for k in parts.dropLast() {
                    p.append(.key(k))
                    if let c = arrayCounts[p] { p.append(.index(c - 1)) }
                }
                p.append(.key(parts[parts.count - 1]))
                if double {
                    let c = arrayCounts[p, default: 0]
                    arrayCounts[p] = c + 1
                    p.append(.index(c))
                } else if let c = arrayCounts[p] {
                    p.append(.index(c - 1))
                }
                current = p
                record(p, lineNo, i)
                continue
            }
            _ = keyValue(l, i, current, lineNo)
        }
    }

    // MARK: Walking one line

    /// `key = value` at `l[i]`: records the key (at its value) and walks the value.
    private mutating func keyValue(_ l: [UInt8], _ i: Int, _ base: [Part], _ line: Int) -> Int? {
        guard let (parts, k) = Self.keyParts(l, i) else { return nil }
        var j = Self.skipSpaces(l, k)
        guard j < l.count, l[j] == Self.equals else { return nil }
        j = Self.skipSpaces(l, j + 1)
        guard j < l.count else { return nil }
        let path = base + parts.map(Part.key)
        record(path, line, j)
        return value(l, j, path, line)
    }

    /// Skips the value at `l[j]`, recording what it holds; the index after it, or nil when it
    /// does not end on this line.
    private mutating func value(_ l: [UInt8], _ j: Int, _ path: [Part], _ line: Int) -> Int? {
        // The walk may run before TOMLKit has refused deep nesting: give up instead of recursing.
        guard path.count <= 2 * TOMLReader.maxDepth else { return nil }
        switch l[j] {
        case Self.quote, Self.apostrophe: return skipString(l, j)
        case Self.lbrace:
            var k = j + 1
            while true {
                k = Self.skipSpaces(l, k)
                guard k < l.count else { return nil }
                if l[k] == Self.rbrace { return k + 1 }
                guard let end = keyValue(l, k, path, line) else { return nil }
                k = Self.skipSpaces(l, end)
                guard k < l.count else { return nil }
                if l[k] == Self.rbrace { return k + 1 }
                guard l[k] == Self.comma else { return nil }
                k += 1
            }
        case Self.lbracket: return walkArray(l, j + 1, path, 0, line)
        default:
            var k = j
            while k < l.count, ![Self.comma, Self.rbrace, Self.rbracket, Self.hash, 0x20, 0x09, 0x0D].contains(l[k]) { k += 1 }
            return k
        }
    }

    /// The items of an array from `l[j]` on: the index after its `]`, or nil with the array
    /// left open for the next line when the line ends after a whole item.
    @discardableResult
    private mutating func walkArray(_ l: [UInt8], _ j0: Int, _ path: [Part], _ first: Int, _ line: Int) -> Int? {
        var j = j0, index = first
        while true {
            j = Self.skipSpaces(l, j)
            if j >= l.count || l[j] == Self.hash { openArray = (path, index); return nil }
            if l[j] == Self.rbracket { return j + 1 }
            let item = path + [.index(index)]
            record(item, line, j)
            guard let end = value(l, j, item, line) else { return nil }
            j = Self.skipSpaces(l, end)
            index += 1
            if j < l.count, l[j] == Self.comma { j += 1; continue }
            if j < l.count, l[j] == Self.rbracket { return j + 1 }
            if j >= l.count || l[j] == Self.hash { openArray = (path, index); return nil }
            return nil
        }
    }

    /// Past a string at `l[j]`; nil when a multi-line string stays open past this line.
    private mutating func skipString(_ l: [UInt8], _ j: Int) -> Int? {
        let q = l[j]
        let triple = [q, q, q]
        // Only a look at the three bytes here: searching the rest of the line for them made a
        // one-line array of n inline tables cost O(n²) (10,000 fields took minutes).
        if j + 3 <= l.count, l[j + 1] == q, l[j + 2] == q {
            if let end = Self.find(triple, in: l, from: j + 3) { return end + 3 }
            openString = triple
            return nil
        }
        var k = j + 1
        while k < l.count {
            if l[k] == q { return k + 1 }
            k += (q == Self.quote && l[k] == Self.backslash) ? 2 : 1
        }
        return nil
    }

    private mutating func record(_ path: [Part], _ line: Int, _ index: Int) {
        let p = TOMLPosition(line: line, column: index + 1)
        if let old = found[path], old != p { ambiguous.insert(path) }
        found[path] = p
    }

    // MARK: Bytes

    static let hash = UInt8(ascii: "#"), equals = UInt8(ascii: "="), comma = UInt8(ascii: ","), dot = UInt8(ascii: ".")
    static let lbracket = UInt8(ascii: "["), rbracket = UInt8(ascii: "]"), lbrace = UInt8(ascii: "{"), rbrace = UInt8(ascii: "}")
    static let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\")

    static func skipSpaces(_ l: [UInt8], _ i: Int) -> Int {
        var i = i
        while i < l.count, l[i] == 0x20 || l[i] == 0x09 || l[i] == 0x0D { i += 1 }
        return i
    }

    static func find(_ needle: [UInt8], in l: [UInt8], from: Int) -> Int? {
        guard from + needle.count <= l.count else { return nil }
        return (from...(l.count - needle.count)).first { l[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// A dotted key at `l[i]` (bare or quoted parts) and the index after it; nil for anything
    /// else, including basic-string keys with escapes other than `\"` and `\\`.
    static func keyParts(_ l: [UInt8], _ i0: Int) -> ([String], Int)? {
        var parts: [String] = [], i = i0
        while true {
            i = skipSpaces(l, i)
            guard i < l.count else { return nil }
            var part: [UInt8] = []
            if l[i] == quote || l[i] == apostrophe {
                let q = l[i]
                i += 1
                while i < l.count, l[i] != q {
                    if q == quote, l[i] == backslash {
                        guard i + 1 < l.count, l[i + 1] == quote || l[i + 1] == backslash else { return nil }
                        i += 1
                    }
                    part.append(l[i])
                    i += 1
                }
                guard i < l.count else { return nil }
                i += 1
            } else {
                while i < l.count, TOMLWriter.isBareKeyByte(l[i]) { part.append(l[i]); i += 1 }
                guard !part.isEmpty else { return nil }
            }
            parts.append(String(decoding: part, as: UTF8.self))
            let k = skipSpaces(l, i)
            guard k < l.count, l[k] == dot else { return (parts, i) }
            i = k + 1
        }
    }
}
