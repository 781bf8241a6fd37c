import TachoFormat
import TachoQuery
import TachoStore

extension FilterOptionGroup {
    /// After a query that matched nothing: a note on stderr for each value of a string `=`
    /// filter (`--type`, `--status`, `--where column=value`) that no row of the measurement
    /// holds, listing the values it does hold — a typo (`--type car`) is told apart from an
    /// empty range, as an unknown vehicle is. Best effort: a failure prints nothing.
    func noteUnknownValues(of m: Measurement, in snap: Snapshot) {
        guard let filters = try? columnFilters() else { return }
        for f in filters where f.op == .eq {
            guard let i = try? MeasurementLookup.column(f.column, of: m), m.columns[i].type == .string else { continue }
            let name = m.columns[i].name
            // One bucket per 366 days, grouped by the column: its distinct values, from footers
            // and string dictionaries rather than row by row where the engine can.
            let q = AggregateQuery(m, .count, every: AggregateQuery.bucketWidthRange.upperBound, groupBy: [name])
            guard let rows = try? q.run(on: snap) else { continue }
            let known = Set(rows.compactMap(\.groups.first))
            let unknown = f.values.filter { !known.contains($0) }
            guard !unknown.isEmpty else { continue }
            let sorted = known.sorted()
            let shown = sorted.prefix(20).joined(separator: ", ") + (sorted.count > 20 ? ", … (\(sorted.count) in all)" : "")
            let what = unknown.map { "\"\($0)\"" }.joined(separator: ", ")
            printError("note: no \(m.name) row has \(name) \(what); known values: \(sorted.isEmpty ? "none (no rows)" : shown)")
        }
    }
}
