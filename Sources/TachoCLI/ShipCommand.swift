import ArgumentParser

/// `tacho ship`: its options and help. The shipping itself is in `tacho-net` (`NetworkFeatures`).
package struct ShipCommand: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "ship",
        abstract: "Ship closed partitions (or an export directory) to S3, each object once.",
        discussion: """
            From the store (the default): every measurement partition whose end lies more than \
            --grace in the past is exported as Parquet (the bytes `tacho export` writes) and \
            put at <prefix>/<measurement>/date=YYYY-MM-DD/<box-id>-<partition>-<seq>.parquet. \
            A partition shipped under its current name is not sent again; one that received \
            late rows since has a new <seq> and is shipped as a new object.

            With --from-dir DIR, every file under DIR (a `tacho export --out` directory) is put \
            at <prefix>/<its path under DIR> instead.

            An object is recorded as shipped only after the store acknowledged it, in a ledger \
            that survives crashes (STORE/ship/<target>.log, or DIR/.shipped/<target>.log; \
            docs/SHIPPING.md). Killed at any point and run again, it ships each object once. A \
            file whose bytes changed after it was shipped is refused. Files of \
            --multipart-threshold bytes or more are sent in parts.

            Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and \
            AWS_SESSION_TOKEN; the region from --region, else AWS_REGION or \
            AWS_DEFAULT_REGION, else us-east-1.

            Examples:
              tacho ship --to s3://fleet-lake/raw
              tacho ship --to s3://lake/raw --endpoint http://127.0.0.1:9000 --grace 6h
              tacho ship --from-dir /srv/export --to s3://fleet-lake/raw
            """
    )

    @OptionGroup package var storeOption: StoreOptionGroup

    @Option(name: .customLong("from-dir"), help: ArgumentHelp("Ship the files under this directory instead of the store's closed partitions.", valueName: "DIR"))
    package var fromDir: String?

    @Option(name: .long, help: ArgumentHelp("Destination, s3://BUCKET[/PREFIX].", valueName: "URL"))
    package var to: String

    @Option(name: .long, help: ArgumentHelp("S3 endpoint (http://HOST:PORT for MinIO, Ceph, moto). Default AWS's regional one.", valueName: "URL"))
    package var endpoint: String?

    @Option(name: .long, help: "Region to sign for. Default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1.")
    package var region: String?

    @Option(name: .long, help: "A partition is closed once its end is this far in the past.")
    package var grace: String = "2h"

    @Option(name: .customLong("measurement"), help: "Only these measurements (repeat for several; default: all).")
    package var measurements: [String] = []

    @Option(name: .customLong("box-id"), help: ArgumentHelp("This box's name in object names (default: the host name).", valueName: "ID"))
    package var boxID: String?

    @Option(name: .customLong("multipart-threshold"), help: "Files of this many bytes or more go up in parts.")
    package var multipartThreshold: String = "16MiB"

    @Option(name: .customLong("part-size"), help: "Part size of multipart uploads, at least 5MiB.")
    package var partSize: String = "8MiB"

    @Option(name: .long, help: "Attempts per request before a file fails (retries back off exponentially).")
    package var attempts: Int = 5

    @OptionGroup package var log: LogOptionGroup

    package func run() throws {
        try Tacho.networkFeatures(for: "shipping").ship(self)
    }
}
