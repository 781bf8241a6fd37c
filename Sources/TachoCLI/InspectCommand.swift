import ArgumentParser
import TachoOutput
import TachoFormat
import TachoJSON
import TachoStore

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Dump the manifest, or one segment's footer (like leveldbutil dump).",
        usage: "tacho inspect [<options>]",
        discussion: "Without --segment: the manifest. With --segment NAME: that segment's footer, chunk by chunk."
    )

    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: ReportFormatOptionGroup
    @Option(help: ArgumentHelp("A segment file name under segments/.", valueName: "NAME")) var segment: String?

    func run() throws {
        var opts = StoreOptions()
        opts.logger = log.logger("tacho.inspect")
        let snap = try Snapshot.open(path: storeOption.path, options: opts)
        var out = ReportPrinter(output.format)
        defer { out.finish() }
        let m = snap.manifest
        guard let segment else {
            out.text("commit \(m.commit), next number \(m.nextNumber), partition width \(m.partitionWidth) µs")
            out.text("latest index: \(m.latestIndex.isEmpty ? "-" : m.latestIndex); ledgers: \(m.ledgers.count)")
            let marks = m.watermarks.sorted(by: { $0.key < $1.key })
            for (k, v) in marks { out.text("watermark measurement \(k): \(Timestamp.format(v))") }
            // Measurements partitioned by a width of their own (rollups, FORMAT.md §7).
            let widths = snap.catalog.measurements.compactMap { c in c.partitionWidth.map { (c, $0) } }
            for (c, w) in widths { out.text("partition width measurement \(c.id) (\(c.name)): \(w) µs") }
            for s in m.segments {
                out.text("\(s.name) seq=\(s.seq) rows=\(s.rowCount) bytes=\(s.fileSize) time=[\(Timestamp.format(s.minTime)), \(Timestamp.format(s.maxTime))]")
            }
            out.set("commit", .int(Int64(m.commit)))
            out.set("next_number", .int(Int64(m.nextNumber)))
            out.set("partition_width_us", .int(m.partitionWidth))
            out.set("measurement_partition_widths", .array(widths.map { c, w in
                .object([("measurement", .int(Int64(c.id))), ("name", .string(c.name)), ("partition_width_us", .int(w))])
            }))
            out.set("latest_index", m.latestIndex.isEmpty ? .null : .string(m.latestIndex))
            out.set("ledgers", .strings(m.ledgers))
            out.set("watermarks", .array(marks.map { .object([("measurement", .int(Int64($0.key))), ("time", .time($0.value))]) }))
            out.set("segments", .array(m.segments.map { s in
                .object([("name", .string(s.name)), ("seq", .int(Int64(s.seq))), ("rows", .int(Int64(s.rowCount))),
                         ("bytes", .int(Int64(s.fileSize))), ("min_time", .time(s.minTime)), ("max_time", .time(s.maxTime))])
            }))
            return
        }
        guard let meta = m.segments.first(where: { $0.name == segment }) else {
            printError("tacho inspect: no live segment named \(segment)")
            throw ExitCode(1)
        }
        let f = try snap.footer(meta)
        let partition = StoreLayout.partitionLabel(f.partitionStart)
        let width = m.partitionWidth(of: meta.measurementID, in: snap.catalog)
        out.text("\(segment): \(f.measurement.name) partition \(partition) (\(width) µs wide) seq \(f.seq) rows \(f.rowCount)")
        var vehicles: [ReportValue] = []
        for v in f.vehicles {
            out.text("  vehicle \(v.vehicle): \(v.rowCount) rows in \(v.chunks.count) chunks")
            var chunks: [ReportValue] = []
            for c in v.chunks {
                let blocks = c.blocks.map { "@\($0.offset)+\($0.length)(\($0.rawLength))" }.joined(separator: " ")
                out.text("    chunk rows=\(c.rowCount) time=[\(Timestamp.format(c.minTime)), \(Timestamp.format(c.maxTime))] blocks \(blocks)")
                chunks.append(.object([
                    ("rows", .int(Int64(c.rowCount))), ("min_time", .time(c.minTime)), ("max_time", .time(c.maxTime)),
                    ("blocks", .array(c.blocks.map { .object([("offset", .int(Int64($0.offset))), ("length", .int(Int64($0.length))),
                                                              ("raw_length", .int(Int64($0.rawLength)))]) })),
                ]))
            }
            vehicles.append(.object([("vehicle", .string(v.vehicle)), ("rows", .int(Int64(v.rowCount))), ("chunks", .array(chunks))]))
        }
        out.set("segment", .string(segment))
        out.set("measurement", .string(f.measurement.name))
        out.set("partition", .string(partition))
        out.set("partition_width_us", .int(width))
        out.set("seq", .int(Int64(f.seq)))
        out.set("rows", .int(Int64(f.rowCount)))
        out.set("vehicles", .array(vehicles))
    }
}
