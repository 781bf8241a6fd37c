import TachoFormat

extension ScanCursor {
    /// Decodes overlapping chunks of one vehicle from several segments and merges them into
    /// one batch in (time, identity) order where, per identity, the highest seq wins.
    func merge(_ vehicle: String, _ pieces: [(reader: SegmentReader, seq: UInt64, meta: ChunkMeta)]) throws -> ScanBatch {
        let m = spec.measurement
        // Identity columns are needed to dedupe even when the caller skips them.
        var wanted = spec.columns ?? Array(repeating: true, count: m.columns.count)
        for i in m.identityColumns { wanted[i] = true }
        var decoded: [DecodedChunk] = []
        for p in pieces {
            var c = DecodedChunk(measurement: m)
            do {
                try p.reader.decode(p.meta, columns: wanted, into: &c)
            } catch let e as SegmentError {
                throw StoreError.corrupt(e)
            }
            decoded.append(c)
        }
        // One merged dictionary per string column.
        var dicts = [[String]](repeating: [], count: m.columns.count)
        var lookups = [[ByteString: UInt32]](repeating: [:], count: m.columns.count)
        var remap = [[[UInt32]]](repeating: [], count: m.columns.count)
        for c in m.columns.indices where wanted[c] && m.columns[c].type.codec.usesDictionary {
            for d in decoded {
                remap[c].append(d.columns[c].dictionary.map { s in
                    let key = ByteString(s)
                    if let id = lookups[c][key] { return id }
                    let id = UInt32(dicts[c].count)
                    dicts[c].append(s)
                    lookups[c][key] = id
                    return id
                })
            }
        }
        struct Ref { var src: Int; var row: Int; var seq: UInt64 }
        var refs: [Ref] = []
        for (k, d) in decoded.enumerated() {
            let r = trim(d.times)
            for i in r { refs.append(Ref(src: k, row: i, seq: pieces[k].seq)) }
        }
        // The one row order and identity equality (`RowComparator`, FORMAT.md §2.5), as the
        // seal used when it wrote each segment.
        let comparator = RowComparator(m)
        func compareIdentity(_ a: Ref, _ b: Ref) -> Int {
            comparator.compare(decoded[a.src], a.row, decoded[b.src], b.row)
        }
        refs.sort { a, b in
            let c = compareIdentity(a, b)
            return c != 0 ? c < 0 : a.seq < b.seq
        }
        var out = DecodedChunk(measurement: m)
        for c in m.columns.indices { out.columns[c].dictionary = dicts[c] }
        var i = 0
        while i < refs.count {
            var j = i
            while j + 1 < refs.count && compareIdentity(refs[j + 1], refs[i]) == 0 { j += 1 }
            let r = refs[j]  // highest seq of this identity
            let d = decoded[r.src]
            out.times.append(d.times[r.row])
            for c in m.columns.indices where wanted[c] {
                let dict = m.columns[c].type.codec.usesDictionary
                out.columns[c].values.append(from: d.columns[c].values, r.row..<(r.row + 1), remap: dict ? remap[c][r.src] : nil)
            }
            i = j + 1
        }
        return ScanBatch(vehicle: vehicle, chunk: out, range: 0..<out.count)
    }
}
