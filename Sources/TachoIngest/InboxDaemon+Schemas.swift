import TachoFormat
import TachoSchema
import TachoStore

extension InboxDaemon {
    /// The reader for a batch of inbox files: `reader` plus the measurements their `*.lp`
    /// lines create (schema on write, as `tacho ingest` does: `LineProtocolSchemas`), declared
    /// to the writer so that rows can be built for them. The writer stores each one's catalog
    /// entry with the commit that stores its first rows (FORMAT.md §7); `ingestAhead` takes
    /// back the ones no commit stored. A measurement the store's catalog contradicts (its
    /// first line declares another type for a stored column, other tags…) is not created:
    /// its lines are rejected with that reason, the rest of the batch goes on.
    func readerCreatingMeasurements(for paths: [String]) -> TelemetryReader {
        let base = reader
        guard base.options.lineProtocol.autoCreate, paths.contains(where: LineProtocolSchemas.isLineProtocol) else { return base }
        var o = base.options
        let found = LineProtocolSchemas.discover(
            paths: paths, declared: Set(o.layouts.map(\.measurement.name)), options: o.lineProtocol, catalog: writer.storedCatalog,
            files: o.files, afterEachFile: { [heartbeat] in heartbeat?() })  // the watchdog, while a backlog of .lp files is read
        guard !found.isEmpty else { return base }
        for d in found {
            do {
                let measurements = try DefaultDeclarations.measurements([d])
                let isNew = writer.storedCatalog.measurement(named: d.name) == nil
                let catalog = try writer.declare(measurements)
                o.layouts += try RecordLayout.layouts([d], catalog: catalog)
                if isNew { logger.info("measurement created from line protocol", metadata: [
                    "measurement": "\(d.name)", "columns": "\(d.fields.map(\.name).joined(separator: ","))",
                ]) }
            } catch {
                o.lineProtocol.refused[d.name] = "measurement '\(d.name)' cannot be created from its lines: \(error)"
                logger.warning("measurement \(d.name) not created from line protocol: \(error)")
            }
        }
        return TelemetryReader(options: o)
    }
}
