/// String column encoding (FORMAT.md §2.3.3): a chunk-local dictionary in order of first
/// appearance, then the ids as a constant, run-length pairs, or bit-packed — or, segment
/// version 3 on, a byte-sorted dictionary and one set per time (§2.7.4, Codec+StringSets) —
/// whichever is shortest before zstd.
public enum StringCodec {
    static let modeConstant: UInt8 = 0
    static let modeRLE: UInt8 = 1
    static let modePacked: UInt8 = 2
    /// Limit on one dictionary entry when decoding (SEMANTICS §1: ids ≤ 128 bytes, labels ≤ 64).
    public static let maxStringBytes = 1 << 16

    /// Reusable memory for `encode`: writer-wide id → chunk-local id, as an array (writer ids
    /// are small dense integers), reset after each call by clearing only the ids it used.
    public struct Scratch: Sendable {
        /// local id + 1 per writer-wide id; 0 = not in this chunk.
        var local: [UInt32] = []
        /// Writer-wide ids in order of first appearance.
        var order: [UInt32] = []
        /// Sets mode: per local id, its entry's position in byte order; and the local ids in
        /// that order.
        var position: [Int] = []
        var sorted: [Int] = []
        /// Sets mode: each row's position, and each local id's sort key (its first eight
        /// bytes, big-endian).
        var rowPositions: [UInt8] = []
        var prefixes: [UInt64] = []
        public init() {}
    }

    /// `ids` index into `dictionary` (a writer-wide table); only the entries used are stored.
    /// `times`, the chunk's times when given, lets the ids be stored as one set per time.
    /// Returns the number of distinct ids.
    @discardableResult
    public static func encode(
        _ ids: UnsafeBufferPointer<UInt32>, dictionary: [String], times: UnsafeBufferPointer<Int64>? = nil,
        scratch s: inout Scratch, into w: inout ByteWriter
    ) -> Int {
        if s.local.count < dictionary.count { resize(&s.local, to: dictionary.count, fill: 0) }
        s.order.removeAll(keepingCapacity: true)
        defer { for id in s.order { s.local[Int(id)] = 0 } }
        var runs = 0
        var rleBytes = 0
        s.local.withUnsafeMutableBufferPointer { local in
            var prev: UInt32 = .max
            var runStart = 0
            for (i, id) in ids.enumerated() {
                if local[Int(id)] == 0 {
                    s.order.append(id)
                    local[Int(id)] = UInt32(s.order.count)
                }
                if id != prev {
                    if i > 0 { rleBytes &+= varintSize(UInt64(local[Int(prev)] &- 1)) &+ varintSize(UInt64(i &- runStart)) }
                    runs &+= 1
                    prev = id
                    runStart = i
                }
            }
            if !ids.isEmpty { rleBytes &+= varintSize(UInt64(local[Int(prev)] &- 1)) &+ varintSize(UInt64(ids.count &- runStart)) }
        }
        let distinct = s.order.count
        if let times, times.count == ids.count, distinct >= 2, distinct <= StringSets.maxEntries,
           writeSets(ids, dictionary: dictionary, times: times, runs: runs, rleBytes: rleBytes, scratch: &s, into: &w)
        {
            return distinct
        }
        w.writeVarint(UInt64(distinct))
        for id in s.order { w.writeString(dictionary[Int(id)]) }
        if distinct <= 1 {
            w.writeUInt8(modeConstant)
            return distinct
        }
        let width = BitPacking.bitWidth(UInt64(distinct - 1))
        let packedBytes = BitPacking.packedSize(count: ids.count, width: width)
        rleBytes &+= varintSize(UInt64(runs))
        s.local.withUnsafeBufferPointer { local in
            if rleBytes < packedBytes {
                w.writeUInt8(modeRLE)
                w.writeVarint(UInt64(runs))
                var i = 0
                while i < ids.count {
                    var j = i + 1
                    while j < ids.count && ids[j] == ids[i] { j += 1 }
                    w.writeVarint(UInt64(local[Int(ids[i])] &- 1))
                    w.writeVarint(UInt64(j - i))
                    i = j
                }
            } else {
                w.writeUInt8(modePacked)
                BitPacking.pack(ids.count, width: width, into: &w) { UInt64(local[Int(ids[$0])] &- 1) }
            }
        }
        return distinct
    }

    /// Sets mode, when it is strictly smaller than run-length and packed ids: writes the sorted
    /// dictionary, the mode and the ranks and returns true; else writes nothing.
    private static func writeSets(
        _ ids: UnsafeBufferPointer<UInt32>, dictionary: [String], times: UnsafeBufferPointer<Int64>, runs: Int,
        rleBytes: Int, scratch s: inout Scratch, into w: inout ByteWriter
    ) -> Bool {
        let d = s.order.count
        sortByBytes(dictionary, &s)
        let packedBytes = BitPacking.packedSize(count: ids.count, width: BitPacking.bitWidth(UInt64(d - 1)))
        let rle = rleBytes &+ varintSize(UInt64(runs))
        // Each row's position in byte order, once; planning and writing read it.
        if s.rowPositions.count < ids.count { resize(&s.rowPositions, to: ids.count, fill: 0) }
        let fits: Bool = s.local.withUnsafeBufferPointer { local in
            s.position.withUnsafeBufferPointer { position in
                s.rowPositions.withUnsafeMutableBufferPointer { rows in
                    for r in 0..<ids.count { rows[r] = UInt8(truncatingIfNeeded: position[Int(local[Int(ids[r])] &- 1)]) }
                    let positions = UnsafeBufferPointer(rebasing: rows[0..<ids.count])
                    guard let bits = StringSets.plan(times: times, d: d, positions: positions) else { return false }
                    return (bits + 7) / 8 < min(packedBytes, rle)
                }
            }
        }
        guard fits else { return false }
        w.writeVarint(UInt64(d))
        for local in s.sorted { w.writeString(dictionary[Int(s.order[local])]) }
        w.writeUInt8(StringSets.mode)
        s.rowPositions.withUnsafeBufferPointer { rows in
            StringSets.write(times: times, d: d, positions: UnsafeBufferPointer(rebasing: rows[0..<ids.count]), into: &w)
        }
        return true
    }

    /// `s.sorted`: the local ids in byte order of their strings; `s.position`: each local id's
    /// place in that order. An insertion sort on each string's first eight bytes (big-endian,
    /// so integer order is byte order), comparing whole strings only on equal prefixes.
    private static func sortByBytes(_ dictionary: [String], _ s: inout Scratch) {
        let d = s.order.count
        resize(&s.prefixes, to: d, fill: 0)
        resize(&s.sorted, to: d, fill: 0)
        resize(&s.position, to: d, fill: 0)
        for l in 0..<d {
            var key: UInt64 = 0
            var n = 0
            for b in dictionary[Int(s.order[l])].utf8 {
                if n == 8 { break }
                key |= UInt64(b) << UInt64(56 - 8 * n)
                n += 1
            }
            s.prefixes[l] = key
        }
        let order = s.order
        s.prefixes.withUnsafeBufferPointer { prefix in
            s.sorted.withUnsafeMutableBufferPointer { sorted in
                func less(_ a: Int, _ b: Int) -> Bool {
                    if prefix[a] != prefix[b] { return prefix[a] < prefix[b] }
                    return byteLess(dictionary[Int(order[a])], dictionary[Int(order[b])])
                }
                for l in 0..<d {
                    var j = l
                    while j > 0 && less(l, sorted[j - 1]) {
                        sorted[j] = sorted[j - 1]
                        j -= 1
                    }
                    sorted[j] = l
                }
            }
        }
        for (p, local) in s.sorted.enumerated() { s.position[local] = p }
    }

    /// Decodes into `out.ids` / `out.dictionary`. False on malformed input, including mode 3
    /// in a segment older than version 3 or without `times`.
    public static func decode(
        _ raw: UnsafeRawBufferPointer, count n: Int, times: [Int64]? = nil,
        version: UInt16 = FormatConstants.segmentVersion, into out: inout DecodedColumn
    ) -> Bool {
        var r = ByteReader(raw)
        out.dictionary.removeAll(keepingCapacity: true)
        guard n >= 0, let dictCount = r.readLength(limit: max(n, 1)) else {
            out.ids.removeAll(keepingCapacity: true)
            return false
        }
        for _ in 0..<dictCount {
            guard let s = r.readString(limit: maxStringBytes) else { return false }
            out.dictionary.append(s)
        }
        guard let mode = r.readUInt8() else { return false }
        switch mode {
        case modeConstant:
            guard dictCount == 1 || (dictCount == 0 && n == 0) else { return false }
            out.ids.removeAll(keepingCapacity: true)
            out.ids.append(contentsOf: repeatElement(0, count: n))
            return r.isAtEnd
        case modeRLE:
            out.ids.removeAll(keepingCapacity: true)
            out.ids.reserveCapacity(n)
            guard let runs = r.readLength(limit: n) else { return false }
            for _ in 0..<runs {
                guard let id = r.readVarint(), id < UInt64(dictCount),
                      let len = r.readLength(limit: n - out.ids.count)
                else { return false }
                out.ids.append(contentsOf: repeatElement(UInt32(id), count: len))
            }
            return out.ids.count == n && r.isAtEnd
        case modePacked:
            guard dictCount >= 2 else { return false }
            let width = BitPacking.bitWidth(UInt64(dictCount - 1))
            guard let packed = r.readBytes(BitPacking.packedSize(count: n, width: width)) else { return false }
            resize(&out.ids, to: n, fill: 0)
            let ok = out.ids.withUnsafeMutableBufferPointer { o in
                n == 0 || BitPacking.unpackIDs(packed, count: n, width: width, limit: UInt64(dictCount), into: o.baseAddress!)
            }
            return ok && r.isAtEnd
        case StringSets.mode where version >= StringSets.sinceVersion:
            // The dictionary must be strictly ascending by bytes: entry order is row order.
            guard let times, times.count == n, dictCount >= 2, dictCount <= StringSets.maxEntries,
                  (1..<dictCount).allSatisfy({ byteLess(out.dictionary[$0 - 1], out.dictionary[$0]) }),
                  let rest = r.readBytes(r.remaining)
            else { return false }
            resize(&out.ids, to: n, fill: 0)
            return times.withUnsafeBufferPointer { t in
                out.ids.withUnsafeMutableBufferPointer { StringSets.decode(rest, times: t, d: dictCount, into: $0) }
            }
        default:
            return false
        }
    }
}
