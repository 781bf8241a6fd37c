import ArgumentParser
import Logging
import TachoLake
import TachoS3
import TachoSchema
import TachoStore

/// `tacho run --ship-to …`: `tacho ship` of the store's closed partitions on a schedule, on a
/// thread beside the inbox loop (it reads snapshots and takes no lock).
struct RunShipOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Ship closed partitions to s3://BUCKET[/PREFIX] while running (credentials from AWS_* variables).", valueName: "URL"))
    var shipTo: String?
    @Option(help: ArgumentHelp("How often to ship.", valueName: "AGE"))
    var shipEvery: String = "1h"
    @Option(help: ArgumentHelp("A partition is shipped once its end is this far in the past.", valueName: "AGE"))
    var shipGrace: String = "2h"
    @Option(help: ArgumentHelp("S3 endpoint for --ship-to (default AWS's regional one).", valueName: "URL"))
    var shipEndpoint: String?
    @Option(help: ArgumentHelp("This box's name in shipped object names (default: the host name).", valueName: "ID"))
    var shipBoxID: String?
    @Flag(help: "Age retention keeps a partition until it is shipped (a disk budget still deletes, and logs it as an error).")
    var shipKeep = false

    /// The scheduler, nil without --ship-to; a bad value is a usage error before the daemon starts.
    func scheduler(storePath: String, options: StoreOptions, logger: Logger) throws -> ShipScheduler? {
        guard let shipTo else { return nil }
        let client = try ShipCommand.client(to: shipTo, endpoint: shipEndpoint, region: nil, logger: logger)
        guard let every = SettingUnits.durationMicros(shipEvery), every > 0 else {
            throw ValidationError("--ship-every \(shipEvery): expected a duration like 1h or 30m")
        }
        guard let grace = SettingUnits.durationMicrosOrZero(shipGrace) else {
            throw ValidationError("--ship-grace \(shipGrace): expected a duration like 2h, 30m or 0")
        }
        var job = ClosedPartitionShipping(
            storePath: storePath, storeOptions: options, boxID: try shipBoxID ?? ExportCommand.hostName(), graceMicros: grace)
        job.parquet = ExportCommand.parquetOptions()
        return ShipScheduler(job: job, client: client, everySeconds: Double(every) / 1e6, logger: logger)
    }
}
