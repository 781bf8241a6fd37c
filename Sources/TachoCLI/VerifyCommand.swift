import ArgumentParser
import TachoOutput
import TachoFormat
import TachoStore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every checksum, footer, manifest entry and index of the store.",
        usage: "tacho verify [<options>]",
        discussion: """
            Reads every block of every segment (a full scrub). Prints each problem with its file and byte offset; exit status 1 when anything is wrong. --repair takes the writer lock, moves damaged segments to <store>/quarantine/, rebuilds the latest-status index, and prints which partitions and vehicles lost data. When MANIFEST is missing or fails its checksum, --repair first rebuilds it from the files on disk: every segment in segments/ that passes a full check (damaged ones are quarantined), the ledger files in index/ that pass theirs, the partition width from the segment footers. A damaged MANIFEST is kept as MANIFEST.damaged-<n>. Retention watermarks are not recoverable: rows retention had hidden may reappear until retention runs again (tacho compact); after a crash in a compaction both its inputs and its output may come back (the newest seq still wins, the duplicated bytes go at the next compaction).
            """
    )

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: ReportFormatOptionGroup
    @Flag(help: "Quarantine damaged segments and rebuild the latest-status index; rebuild a missing or damaged MANIFEST from the segment and ledger files.") var repair = false

    func run() throws {
        var out = ReportPrinter(output.format)
        defer { out.finish() }
        try run(&out)
    }

    private func run(_ out: inout ReportPrinter) throws {
        let logger = log.logger("tacho.verify")
        var opts = StoreOptions()
        opts.logger = logger
        if repair, let rec = try StoreWriter.rebuildManifest(path: storeOption.path, options: opts) {
            printRecovery(rec, &out)
        }
        let snap = try Snapshot.open(path: storeOption.path, options: opts)
        let progress = ProgressLine(total: snap.manifest.segments.count, unit: "segments", quiet: log.quiet)
        let report = Verifier.verify(snapshot: snap) { done, _ in progress.update(done) }
        progress.finish()
        out.set("segments", .int(Int64(report.segmentsChecked)))
        out.set("chunks", .int(Int64(report.chunksChecked)))
        out.set("rows", .int(Int64(report.rowsChecked)))
        out.set("bytes", .int(Int64(report.bytesChecked)))
        out.set("clean", .bool(report.isClean))
        out.set("problems", ReportValue.strings(report.problems.map(\.description)))
        out.set("skipped_stale", ReportValue.strings(report.skippedStale))
        for p in report.problems { out.text("PROBLEM \(p)") }
        if !report.skippedStale.isEmpty {
            out.line("note: \(report.skippedStale.count) segments were replaced by a later commit (compaction or retention) while verify ran and were skipped; run verify again to check their replacements")
        }
        out.text("verified \(report.segmentsChecked) segments, \(report.chunksChecked) chunks, \(report.rowsChecked) rows, \(report.bytesChecked) bytes: \(report.isClean ? "clean" : report.problems.count == 1 ? "1 problem" : "\(report.problems.count) problems")")
        guard !report.isClean else { return }
        guard repair else { throw ExitCode(1) }
        let writer = try StoreWriter(path: storeOption.path, options: opts)
        defer { writer.close() }
        let fresh = Verifier.verify(snapshot: try writer.snapshot())
        let r = try writer.repair(fresh)
        for q in r.quarantined { out.line("quarantined \(q)") }
        for l in r.lost {
            out.line("lost \(l.rows) \(l.measurement) rows in partition \(l.partition) for vehicles: \(l.vehicles.isEmpty ? "unknown (footer unreadable)" : l.vehicles.joined(separator: ","))")
        }
        if !r.lost.isEmpty {
            out.line("to restore them, ingest the original files again: tacho ingest --force --store \(storeOption.path) FILE-OR-DIR… (e.g. the processed/ directory; rows replace themselves by identity)")
        }
        for d in r.droppedLedgers { out.line("dropped damaged ledger \(d) (re-delivered files in it may be ingested again; rows dedupe by identity)") }
        if r.rebuiltIndex { out.line("rebuilt latest-status index from segment footers") }
    }

    private func printRecovery(_ r: ManifestRecovery, _ out: inout ReportPrinter) {
        if let keptAs = r.keptAs {
            out.line("MANIFEST was damaged (\(r.damage ?? "")); kept it as \(keptAs)")
        } else {
            out.line("MANIFEST was missing")
        }
        var perMeasurement: [String: Int] = [:]
        for s in r.segments { perMeasurement[Measurement.byID(s.measurementID)?.name ?? "\(s.measurementID)", default: 0] += s.rowCount }
        let rows = perMeasurement.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        out.line("rebuilt MANIFEST from the files on disk: \(r.segments.count) segments, \(r.rows) rows (\(rows.isEmpty ? "none" : rows)) in \(r.partitions) partitions, \(r.ledgers.count) ledger files, next number \(r.nextNumber)")
        out.line("partition width \(r.widthDetermined ? "" : "NOT DETERMINED: ")\(r.widthReason)")
        for q in r.quarantined { out.line("quarantined \(q.name): \(q.problem)") }
        for l in r.lost {
            out.line("lost \(l.rows) \(l.measurement) rows in partition \(l.partition) for vehicles: \(l.vehicles.joined(separator: ","))")
        }
        if r.quarantined.contains(where: { $0.name.hasSuffix(".tseg") }) {
            let unknown = r.quarantined.filter { $0.name.hasSuffix(".tseg") }.count - r.lost.count
            if unknown > 0 { out.line("lost the rows of \(unknown) segments whose footers are unreadable (measurement, partition and vehicles unknown)") }
            out.line("to restore them, ingest the original files again: tacho ingest --force --store \(storeOption.path) FILE-OR-DIR… (e.g. the processed/ directory; files are replayed in ledger order, rows replace themselves by identity)")
        }
        out.line("not recovered: retention watermarks; rows retention had expired but not yet deleted may reappear until retention runs again (tacho compact)")
        out.line("rebuilt latest-status index from segment footers")
    }
}
