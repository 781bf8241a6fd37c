import ArgumentParser
import Logging
import TachoFormat

/// What `tacho --version` prints: the release and the on-disk format versions it writes and reads.
package enum TachoVersion {
    package static let release = "0.3.0"
    package static var description: String {
        let r = FormatConstants.readableSegmentVersions
        return "tacho \(release) (segment format v\(FormatConstants.segmentVersion), reads v\(r.lowerBound)–v\(r.upperBound); "
            + "manifest v\(FormatConstants.manifestVersion); latest index v\(FormatConstants.latestVersion); "
            + "ledger v\(FormatConstants.ledgerVersion), reads v1–v\(FormatConstants.ledgerVersion); catalog v\(FormatConstants.catalogVersion))"
    }
}
#if canImport(Glibc)
import Glibc
#endif

/// The root command. Two executables run it: `tacho` (the lean one: ingest, queries, the
/// daemon) and `tacho-net` (the same commands, plus what needs the network stack: shipping to
/// S3), which `tacho` execs when a command line asks for shipping (`NetworkFeatures`).
package struct Tacho: ParsableCommand {
    package init() {}
    package static let configuration = CommandConfiguration(
        commandName: "tacho",
        abstract: "An embedded time-series store for vehicle telemetry.",
        discussion: """
            Telemetry JSON files (objects_detection_*.json, vehicles_status_*.json) are ingested into a columnar, per-vehicle, time-partitioned store of zstd-compressed segments, then queried.

            The store is --store DIR (-s), else $TACHO_STORE, else the config file's [store] path, else ./tacho-data. The config file is --config FILE, else $TACHO_CONFIG, else /etc/tacho/tacho.toml when it exists. Times accept RFC 3339 (2022-06-05T21:02:34.546Z), a date (2022-06-05), `now`, and relative forms (-2h, -7d, -30m, -15s).

            Query output (-f, --format) is a table when stdout is a terminal, else CSV. Every subcommand takes -q (quiet) and -v (verbose); these, -s, -c and --log-level may also come before its name (tacho -q ingest …).

            Examples:
              tacho ingest ./inbox/*.json
              tacho latest --vehicle ebab5f787798416fb2b8afc1340d7a4e
              tacho query detections --from 2022-06-05 --type cars
              tacho agg detections --every 15m --fn sum --by vehicle,type
              tacho measurements        # what can be queried
              tacho query locations --where 'speed_kmh>80'
              tacho latest locations    # the last location of every vehicle
              tacho agg power --every 15m --fn energy --label right --fill 0
              tacho compact --retention detections=30d,status=365d

            \(ExitStatus.helpText)
            """,
        version: TachoVersion.description,
        subcommands: [
            RunCommand.self, IngestCommand.self, LatestCommand.self, QueryCommand.self, AggCommand.self,
            VehiclesCommand.self, StatsCommand.self, MeasurementsCommand.self, CompactCommand.self, VerifyCommand.self,
            InspectCommand.self, ConfigCommand.self, RollupCommand.self, ExportCommand.self, ShipCommand.self, ServeCommand.self,
        ]
    )

    /// Raises the soft limit on open files to the hard limit first: a store of thousands of
    /// segments, the inbox and the parse threads must not trip a default soft limit of 1024
    /// (reads also bound their open segments to a quarter of the limit).
    package static func main() {
        raiseOpenFileLimit()
        runWithExitPolicy(Array(CommandLine.arguments.dropFirst()))
    }
}

/// Sets the soft RLIMIT_NOFILE to the hard limit (best effort: an error leaves it as it was).
func raiseOpenFileLimit() {
    var rl = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0, rl.rlim_cur < rl.rlim_max else { return }
    rl.rlim_cur = rl.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl)
}
