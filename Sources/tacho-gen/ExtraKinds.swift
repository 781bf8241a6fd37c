// `--extra KINDS`: locations, alarms, power, line protocol and NDJSON files beside the
// detection and status files, over the same vehicles and time span.

import ArgumentParser

enum ExtraKind: String, CaseIterable {
    case locations, alarms, power, lp, ndjson
}

struct ExtraOptions: ParsableArguments {
    @Option(name: .customLong("extra"), help: ArgumentHelp("""
        Also write these kinds, comma-separated (or `all`): locations (locations_<ts>.json, one \
        record per device per minute), alarms (alarms_<ts>.json with video file lists), power \
        (power_<ship>_<ts>.json, one document per vehicle and hour, keys in any order), lp \
        (telemetry_<ts>.lp: battery and cabin line protocol), ndjson (temperatures_<ts>.ndjson).
        """, valueName: "kinds"))
    var kinds: String?

    @Option(name: .customLong("extra-bad-share"), help: "Share 0…1 of extra-kind records a validating reader must reject.")
    var badShare = 0.0

    @Option(name: .customLong("extra-late-share"), help: """
        Share 0…1 of extra-kind files that arrive late: every file's mtime is its last record's \
        time plus a minute; a late one's is 1–6 h later.
        """)
    var lateShare = 0.0

    @Option(name: .customLong("extra-gap-share"), help: "Chance per device-minute that a device goes offline for 5–60 minutes.")
    var gapShare = 0.0

    @Option(name: .customLong("extra-per-file"), help: "Records (or lines) per extra-kind file.")
    var perFile = 10_000

    func validate() throws {
        _ = try parsedKinds()
        for (name, v) in [("--extra-bad-share", badShare), ("--extra-late-share", lateShare), ("--extra-gap-share", gapShare)] {
            guard (0...1).contains(v) else { throw ValidationError("\(name) must be between 0 and 1") }
        }
        guard perFile >= 1 else { throw ValidationError("--extra-per-file must be at least 1") }
    }

    func parsedKinds() throws -> [ExtraKind] {
        guard let kinds else { return [] }
        if kinds == "all" { return ExtraKind.allCases }
        return try kinds.split(separator: ",").map { name in
            guard let k = ExtraKind(rawValue: String(name)) else {
                throw ValidationError("--extra: unknown kind '\(name)' (known: \(ExtraKind.allCases.map(\.rawValue).joined(separator: ", ")), all)")
            }
            return k
        }
    }

    /// Writes the asked kinds for `[start, end)` into `directory`; summary fields, in order.
    func generate(directory: String, ids: [String], seed: UInt64, start: Int64, end: Int64) throws -> [(String, String)] {
        var fields: [(String, String)] = []
        for (kind, stats) in try ExtraGenerator(options: self, directory: directory, ids: ids, seed: seed).run(start: start, end: end) {
            let k = kind.rawValue
            fields += [("\(k)_files", "\(stats.files)"), ("\(k)_records", "\(stats.records)"),
                       ("\(k)_bad_records", "\(stats.badRecords)"), ("\(k)_late_files", "\(stats.lateFiles)"),
                       ("\(k)_bytes", "\(stats.bytes)")]
            if kind == .power { fields.append(("power_bad_documents", "\(stats.badDocuments)")) }
            if kind == .lp { fields.append(("lp_syntax_rejects", "\(stats.syntaxRejects)")) }
        }
        return fields
    }
}

/// Runs the extra kinds (separately testable without the command line).
struct ExtraGenerator {
    let options: ExtraOptions
    let directory: String
    let fleet: ExtraFleet
    let seed: UInt64

    init(options: ExtraOptions, directory: String, ids: [String], seed: UInt64) {
        self.options = options
        self.directory = directory
        fleet = ExtraFleet(ids: ids, seed: seed)
        self.seed = seed
    }

    func run(start: Int64, end: Int64) throws -> [(ExtraKind, ExtraStats)] {
        var emitter = ExtraEmitter(files: ExtraFileWriter(directory: directory),
                                   rng: Xoshiro256(seed: seed, stream: ExtraStream.files), lateShare: options.lateShare)
        let (gap, bad, perFile) = (options.gapShare, options.badShare, options.perFile)
        var out: [(ExtraKind, ExtraStats)] = []
        for kind in try options.parsedKinds() {
            let stats: ExtraStats
            switch kind {
            case .locations:
                var s = LocationStream(fleet: fleet, seed: seed, start: start, end: end, gapShare: gap, badShare: bad)
                stats = try emitter.emit(.jsonArray("locations", key: "locations"), perFile: perFile) { s.next() }
            case .alarms:
                var s = AlarmStream(fleet: fleet, seed: seed, start: start, end: end, gapShare: gap, badShare: bad)
                stats = try emitter.emit(.jsonArray("alarms", key: "alarms"), perFile: perFile) { s.next() }
            case .power:
                stats = try PowerGenerator(fleet: fleet, seed: seed, start: start, end: end, gapShare: gap, badShare: bad)
                    .run(&emitter)
            case .lp:
                var s = LineProtocolStream(fleet: fleet, seed: seed, start: start, end: end, gapShare: gap, badShare: bad)
                let framing = ExtraFraming(prefix: "telemetry", ext: "lp",
                                           header: "# tacho-gen line protocol: battery (per pack), cabin\n\n",
                                           separator: "\n", footer: "", lines: true, crlfShare: 0.25)
                stats = try emitter.emit(framing, perFile: perFile) { s.next() }
            case .ndjson:
                var s = TemperatureStream(fleet: fleet, seed: seed, start: start, end: end, gapShare: gap, badShare: bad)
                let framing = ExtraFraming(prefix: "temperatures", ext: "ndjson", header: "", separator: "\n", footer: "", lines: true)
                stats = try emitter.emit(framing, perFile: perFile) { s.next() }
            }
            out.append((kind, stats))
        }
        return out
    }
}
