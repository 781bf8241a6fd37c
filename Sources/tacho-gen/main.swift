// tacho-gen: deterministic fleet telemetry generator (see `tools/gen --help`).

import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct TachoGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tacho-gen",
        abstract: "Generate deterministic vehicle telemetry JSON (object detections + vehicle status).",
        discussion: """
            Simulates a fleet and writes the inbox files Tacho ingests (docs/SEMANTICS.md §1):
              objects_detection_<unixSeconds>.json  {"objects_detection_events":[…]}
              vehicles_status_<unixSeconds>.json    {"vehicle_status":[…]}
            <unixSeconds> is the time of the file's earliest event; a taken name
            gets _2, _3, …; a re-delivery is a byte-identical copy named …_dup.json.

            Model: vehicle ids are 32 hex chars (~1% start with a non-hex char,
            like `qbae3f…`). Each vehicle emits a detection event every 0.5–5 s
            (uniform, ms resolution) with 1–5 detections of distinct object types
            (cars most frequent, then pedestrians, signs, trucks, obstacles) and
            counts 0–9 skewed small. Each vehicle reports a sticky status (mostly
            driving, some parking, rarely accident) every --status-every seconds.
            Nested events carry a `detections` array. A flat-written event becomes
            one JSON event per detection, all with the event's time.

            Same options → byte-identical output. Files in --out with the same
            names are overwritten; other files are left alone. Progress goes to
            stderr when it is a terminal. stdout gets one JSON summary line:
              files, objects_files, status_files, duplicate_files,
              detection_events, json_events, detection_rows,
              unique_detection_rows, status_rows, unique_status_rows,
              bytes, objects_bytes, status_bytes, vehicles, first_time, last_time
            *_rows and *_events count everything written, duplicate copies
            included; unique_* count distinct identities: (vehicle, time,
            object_type) for detections, (vehicle, time) for status.
            *_files exclude duplicates; files includes them.

            Examples:
              tools/gen --out /tmp/fleet --vehicles 100 --hours 3    # ≈1.2 M rows
              tools/gen --out /tmp/mix --flat-share 0.3 --shuffle 0.2 --duplicates 0.1
              tools/gen --out /tmp/big --single-file --target-bytes 1GiB
            """
    )

    @Option(help: ArgumentHelp("Output directory (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: "Number of vehicles.")
    var vehicles = 100

    @Option(help: "Simulated hours (fractions allowed).")
    var hours = 1.0

    @Option(help: ArgumentHelp("Simulation start, RFC 3339.", valueName: "time"))
    var start = "2024-07-01T00:00:00Z"

    @Option(help: "Detection events per objects file (before flat expansion).")
    var eventsPerFile = 10_000

    @Option(help: "Status reports per status file (default: --events-per-file).")
    var statusPerFile: Int?

    @Option(help: "Share 0…1 of detection events written in the flat layout; files may mix layouts.")
    var flatShare = 0.0

    @Option(help: "Seed; every value gives a different but reproducible fleet.")
    var seed: UInt64 = 1

    @Option(help: "Share 0…1 of files whose events are written out of time order.")
    var shuffle = 0.0

    @Option(help: "Share 0…1 of files additionally re-delivered as an identical copy (…_dup.json).")
    var duplicates = 0.0

    @Option(help: ArgumentHelp("One status report per vehicle every this many seconds.", valueName: "seconds"))
    var statusEvery = 60.0

    @Flag(help: """
        Write everything into one objects file and one status file, streamed with bounded \
        memory (shuffling then applies per --events-per-file block).
        """)
    var singleFile = false

    @Option(help: ArgumentHelp("""
        Ignore --hours and keep generating until the objects output (first deliveries) reaches \
        SIZE, e.g. 1GiB, 500MiB, 200MB, 1G (K/M/G/T and KiB… are binary, KB/MB/GB… decimal).
        """, valueName: "size"))
    var targetBytes: String?

    @Option(help: ArgumentHelp("""
        Detection model: default (above), or harder: random subsets of 1–5 of 8 object types, \
        per-vehicle periods 0.5–5 s ± 20 %, vehicles offline for minutes, varied value \
        distributions (HarderModel.swift).
        """, valueName: "name"))
    var profile = "default"

    @Flag(help: "Indent like the public fixtures (default: compact, one event per line).")
    var pretty = false

    @OptionGroup(title: "Other kinds (locations, alarms, power, line protocol, NDJSON)")
    var extra: ExtraOptions

    func validate() throws {
        guard vehicles >= 1 else { throw ValidationError("--vehicles must be at least 1") }
        guard hours >= 0, hours.isFinite else { throw ValidationError("--hours must be ≥ 0") }
        guard eventsPerFile >= 1 else { throw ValidationError("--events-per-file must be at least 1") }
        if let n = statusPerFile, n < 1 { throw ValidationError("--status-per-file must be at least 1") }
        for (name, v) in [("--flat-share", flatShare), ("--shuffle", shuffle), ("--duplicates", duplicates)] {
            guard (0...1).contains(v) else { throw ValidationError("\(name) must be between 0 and 1") }
        }
        guard statusEvery >= 0.001, statusEvery.isFinite else {
            throw ValidationError("--status-every must be at least 0.001 seconds")
        }
        do { _ = try parseRFC3339(start) } catch { throw ValidationError("--start: \(error)") }
        guard Profile(rawValue: profile) != nil else {
            throw ValidationError("--profile must be one of: \(Profile.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let t = targetBytes, parseSize(t) == nil {
            throw ValidationError("--target-bytes: cannot read '\(t)' (e.g. 1GiB, 500MB, 1048576)")
        }
    }

    func run() throws {
        let startMs = try parseRFC3339(start)
        let target = targetBytes.flatMap(parseSize)
        if mkdir(out, 0o755) != 0 && errno != EEXIST { throw GenError.posix("cannot create directory", out) }

        let fleet = Fleet(vehicles: vehicles, seed: seed)
        var writer = JSONWriter(ids: fleet.ids, pretty: pretty)
        let emitter = Emitter(settings: Settings(
            directory: out, singleFile: singleFile, shuffle: shuffle, duplicates: duplicates,
            targetBytes: target, seed: seed))

        var detections = DetectionStream(
            vehicles: vehicles, seed: seed, start: startMs,
            horizon: target == nil ? startMs + Int64((hours * 3_600_000).rounded()) : .max,
            flatShare: flatShare, profile: Profile(rawValue: profile) ?? .standard)
        let objects = try emitter.emit(
            prefix: "objects_detection", header: writer.objectsHeader, footer: writer.footer,
            perFile: eventsPerFile, emptyTime: startMs, stopAtTarget: target != nil,
            next: { detections.next() }, time: { $0.time },
            write: { e, first, file in
                (try writer.write(e, first: first, to: file), Int(e.count))
            })

        // Status covers the same span as the detections (up to the last one with a byte target).
        let statusHorizon = target == nil ? detections.horizon : max(startMs, emitter.lastTime + 1)
        var reports = StatusStream(
            vehicles: vehicles, seed: seed, start: startMs,
            every: Int64((statusEvery * 1000).rounded()), horizon: statusHorizon)
        let status = try emitter.emit(
            prefix: "vehicles_status", header: writer.statusHeader, footer: writer.footer,
            perFile: statusPerFile ?? eventsPerFile, emptyTime: startMs, stopAtTarget: false,
            next: { reports.next() }, time: { $0.time },
            write: { r, first, file in
                try writer.write(r, first: first, to: file)
                return (1, 1)
            })

        let first = emitter.firstTime == .max ? "null" : "\"\(TimeFormatter.string(emitter.firstTime))\""
        let last = emitter.lastTime == .min ? "null" : "\"\(TimeFormatter.string(emitter.lastTime))\""
        var fields: [(String, String)] = [
            ("files", "\(objects.files + status.files + objects.duplicateFiles + status.duplicateFiles)"),
            ("objects_files", "\(objects.files)"),
            ("status_files", "\(status.files)"),
            ("duplicate_files", "\(objects.duplicateFiles + status.duplicateFiles)"),
            ("detection_events", "\(objects.events)"),
            ("json_events", "\(objects.jsonEvents)"),
            ("detection_rows", "\(objects.rows)"),
            ("unique_detection_rows", "\(objects.uniqueRows)"),
            ("status_rows", "\(status.rows)"),
            ("unique_status_rows", "\(status.uniqueRows)"),
            ("bytes", "\(objects.bytes + status.bytes)"),
            ("objects_bytes", "\(objects.bytes)"),
            ("status_bytes", "\(status.bytes)"),
            ("vehicles", "\(vehicles)"),
            ("first_time", first),
            ("last_time", last),
        ]
        fields += try extra.generate(directory: out, ids: fleet.ids, seed: seed, start: startMs, end: statusHorizon)
        print("{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
    }
}

/// `1GiB`, `500MiB`, `1G` (binary), `200MB`, `1.5GB` (decimal), `1048576` (bytes).
func parseSize(_ text: String) -> Int64? {
    let t = String(text.filter { $0 != " " })
    let digits = t.prefix { $0.isNumber || $0 == "." }
    guard let number = Double(digits), number >= 0 else { return nil }
    let unit = t.dropFirst(digits.count).lowercased()
    let powers: [Character: Double] = ["k": 1, "m": 2, "g": 3, "t": 4]
    var factor = 1.0
    if unit.isEmpty || unit == "b" {
        factor = 1
    } else if let p = powers[unit.first!] {
        let rest = unit.dropFirst()
        switch rest {
        case "", "i", "ib": factor = pow(1024, p)
        case "b": factor = pow(1000, p)
        default: return nil
        }
    } else {
        return nil
    }
    return Int64((number * factor).rounded())
}

TachoGen.main()
