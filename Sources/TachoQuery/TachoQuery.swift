// TachoQuery: the read side of Tacho over one `Snapshot` (a consistent commit). No printing,
// no formatting — times are µs since the Unix epoch (UTC), ranges are [from, to).
//
//     let snap = try Snapshot.open(path: store)
//     let c = try RowCursor(snapshot: snap, query: .detections(vehicles: ["v1"], from: a, to: b, types: ["cars"]))
//     while let block = try c.nextBatch() { for i in 0..<block.count { … block.time(i) … } }
//     let latest = try LatestQuery(vehicles: nil, at: t).run(on: snap)           // [LatestRow]
//     let agg = try AggregateQuery(.sum, every: 900_000_000, groupBy: ["vehicle", "type"]).run(on: snap)
//     let power = try MeasurementLookup.named("power", in: snap)   // every lookup goes through here
//     let kwh = try AggregateQuery(power, .energy, every: 900_000_000, groupBy: ["vehicle"], label: .right, fill: .zero).run(on: snap)
//     let fast = try RowCursor(snapshot: snap, query: RangeQuery(locations, filters: [ColumnFilter.parse("speed_kmh>80")]))
//     let last = try LatestRowQuery(locations).run(on: snap)                  // [Row]: newest row per vehicle
//     let vehicles = try VehicleSummary.compute(on: snap)
//     let stats = try StoreStats.compute(on: snap)
//
// Invalid arguments throw `QueryError`; storage problems come through as `StoreError`.
// A snapshot is `Sendable`: share one among concurrent queries (each query, each cursor,
// is one thread's at a time).
