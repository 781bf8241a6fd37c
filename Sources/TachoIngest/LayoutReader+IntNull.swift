import TachoFormat

/// The marker of absent int64 fields (`LayoutReader.intNull`). Every Int64 is a valid value,
/// so no fixed marker works: when a value about to be stored equals the marker, the reader
/// picks another that no int64 value it holds has and re-marks the absent fields it holds.
/// That costs one comparison per int64 value read and, in practice, never happens.
extension LayoutReader {
    /// Whether slot `s` of the current layout holds an int64 column.
    func isIntColumn(_ s: Int) -> Bool {
        if case .field(_, .int64) = plan.slots[s] { return true }
        return false
    }

    /// Slots of `p` whose absent values are marked with `intNull`.
    static func intNullSlots(_ p: LayoutPlan) -> UInt64 {
        var mask: UInt64 = 0
        for (s, slot) in p.slots.enumerated() {
            if case .field(let f, .int64) = slot, f.defaultValue == .null { mask |= 1 << UInt64(s) }
        }
        return mask
    }

    /// A value equal to `intNull` is about to be stored: move the marker to a value no int64
    /// value held has (the buffered rows, the records waiting for the envelope, the open
    /// objects, the envelope's values) and re-mark the absent fields held with it.
    @inline(never)
    func avoidIntNull() {
        let old = intNull
        var present = Set<Int64>([old])
        // Rows: complete up to the current element's records, whose missing slots hold nothing yet.
        let mask = Self.intNullSlots(plan)
        let w = stride
        let total = rows.count / w
        let pendFirst = min(pendBase, rows.count) / w
        func valid(_ r: Int) -> UInt64 {
            let k = r - pendFirst
            return k >= 0 && k < pendingMissing.count ? mask & ~pendingMissing[k] : mask
        }
        for r in 0..<total {
            forEachBit(valid(r)) { s in present.insert(rows[r * w + s]) }
        }
        for e in waiting {
            let p = plans[e.layout]
            let m = Self.intNullSlots(p)
            for r in e.missing.indices { forEachBit(m & ~e.missing[r]) { s in present.insert(e.values[r * p.count + s]) } }
        }
        for k in 0..<LevelStore.levels {
            let vals = lv.values(k)
            forEachBit(mask & lv.found[k]) { s in present.insert(vals[s]) }
        }
        for (k, entry) in docFrames {
            let f = entry.frame
            forEachBit(Self.intNullSlots(plans[k]) & f.found) { s in present.insert(f.vals[s]) }
        }
        var next = old
        repeat { next = next &+ Int64(bitPattern: 0x9E37_79B9_7F4A_7C15) } while present.contains(next)
        for r in 0..<total {
            forEachBit(valid(r)) { s in if rows[r * w + s] == old { rows[r * w + s] = next } }
        }
        for i in waiting.indices {
            let p = plans[waiting[i].layout]
            let m = Self.intNullSlots(p)
            for r in waiting[i].missing.indices {
                forEachBit(m & ~waiting[i].missing[r]) { s in
                    if waiting[i].values[r * p.count + s] == old { waiting[i].values[r * p.count + s] = next }
                }
            }
        }
        intNull = next
    }
}
