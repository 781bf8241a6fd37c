import ArgumentParser

/// `tacho run --ship-to …`: `tacho ship` of the store's closed partitions on a schedule, on a
/// thread beside the inbox loop (it reads snapshots and takes no lock). With --ship-to, `tacho`
/// hands the whole command line to `tacho-net` (`NetworkFeatures`).
package struct RunShipOptions: ParsableArguments {
    package init() {}
    @Option(help: ArgumentHelp("Ship closed partitions to s3://BUCKET[/PREFIX] while running (credentials from AWS_* variables).", valueName: "URL"))
    package var shipTo: String?
    @Option(help: ArgumentHelp("How often to ship.", valueName: "AGE"))
    package var shipEvery: String = "1h"
    @Option(help: ArgumentHelp("A partition is shipped once its end is this far in the past.", valueName: "AGE"))
    package var shipGrace: String = "2h"
    @Option(help: ArgumentHelp("S3 endpoint for --ship-to (default AWS's regional one).", valueName: "URL"))
    package var shipEndpoint: String?
    @Option(help: ArgumentHelp("This box's name in shipped object names (default: the host name).", valueName: "ID"))
    package var shipBoxID: String?
    @Flag(help: "Age retention keeps a partition until it is shipped (a disk budget still deletes, and logs it as an error).")
    package var shipKeep = false
}
