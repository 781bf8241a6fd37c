import Logging
import TachoFormat

/// One problem `verify` found: in which file (`file`), where (`offset`), what (`kind`).
public struct VerifyProblem: Sendable, CustomStringConvertible {
    /// The file a problem is in, as the manifest names it.
    public enum File: Sendable, Equatable {
        case segment(SegmentMeta)
        case latestIndex(String)
        case ledger(String)
    }

    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// The segment's bytes are damaged (or from a newer tacho: `SegmentError.Kind.newerVersion`).
        case segment(SegmentError.Kind)
        /// The footer's measurement is not the one the manifest entry names, or the catalog
        /// does not admit its schema.
        case schemaDiffers(measurement: UInt8)
        case footerDisagreesWithManifest
        case chunkOutsidePartition(vehicle: String)
        case latestIndexDamaged
        case ledgerDamaged
        /// A read that failed otherwise (I/O, a missing file): the error's text.
        case unreadable(String)

        public var description: String {
            switch self {
            case .segment(let k): k.description
            case .schemaDiffers(let m): "schema differs from measurement \(m)"
            case .footerDisagreesWithManifest: "footer disagrees with manifest entry"
            case .chunkOutsidePartition(let v): "chunk of \(v) outside its partition"
            case .latestIndexDamaged: "latest-status index missing or damaged (rebuilt from footers on use)"
            case .ledgerDamaged: "ledger file missing or damaged"
            case .unreadable(let why): why
            }
        }
    }

    public var path: String
    public var offset: UInt64?
    public var file: File
    public var kind: Kind

    public init(path: String, offset: UInt64? = nil, file: File, _ kind: Kind) {
        self.path = path
        self.offset = offset
        self.file = file
        self.kind = kind
    }

    /// What is wrong, in words (derived from `kind`).
    public var problem: String { kind.description }
    /// The live segment it damages, if any.
    public var segment: SegmentMeta? { if case .segment(let s) = file { s } else { nil } }
    /// Not damage: a segment written by a newer tacho (`SegmentError.newerFormat`).
    public var newerFormat: Bool { if case .segment(.newerVersion) = kind { true } else { false } }

    public var description: String {
        offset.map { "\(path) at offset \($0): \(problem)" } ?? "\(path): \(problem)"
    }
}

public struct VerifyReport: Sendable {
    public var segmentsChecked = 0
    public var chunksChecked = 0
    public var rowsChecked = 0
    public var bytesChecked: UInt64 = 0
    public var problems: [VerifyProblem] = []
    /// Segments a later commit replaced and removed while verify ran (not damage: their rows
    /// are in the newer commit's segments, which a new verify checks).
    public var skippedStale: [String] = []
    public var isClean: Bool { problems.isEmpty }
}

/// A full scrub: every segment's header, footer and every block checksum (by decoding every
/// chunk), every manifest entry against its footer, the latest-status index and the ledger.
public enum Verifier {
    public static func verify(snapshot: Snapshot, progress: ((Int, Int) -> Void)? = nil) -> VerifyReport {
        var report = VerifyReport()
        let m = snapshot.manifest
        for (i, s) in m.segments.enumerated() {
            progress?(i, m.segments.count)
            let path = snapshot.layout.segmentPath(s.name)
            do {
                let r = try snapshot.reader(s)
                let f = r.footer
                guard f.measurement.id == s.measurementID, snapshot.catalog.admits(f.measurement) else {
                    report.problems.append(VerifyProblem(path: path, file: .segment(s), .schemaDiffers(measurement: s.measurementID)))
                    continue
                }
                if f.rowCount != s.rowCount || f.minTime != s.minTime || f.maxTime != s.maxTime || f.seq != s.seq
                    || f.partitionStart != s.partitionStart {
                    report.problems.append(VerifyProblem(path: path, file: .segment(s), .footerDisagreesWithManifest))
                }
                var chunk = DecodedChunk(measurement: r.schema)
                for v in f.vehicles {
                    for c in v.chunks {
                        try r.decode(c, into: &chunk)
                        // .max: the last partition has no end
                        let end = m.partitionEnd(of: s.partitionStart, id: s.measurementID, in: snapshot.catalog)
                        if c.minTime < s.partitionStart || (end != .max && c.maxTime >= end) {
                            report.problems.append(VerifyProblem(
                                path: path, offset: c.blocks[0].offset, file: .segment(s), .chunkOutsidePartition(vehicle: v.vehicle)))
                        }
                        report.chunksChecked += 1
                        report.rowsChecked += c.rowCount
                    }
                }
                report.bytesChecked += s.fileSize
            } catch let e as StoreError where e.code == .stale {
                // A later commit replaced this segment (its rows live on in the newer commit)
                // and the grace period for its file ran out during a long verify: not damage.
                report.skippedStale.append(s.name)
                continue
            } catch let e as StoreError where e.code == .corrupt && e.offset != nil {
                let kind = e.segmentProblem.map(VerifyProblem.Kind.segment) ?? .unreadable(e.detail)
                report.problems.append(VerifyProblem(path: path, offset: e.offset, file: .segment(s), kind))
            } catch let e as StoreError {
                report.problems.append(VerifyProblem(path: path, file: .segment(s), .unreadable(e.description)))
            } catch let e as SegmentError {
                report.problems.append(VerifyProblem(path: e.path, offset: e.offset, file: .segment(s), .segment(e.kind)))
            } catch {
                report.problems.append(VerifyProblem(path: path, file: .segment(s), .unreadable("\(error)")))
            }
            report.segmentsChecked += 1
        }
        // Index and ledger files: a writer replaces them in later commits and removes the old
        // ones after a grace period. One missing or damaged while MANIFEST has moved on since
        // this snapshot is checked again in the newer commit, which is what readers use now.
        func checkIndexFiles(_ m: Manifest) -> [VerifyProblem] {
            var out: [VerifyProblem] = []
            if !m.latestIndex.isEmpty {
                let path = snapshot.layout.indexPath(m.latestIndex)
                let bytes = try? readFile(path, fs: snapshot.fs)
                if bytes.flatMap(LatestIndex.decode) == nil {
                    out.append(VerifyProblem(path: path, file: .latestIndex(m.latestIndex), .latestIndexDamaged))
                }
            }
            for name in m.ledgers {
                let path = snapshot.layout.indexPath(name)
                if (try? readFile(path, fs: snapshot.fs)).flatMap(LedgerFile.decode) == nil {
                    out.append(VerifyProblem(path: path, file: .ledger(name), .ledgerDamaged))
                }
            }
            return out
        }
        var checked = m
        var indexProblems = checkIndexFiles(checked)
        var rounds = 0
        while !indexProblems.isEmpty && rounds < 20, let now = try? readManifest(snapshot.layout, fs: snapshot.fs), now != checked {
            rounds += 1
            checked = now
            indexProblems = checkIndexFiles(checked)
        }
        report.problems += indexProblems
        return report
    }
}

extension StoreWriter {
    /// What `verify --repair` did.
    public struct RepairReport: Sendable {
        public var quarantined: [String] = []
        /// (measurement, partition label, vehicles whose rows in that segment were lost)
        public var lost: [(measurement: String, partition: String, vehicles: [String], rows: Int)] = []
        public var rebuiltIndex = false
        public var droppedLedgers: [String] = []
    }

    /// Moves damaged segments to quarantine/, drops them from the manifest, and rebuilds the
    /// latest-status index. Undamaged partitions are untouched and keep serving.
    public func repair(_ report: VerifyReport) throws -> RepairReport {
        // A file a newer tacho wrote is intact: quarantining it would throw good rows away.
        if let p = report.problems.first(where: \.newerFormat) {
            throw StoreError(
                .invalidArgument, "repair", path: p.path,
                "refusing to repair: \(p.problem); run verify --repair with that tacho (or a later one)")
        }
        var out = RepairReport()
        var next = manifest
        let damaged = Set(report.problems.compactMap { $0.segment?.name })
        try fs.createDirectory(layout.quarantineDir)
        try layout.checkSubdirectories(fs: fs)
        let snap = try snapshot()
        for s in manifest.segments where damaged.contains(s.name) {
            // Vehicles of the damaged segment, from its footer when that still parses.
            let vehicles = (try? snap.reader(s).footer.vehicles.map(\.vehicle)) ?? []
            out.lost.append((snap.catalog.name(of: s.measurementID),
                             StoreLayout.partitionLabel(s.partitionStart), vehicles, s.rowCount))
            out.quarantined.append(s.name)
        }
        next.segments.removeAll { damaged.contains($0.name) }
        let damagedLedgers = Set(report.problems.compactMap { p -> String? in if case .ledger(let name) = p.file { name } else { nil } })
        let badLedgers = next.ledgers.filter { damagedLedgers.contains($0) }
        next.ledgers.removeAll { badLedgers.contains($0) }
        out.droppedLedgers = badLedgers
        // Rebuild the latest index from the surviving footers and publish it with the switch.
        let survivors = try Snapshot(layout: layout, manifest: next, catalog: catalog, fs: fs, logger: logger)
        let idx = try rebuildLatestIndex(manifest: next, catalog: catalog) { try survivors.reader($0) }
        let bytes = idx.encode()
        let name = StoreLayout.latestName(number: next.nextNumber)
        next.nextNumber += 1
        try writeNewFile(layout.indexPath(name), bytes)
        try fs.syncDirectory(layout.indexDir)
        next.latestIndex = name
        next.latestIndexCRC = MetadataFile.storedCRC(bytes)
        out.rebuiltIndex = true
        // Switch first (the store is consistent at every instant), then move the damaged
        // files aside for a post-mortem; a crash in between leaves orphans, removed at open.
        try switchManifest(next, keeping: damaged)
        for nameQ in out.quarantined where (try? fs.fileSize(layout.segmentPath(nameQ))) != nil {  // a missing file has nothing to move
            try fs.rename(layout.segmentPath(nameQ), to: layout.quarantineDir + "/" + nameQ)
        }
        try fs.syncDirectory(layout.quarantineDir)
        try fs.syncDirectory(layout.segmentsDir)
        latest = idx
        restoreAfterCommit(latest: idx)
        return out
    }
}
