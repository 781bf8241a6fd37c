import ArgumentParser
import TachoFormat
import TachoOutput
import TachoQuery
import TachoStore

extension AggregateFunction: ExpressibleByArgument {}
extension BucketLabel: ExpressibleByArgument {}
extension FillMode: ExpressibleByArgument {}

struct AggCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agg",
        abstract: "Time-bucketed aggregates: bucket,[vehicle_id,][group columns,]value.",
        discussion: """
            Windows are [t, t+every), aligned to the UTC epoch; a declared rollup (docs/CONFIG.md "Rollups") answers the whole windows it can (--every a multiple of its width, --by and --where on its grouping columns, a function it keeps), the raw rows the rest, with the same answer (float sums come from a rollup only where raw rows expired; --explain shows which tier answered which range; --raw reads raw rows only); --every from 1s to 366d (15m, 1h, 1d). --fn count|sum|min|max|avg of --field (a numeric column; the only one by default), or energy: kWh per window from power readings (the `units` column: a window's kWh = mean of its kW samples × window hours + sum of its kWh readings; grouped by vehicle unless --by says otherwise). --by groups by vehicle and/or string columns (type = object_type). --label right names a window by its end; --fill 0|previous prints every window of [--from, --to) (of the data's span when open) for every group, empty ones as 0 or as the group's previous value.

            Examples:
              tacho agg detections --every 15m --fn sum --by vehicle,type
              tacho agg locations --every 1h --fn max --field speed_kmh --by vehicle
              tacho agg power --every 15m --fn energy --label right --fill 0
              tacho agg alarms --every 1d --fn count --by alarm_type --where 'severity>=2'
            """)

    @Argument(help: "The measurement (see `tacho measurements`).") var measurement: String?
    @OptionGroup var storeOption: StoreOptionGroup
    @OptionGroup var log: LogOptionGroup
    @OptionGroup var output: ChartableFormatOptionGroup
    @OptionGroup var range: RangeOptionGroup
    @OptionGroup var filter: FilterOptionGroup
    @Option(help: ArgumentHelp("Bucket width, e.g. 15m, 1h, 1d.", valueName: "DURATION")) var every: String
    @Option(help: "count, sum, min, max, avg (of --field), or energy (kWh from power readings).") var fn: AggregateFunction
    @Option(help: ArgumentHelp("The numeric column to aggregate (default: the measurement's only numeric column).",
                               valueName: "COLUMN")) var field: String?
    @Option(help: ArgumentHelp("Group by: vehicle and/or string columns, comma-separated (e.g. vehicle,type).",
                               valueName: "COLUMNS")) var by: String?
    @Option(help: "Label a window by its left (start, the default) or right (end) edge.") var label: BucketLabel = .left
    @Option(help: "Windows without rows: none (omitted, the default), 0, or previous (the group's last value).")
    var fill: FillMode = .none
    @Flag(help: "Print to standard error which tier (raw rows or which rollup) answered which time range.")
    var explain = false
    @Flag(help: "Answer from the raw rows only, not from declared rollups.") var raw = false

    func validate() throws {
        guard let w = Units.durationMicros(every), AggregateQuery.bucketWidthRange.contains(w) else {
            throw ValidationError("--every \(every): expected a duration from 1s to 366d, like 15m or 1h")
        }
    }

    /// `--by` as names; energy groups by vehicle when --by is absent.
    func grouping() -> [String] {
        guard let by else { return fn == .energy ? ["vehicle"] : [] }
        return by.split(separator: ",").map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
    }

    func run() throws {
        let snap = try openSnapshot(storeOption, log)
        let scope = try ReadScope(snap, storeOption)
        let m = try scope.measurement(measurement)
        let g = grouping()
        let (filters, vehicles, named) = try filter.splitVehicle(of: m, in: scope, vehicles: range.vehicles)
        let q = AggregateQuery(
            m, fn, field: field, every: Units.durationMicros(every) ?? 0, groupBy: g, vehicles: vehicles,
            from: range.fromMicros, to: range.toMicros, filters: filters, label: label, fill: fill)
        var query = q
        if !raw { query.rollups = scope.rollupTiers(of: m, in: snap) }
        let answer = try query.answer(on: snap)
        let rows = answer.rows
        if explain {
            for t in answer.tiers { printError("explain: \(t)") }
        }
        var p = RowPrinter(output.format, columns: try QueryRows.aggregateColumns(of: m, groupBy: g))
        p.printAggregates(rows)
        p.finish()
        if rows.isEmpty {
            try noteUnknownVehicles(named, in: snap)
            filter.noteUnknownValues(of: m, in: snap)
        }
    }
}
