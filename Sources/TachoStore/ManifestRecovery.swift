import Logging
import TachoFormat

/// What `StoreWriter.rebuildManifest` found and did (FORMAT.md §3.6).
public struct ManifestRecovery: Sendable {
    /// Why MANIFEST was rebuilt: it was missing, or it failed its checks (the reason).
    public var damage: String?
    /// Where the damaged MANIFEST was kept (`MANIFEST.damaged-<n>`), if there was one.
    public var keptAs: String?
    /// Intact segments now in the manifest, by seq.
    public var segments: [SegmentMeta] = []
    /// Files moved from segments/ (and damaged ledgers from index/) to quarantine/, with why.
    public var quarantined: [(name: String, problem: String)] = []
    /// What the quarantined segments held, where their footers still tell.
    public var lost: [(measurement: String, partition: String, vehicles: [String], rows: Int)] = []
    /// Ledger files now in the manifest, in number (= commit) order.
    public var ledgers: [String] = []
    public var nextNumber: UInt64 = 1
    public var partitionWidth: Int64 = 0
    /// How the width was chosen; `widthDetermined` false when the segments could not tell.
    public var widthReason = ""
    public var widthDetermined = false
    /// The rebuilt latest-status index ("" when no measurement has a latest column).
    public var latestIndex = ""

    public var rows: Int { segments.reduce(0) { $0 + $1.rowCount } }
    /// Distinct (measurement, partition) pairs of the recovered segments.
    public var partitions: Int { Set(segments.map { "\($0.measurementID)/\($0.partitionStart)" }).count }
}

extension StoreWriter {
    /// `tacho verify --repair` when MANIFEST is missing or fails its checks: rebuilds it from
    /// the files on disk under the writer lock (FORMAT.md §3.6). Returns nil, changing nothing,
    /// when MANIFEST is intact. Every segment in segments/ is read in full (every block's
    /// checksum); damaged ones go to quarantine/. A damaged MANIFEST is renamed
    /// `MANIFEST.damaged-<n>`, never overwritten. Throws (changing nothing) when a file was
    /// written by a newer tacho, or when there is nothing to rebuild from (not a store).
    public static func rebuildManifest(path: String, options: StoreOptions = StoreOptions()) throws -> ManifestRecovery? {
        let layout = StoreLayout(root: path)
        let fs = options.fileSystem
        let log = options.logger
        try layout.checkSubdirectories(fs: options.fileSystem)
        // Without the lock first: an intact MANIFEST (the usual case) needs nothing, not even
        // the lock a running writer holds; no MANIFEST and no files is not a store at all.
        switch Result(catching: { try readManifest(layout, fs: fs) }) {
        case .success(.some): return nil
        case .success(.none) where leftoverFiles(layout, fs: fs) == 0:
            throw StoreError(.notFound, "rebuild manifest", path: path, "no MANIFEST and no segment or index files: not a Tacho store, nothing to rebuild")
        default: break
        }
        let lock = try StoreLock(path: layout.lock, environment: options.environment, waitSeconds: options.lockWaitSeconds) { pid in
            log.notice("store is locked by another writer; waiting", metadata: ["pid": "\(pid)"])
        }
        defer { lock.release() }
        var out = ManifestRecovery()
        var bytes: [UInt8]?
        do {
            bytes = try readFile(layout.manifest, fs: fs)
        } catch let e as StoreError where e.code == .notFound {
            bytes = nil
        }
        if let bytes {
            do {
                _ = try Manifest.decode(bytes, path: layout.manifest)
                return nil  // intact: nothing to rebuild
            } catch let e as StoreError {
                if Self.isNewerManifest(bytes) {
                    throw StoreError(
                        .invalidArgument, "rebuild manifest", path: layout.manifest,
                        "refusing to rebuild: \(e.detail) (written by a newer tacho); run verify --repair with that tacho (or a later one)")
                }
                out.damage = e.detail
            }
        }
        // A running `tacho compact` (COMPACTING held) is writing files with the numbers it
        // reserved: neither included (unfinished) nor quarantined (not damage); the new
        // next_number stays above them, so its switch can still publish them.
        let reserved = CompactionClaim.liveReservation(layout.compacting, fs: fs)
        func isReserved(_ name: String) -> Bool { reserved.map { r in Self.fileNumber(name).map(r.contains) ?? false } ?? false }
        let segmentNames = ((try? fs.listDirectory(layout.segmentsDir)) ?? []).filter { !isReserved($0) }
        let indexNames = ((try? fs.listDirectory(layout.indexDir)) ?? []).filter { !isReserved($0) }
        if bytes == nil && segmentNames.isEmpty && indexNames.isEmpty {
            throw StoreError(.notFound, "rebuild manifest", path: path, "no MANIFEST and no segment or index files: not a Tacho store, nothing to rebuild")
        }
        // Segments are checked against the catalog (FORMAT.md §7): the newest generation in
        // index/ that is intact (generations only grow; an orphan of an interrupted commit
        // describes the orphan segments included below), else the legacy CATALOG file (whose
        // damage stops the rebuild: measurements cannot be guessed), else the built-ins.
        // Damaged generations are quarantined.
        var damaged: [(name: String, problem: String, dir: String)] = []
        var catalogGeneration: (name: String, crc: UInt32)?
        var newest: Catalog?
        let generations = indexNames.filter { $0.hasPrefix("catalog-") && $0.hasSuffix(".cat") }
            .compactMap { n in Self.fileNumber(n).map { ($0, n) } }.sorted { $0.0 > $1.0 }
        for (_, name) in generations {
            let p = layout.indexPath(name)
            guard let b = try? readFile(p, fs: fs), let c = try? CatalogFile.decode(b, path: p) else {
                damaged.append((name, "catalog file damaged", layout.indexDir))
                continue
            }
            if newest == nil {
                newest = c
                catalogGeneration = (name, MetadataFile.storedCRC(b))
            }
        }
        let catalog = try newest ?? CatalogFile.read(layout, manifest: nil, fs: fs)

        // Segments: every file, read in full. A file whose footer parses but that does not
        // decode is damage like any other: verify --repair would quarantine it too.
        var maxNumber: UInt64 = reserved.map { $0.upperBound > 0 ? $0.upperBound - 1 : 0 } ?? 0
        var intact: [(meta: SegmentMeta, lo: Int64, hi: Int64)] = []
        for name in segmentNames {
            if let n = Self.fileNumber(name) { maxNumber = max(maxNumber, n) }
            let p = layout.segmentPath(name)
            do {
                let (meta, lo, hi) = try Self.checkSegment(p, name: name, catalog: catalog, fs: fs)
                maxNumber = max(maxNumber, meta.seq)
                intact.append((meta, lo, hi))
            } catch let e as SegmentError where e.newerFormat {
                throw StoreError(
                    .invalidArgument, "rebuild manifest", path: p,
                    "refusing to rebuild: \(e.problem); run verify --repair with that tacho (or a later one)")
            } catch let e as SegmentError {
                damaged.append((name, "at offset \(e.offset): \(e.problem)", layout.segmentsDir))
                out.lost += Self.footerSummary(p, fs: fs)
            } catch let e as StoreError where e.code == .corrupt {
                damaged.append((name, e.detail, layout.segmentsDir))
                out.lost += Self.footerSummary(p, fs: fs)
            }
        }
        // One seq names one file (§0): a second intact file claiming a seq is not trusted.
        intact.sort { ($0.meta.seq, $0.meta.name) < ($1.meta.seq, $1.meta.name) }
        var seen: [UInt64: String] = [:]
        intact.removeAll { s in
            if let first = seen[s.meta.seq] {
                damaged.append((s.meta.name, "seq \(s.meta.seq) is already the seq of \(first)", layout.segmentsDir))
                return true
            }
            seen[s.meta.seq] = s.meta.name
            return false
        }
        // The store's width is told by the segments of measurements without a width of their
        // own; the others' widths are in their catalog entries (FORMAT.md §7).
        let width = Self.inferPartitionWidth(
            intact.filter { catalog.measurement(id: $0.meta.measurementID)?.partitionWidth == nil }.map { ($0.meta.partitionStart, $0.hi) },
            default: options.partitionWidth)
        (out.partitionWidth, out.widthReason, out.widthDetermined) = width

        // Ledgers: those that pass their checks, in number order (commit order: a ledger merge
        // takes its number when it is planned, above every ledger it merges).
        var ledgers: [(number: UInt64, name: String)] = []
        for name in indexNames {
            guard let n = Self.fileNumber(name) else { continue }
            maxNumber = max(maxNumber, n)
            guard name.hasPrefix("ledger-") && name.hasSuffix(".led") else { continue }
            if (try? readFile(layout.indexPath(name), fs: fs)).flatMap(LedgerFile.decode) != nil {
                ledgers.append((n, name))
            } else {
                damaged.append((name, "ledger file damaged", layout.indexDir))
            }
        }
        ledgers.sort { $0.number < $1.number }
        // Numbers of files quarantined earlier are not reused either (their names stay unique).
        for name in (try? fs.listDirectory(layout.quarantineDir)) ?? [] {
            if let n = Self.fileNumber(name) { maxNumber = max(maxNumber, n) }
        }

        var m = Manifest()
        m.commit = 1
        m.partitionWidth = out.partitionWidth
        m.segments = intact.map(\.meta)
        m.ledgers = ledgers.map(\.name)
        m.nextNumber = maxNumber &+ 1
        if let g = catalogGeneration { (m.catalog, m.catalogCRC) = g }
        // Watermarks are not on disk anywhere else: none (expired rows may reappear until
        // retention runs again). The latest-status index is rebuilt from the footers.
        let snap = try Snapshot(layout: layout, manifest: m, catalog: catalog, fs: fs, logger: log)
        let idx = try rebuildLatestIndex(manifest: m, catalog: catalog) { try snap.reader($0) }
        let idxBytes = idx.encode()
        m.latestIndex = StoreLayout.latestName(number: m.nextNumber)
        m.latestIndexCRC = MetadataFile.storedCRC(idxBytes)
        m.nextNumber += 1
        try writeNewFile(layout.indexPath(m.latestIndex), idxBytes, fs: fs)
        try fs.syncDirectory(layout.indexDir)

        // Damaged files aside first: a writer opening the store deletes whatever the manifest
        // does not name. A crash from here on leaves the old state or no MANIFEST: run again.
        if !damaged.isEmpty {
            try fs.createDirectory(layout.quarantineDir)
            for d in damaged {
                try fs.rename(d.dir + "/" + d.name, to: Self.freeName(in: layout.quarantineDir, d.name, fs: fs))
                out.quarantined.append((d.name, d.problem))
            }
            try fs.syncDirectory(layout.quarantineDir)
            try fs.syncDirectory(layout.segmentsDir)
            try fs.syncDirectory(layout.indexDir)
        }
        if bytes != nil {
            let aside = freeName(in: layout.root, "MANIFEST.damaged", fs: fs, always: true)
            try fs.rename(layout.manifest, to: aside)
            out.keptAs = String(aside.split(separator: "/").last ?? "")
        }
        try writeManifest(m, layout: layout, fs: fs)
        out.segments = m.segments
        out.ledgers = m.ledgers
        out.nextNumber = m.nextNumber
        out.latestIndex = m.latestIndex
        log.notice("rebuilt MANIFEST from the files on disk", metadata: [
            "segments": "\(m.segments.count)", "quarantined": "\(out.quarantined.count)", "ledgers": "\(m.ledgers.count)",
        ])
        return out
    }

    /// A segment file checked as `tacho verify` checks a live one: header, footer, every
    /// block, the schema; its manifest entry from the footer, with the least and greatest
    /// chunk times.
    static func checkSegment(
        _ path: String, name: String, catalog: Catalog, fs: any StoreFileSystem
    ) throws -> (SegmentMeta, Int64, Int64) {
        let src = try FileSegmentSource(fd: fs.openForReading(path), path: path, fs: fs)
        let r = try SegmentReader(source: src, path: path)
        let f = r.footer
        guard catalog.admits(f.measurement) else {
            throw StoreError(.corrupt, "check segment", path: path, "schema differs from measurement \(f.measurement.id) in the catalog")
        }
        var chunk = DecodedChunk(measurement: f.measurement)
        var lo = Int64.max, hi = Int64.min
        for v in f.vehicles {
            for c in v.chunks {
                try r.decode(c, into: &chunk)
                lo = min(lo, c.minTime)
                hi = max(hi, c.maxTime)
            }
        }
        if f.rowCount > 0 && lo < f.partitionStart {
            throw StoreError(.corrupt, "check segment", path: path, "rows before the partition start in its footer")
        }
        let meta = SegmentMeta(
            name: name, measurementID: f.measurement.id, partitionStart: f.partitionStart, seq: f.seq,
            rowCount: f.rowCount, minTime: f.minTime, maxTime: f.maxTime, fileSize: src.size)
        return (meta, f.rowCount > 0 ? lo : f.partitionStart, f.rowCount > 0 ? hi : f.partitionStart)
    }

    /// What a damaged segment held, when its footer still parses.
    static func footerSummary(_ path: String, fs: any StoreFileSystem) -> [(measurement: String, partition: String, vehicles: [String], rows: Int)] {
        guard let src = try? FileSegmentSource(fd: fs.openForReading(path), path: path, fs: fs),
              let f = try? SegmentReader(source: src, path: path).footer
        else { return [] }
        return [(f.measurement.name, StoreLayout.partitionLabel(f.partitionStart), f.vehicles.map(\.vehicle), f.rowCount)]
    }

    /// The partition width that every segment fits (its start a multiple of it, its rows
    /// inside `[start, start + width)`): the default when it fits; else the greatest common
    /// divisor of the partition starts (a multiple of the true width, so it fits); else, when
    /// every start is 0, the least multiple of the default that fits. `determined` is false
    /// when the segments could not tell (none at all, or only the 1970 partition).
    static func inferPartitionWidth(_ segs: [(start: Int64, maxTime: Int64)], default d: Int64) -> (Int64, String, Bool) {
        func fits(_ w: Int64) -> Bool {
            segs.allSatisfy { s in
                guard s.start % w == 0 else { return false }
                let (end, o) = s.start.addingReportingOverflow(w)
                return o || s.maxTime < end
            }
        }
        let days = { (w: Int64) in w % 86_400_000_000 == 0 ? "\(w / 86_400_000_000) d" : "\(w) µs" }
        guard !segs.isEmpty else {
            return (d, "could not be determined (no intact segment); using the default, \(days(d))", false)
        }
        if fits(d) { return (d, "\(days(d)), the default: every segment fits it", true) }
        var g: UInt64 = 0
        for s in segs where s.start != 0 {
            var (a, b) = (g, s.start.magnitude)
            while b != 0 { (a, b) = (b, a % b) }
            g = a
        }
        if g > 0, g <= UInt64(Int64.max), fits(Int64(g)) {
            return (Int64(g), "\(days(Int64(g))), from the partition starts in the segment footers", true)
        }
        let span = segs.map { $0.maxTime.subtractingReportingOverflow($0.start).partialValue }.max() ?? 0
        let (w, o) = d.multipliedReportingOverflow(by: span / d + 1)
        let chosen = o ? Int64.max : w
        return (chosen, "could not be determined from the segments; using \(days(chosen)), which every segment fits", false)
    }

    /// The number in a store file name: `…-<hex>.tseg`, `latest-<hex>.idx`, `ledger-<hex>.led`.
    static func fileNumber(_ name: String) -> UInt64? {
        guard let dot = name.lastIndex(of: "."), let dash = name[..<dot].lastIndex(of: "-") else { return nil }
        let ext = name[dot...]
        guard ext == ".tseg" || ext == ".idx" || ext == ".led" || ext == ".cat" else { return nil }
        return UInt64(name[name.index(after: dash)..<dot], radix: 16)
    }

    /// A path in `dir` for `name` that no file has yet: `name`, else `name.<n>` (with
    /// `always`: `name-<n>` from 1).
    static func freeName(in dir: String, _ name: String, fs: any StoreFileSystem, always: Bool = false) -> String {
        if !always && (try? fs.fileSize(dir + "/" + name)) == nil { return dir + "/" + name }
        var n = 1
        while (try? fs.fileSize(dir + "/" + name + (always ? "-" : ".") + "\(n)")) != nil { n += 1 }
        return dir + "/" + name + (always ? "-" : ".") + "\(n)"
    }

    /// A MANIFEST whose checksum holds and whose magic is right but whose version this tacho
    /// does not know: written by a newer one, not damage.
    static func isNewerManifest(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 12 else { return false }
        return bytes.withUnsafeBytes { raw in
            guard let b = MetadataFile.checkedBody(raw) else { return false }
            var r = ByteReader(b)
            guard r.readUInt32() == FormatConstants.manifestMagic, let v = r.readUInt16() else { return false }
            return v > FormatConstants.manifestVersion
        }
    }
}
