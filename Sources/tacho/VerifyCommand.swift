import ArgumentParser
import TachoFormat
import TachoStore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum, footer, manifest entry and index of the store.",
        discussion: """
            Reads every block of every segment (a full scrub). Prints each problem with its file and
            byte offset; exit status 1 when anything is wrong.
            --repair takes the writer lock, moves damaged segments to <store>/quarantine/, rebuilds the
            latest-status index, and prints which partitions and vehicles lost data.
            When MANIFEST is missing or fails its checksum, --repair first rebuilds it from the files on
            disk: every segment in segments/ that passes a full check (damaged ones are quarantined), the
            ledger files in index/ that pass theirs, the partition width from the segment footers. A
            damaged MANIFEST is kept as MANIFEST.damaged-<n>. Retention watermarks are not recoverable:
            rows retention had hidden may reappear until retention runs again (tacho compact); after a
            crash in a compaction both its inputs and its output may come back (the newest seq still wins,
            the duplicated bytes go at the next compaction).
            """
    )

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @Flag(help: "Quarantine damaged segments and rebuild the latest-status index; rebuild a missing or damaged MANIFEST from the segment and ledger files.") var repair = false

    func run() throws {
        let logger = log.logger("tacho.verify")
        var opts = StoreOptions()
        opts.logger = logger
        if repair, let rec = try StoreWriter.rebuildManifest(path: storeOption.path, options: opts) {
            printRecovery(rec)
        }
        let snap = try Snapshot.open(path: storeOption.path, options: opts)
        let progress = ProgressLine(total: snap.manifest.segments.count)
        let report = Verifier.verify(snapshot: snap) { done, _ in progress.update(done) }
        progress.finish()
        for p in report.problems { print("PROBLEM \(p)") }
        if !report.skippedStale.isEmpty {
            print("note: \(report.skippedStale.count) segments were replaced by a later commit (compaction or retention) while verify ran and were skipped; run verify again to check their replacements")
        }
        print("verified \(report.segmentsChecked) segments, \(report.chunksChecked) chunks, \(report.rowsChecked) rows, \(report.bytesChecked) bytes: \(report.isClean ? "clean" : report.problems.count == 1 ? "1 problem" : "\(report.problems.count) problems")")
        guard !report.isClean else { return }
        guard repair else { throw ExitCode(1) }
        let writer = try StoreWriter(path: storeOption.path, options: opts)
        defer { writer.close() }
        let fresh = Verifier.verify(snapshot: try writer.snapshot())
        let r = try writer.repair(fresh)
        for q in r.quarantined { print("quarantined \(q)") }
        for l in r.lost {
            print("lost \(l.rows) \(l.measurement) rows in partition \(l.partition) for vehicles: \(l.vehicles.isEmpty ? "unknown (footer unreadable)" : l.vehicles.joined(separator: ","))")
        }
        if !r.lost.isEmpty {
            print("to restore them, ingest the original files again: tacho ingest --force --store \(storeOption.path) FILE-OR-DIR… (e.g. the processed/ directory; rows replace themselves by identity)")
        }
        for d in r.droppedLedgers { print("dropped damaged ledger \(d) (re-delivered files in it may be ingested again; rows dedupe by identity)") }
        if r.rebuiltIndex { print("rebuilt latest-status index from segment footers") }
    }

    private func printRecovery(_ r: ManifestRecovery) {
        if let keptAs = r.keptAs {
            print("MANIFEST was damaged (\(r.damage ?? "")); kept it as \(keptAs)")
        } else {
            print("MANIFEST was missing")
        }
        var perMeasurement: [String: Int] = [:]
        for s in r.segments { perMeasurement[Measurement.byID(s.measurementID)?.name ?? "\(s.measurementID)", default: 0] += s.rowCount }
        let rows = perMeasurement.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("rebuilt MANIFEST from the files on disk: \(r.segments.count) segments, \(r.rows) rows (\(rows.isEmpty ? "none" : rows)) in \(r.partitions) partitions, \(r.ledgers.count) ledger files, next number \(r.nextNumber)")
        print("partition width \(r.widthDetermined ? "" : "NOT DETERMINED: ")\(r.widthReason)")
        for q in r.quarantined { print("quarantined \(q.name): \(q.problem)") }
        for l in r.lost {
            print("lost \(l.rows) \(l.measurement) rows in partition \(l.partition) for vehicles: \(l.vehicles.joined(separator: ","))")
        }
        if r.quarantined.contains(where: { $0.name.hasSuffix(".tseg") }) {
            let unknown = r.quarantined.filter { $0.name.hasSuffix(".tseg") }.count - r.lost.count
            if unknown > 0 { print("lost the rows of \(unknown) segments whose footers are unreadable (measurement, partition and vehicles unknown)") }
            print("to restore them, ingest the original files again: tacho ingest --force --store \(storeOption.path) FILE-OR-DIR… (e.g. the processed/ directory; files are replayed in ledger order, rows replace themselves by identity)")
        }
        print("not recovered: retention watermarks; rows retention had expired but not yet deleted may reappear until retention runs again (tacho compact)")
        print("rebuilt latest-status index from segment footers")
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Dump the manifest, or one segment's footer (like leveldbutil dump).",
        discussion: "Without --segment: the manifest. With --segment NAME: that segment's footer, chunk by chunk."
    )

    @OptionGroup var storeOption: StoreOptionGroup
    @Option(help: ArgumentHelp("A segment file name under segments/.", valueName: "NAME")) var segment: String?

    func run() throws {
        let snap = try Snapshot.open(path: storeOption.path)
        let m = snap.manifest
        guard let segment else {
            print("commit \(m.commit), next number \(m.nextNumber), partition width \(m.partitionWidth) µs")
            print("latest index: \(m.latestIndex.isEmpty ? "-" : m.latestIndex); ledgers: \(m.ledgers.count)")
            for (k, v) in m.watermarks.sorted(by: { $0.key < $1.key }) { print("watermark measurement \(k): \(v)") }
            for s in m.segments {
                print("\(s.name) seq=\(s.seq) rows=\(s.rowCount) bytes=\(s.fileSize) time=[\(s.minTime), \(s.maxTime)]")
            }
            return
        }
        guard let meta = m.segments.first(where: { $0.name == segment }) else {
            printError("tacho inspect: no live segment named \(segment)")
            throw ExitCode(1)
        }
        let f = try snap.reader(meta).footer
        print("\(segment): \(f.measurement.name) partition \(StoreLayout.partitionLabel(f.partitionStart)) seq \(f.seq) rows \(f.rowCount)")
        for v in f.vehicles {
            print("  vehicle \(v.vehicle): \(v.rowCount) rows in \(v.chunks.count) chunks")
            for c in v.chunks {
                let blocks = c.blocks.map { "@\($0.offset)+\($0.length)(\($0.rawLength))" }.joined(separator: " ")
                print("    chunk rows=\(c.rowCount) time=[\(c.minTime), \(c.maxTime)] blocks \(blocks)")
            }
        }
    }
}
