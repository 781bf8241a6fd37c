/// Open-addressing hash table from (bucket index, vehicle, group key) to a dense group number.
/// Keys are plain integers, so a lookup is a multiply and a probe instead of a `Hasher`
/// run — this is what keeps 1-second buckets over a million rows fast.
struct GroupTable {
    private var buckets: [Int64] = []
    private var groups: [UInt64] = []
    /// Group number + 1 per slot; 0 marks an empty slot.
    private var slots: [Int32] = []
    private var mask = 0
    private(set) var count = 0

    init() { resize(1024) }

    @inline(__always)
    static func pack(vehicle: Int32, key: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: vehicle)) << 32 | UInt64(UInt32(bitPattern: key))
    }

    @inline(__always)
    private func home(_ bucket: Int64, _ group: UInt64) -> Int {
        var h = UInt64(bitPattern: bucket) &* 0x9E37_79B9_7F4A_7C15 ^ group &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 29
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The group number of the key, or a new one (`count` before the call) if it is new.
    @inline(__always)
    mutating func index(bucket: Int64, group: UInt64) -> (index: Int, isNew: Bool) {
        var i = home(bucket, group)
        while true {
            let s = slots[i]
            if s == 0 { break }
            if buckets[i] == bucket && groups[i] == group { return (Int(s) - 1, false) }
            i = (i + 1) & mask
        }
        slots[i] = Int32(count + 1)
        buckets[i] = bucket
        groups[i] = group
        count += 1
        if count * 2 > slots.count { resize(slots.count * 2) }
        return (count - 1, true)
    }

    /// The group number of the key, or nil when it was never added.
    func find(bucket: Int64, group: UInt64) -> Int? {
        var i = home(bucket, group)
        while true {
            let s = slots[i]
            if s == 0 { return nil }
            if buckets[i] == bucket && groups[i] == group { return Int(s) - 1 }
            i = (i + 1) & mask
        }
    }

    private mutating func resize(_ capacity: Int) {
        let (ob, og, os) = (buckets, groups, slots)
        buckets = [Int64](repeating: 0, count: capacity)
        groups = [UInt64](repeating: 0, count: capacity)
        slots = [Int32](repeating: 0, count: capacity)
        mask = capacity - 1
        for k in os.indices where os[k] != 0 {
            var i = home(ob[k], og[k])
            while slots[i] != 0 { i = (i + 1) & mask }
            (slots[i], buckets[i], groups[i]) = (os[k], ob[k], og[k])
        }
    }
}
