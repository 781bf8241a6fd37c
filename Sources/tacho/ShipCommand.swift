import ArgumentParser
import Dispatch
import FoundationEssentials
import Synchronization
import Logging
import TachoLake
import TachoS3
import TachoStore
import TachoSchema

struct ShipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    @OptionGroup var storeOption: StoreOptionGroup

    @Option(name: .customLong("from-dir"), help: ArgumentHelp("Ship the files under this directory instead of the store's closed partitions.", valueName: "DIR"))
    var fromDir: String?

    @Option(name: .long, help: ArgumentHelp("Destination, s3://BUCKET[/PREFIX].", valueName: "URL"))
    var to: String

    @Option(name: .long, help: ArgumentHelp("S3 endpoint (http://HOST:PORT for MinIO, Ceph, moto). Default AWS's regional one.", valueName: "URL"))
    var endpoint: String?

    @Option(name: .long, help: "Region to sign for. Default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1.")
    var region: String?

    @Option(name: .long, help: "A partition is closed once its end is this far in the past.")
    var grace: String = "2h"

    @Option(name: .customLong("measurement"), help: "Only these measurements (repeat for several; default: all).")
    var measurements: [String] = []

    @Option(name: .customLong("box-id"), help: ArgumentHelp("This box's name in object names (default: the host name).", valueName: "ID"))
    var boxID: String?

    @Option(name: .customLong("multipart-threshold"), help: "Files of this many bytes or more go up in parts.")
    var multipartThreshold: String = "16MiB"

    @Option(name: .customLong("part-size"), help: "Part size of multipart uploads, at least 5MiB.")
    var partSize: String = "8MiB"

    @Option(name: .long, help: "Attempts per request before a file fails (retries back off exponentially).")
    var attempts: Int = 5

    @OptionGroup var log: LogOptionGroup

    func run() throws {
        let logger = log.logger("tacho.ship")
        var client = try Self.client(to: to, endpoint: endpoint, region: region, logger: logger)
        let target = client.target
        guard let threshold = SettingUnits.bytes(multipartThreshold), let part = SettingUnits.bytes(partSize), part >= 5 << 20 else {
            throw ValidationError("--multipart-threshold and --part-size take sizes like 16MiB; parts must be at least 5MiB")
        }
        guard let graceMicros = SettingUnits.durationMicrosOrZero(grace) else {
            throw ValidationError("--grace takes a duration like 2h, 30m or 0")
        }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        client.attempts = attempts
        if let fromDir {
            try shipDirectory(fromDir, client: client, threshold: Int(threshold), part: Int(part), logger: logger)
            return
        }
        var opts = StoreOptions()
        opts.logger = logger
        var job = ClosedPartitionShipping(
            storePath: storeOption.path, storeOptions: opts, boxID: try boxID ?? ExportCommand.hostName(), graceMicros: graceMicros,
            measurements: measurements.isEmpty ? nil : measurements)
        job.parquet = ExportCommand.parquetOptions()
        job.multipartThreshold = Int(threshold)
        job.partSize = Int(part)
        let configured = job, shipClient = client
        let now = StoreEnvironment.system.clock.wallMicros()
        switch runBlocking({ try await configured.run(client: shipClient, nowMicros: now, logger: logger) }) {
        case .success(let r):
            print("shipped \(r.shipped.count) partition file(s), \(r.bytes) bytes, to \(target.description); "
                + "\(r.alreadyShipped) already there; \(r.open) still open"
                + (r.abortedStale > 0 ? "; aborted \(r.abortedStale) interrupted multipart upload(s)" : ""))
        case .failure(let e):
            printError("tacho ship: \(e)")
            throw ExitCode(ExitStatus.failure)
        }
    }

    /// The client for `url` (s3://BUCKET[/PREFIX]): region from `region`, else AWS_REGION,
    /// else AWS_DEFAULT_REGION, else us-east-1; credentials from the AWS_* variables. One
    /// reading of both for `tacho ship` and `tacho run --ship-to`.
    static func client(to url: String, endpoint: String?, region: String?, logger: Logger) throws -> S3Client {
        let env = ProcessInfo.processInfo.environment
        let region = region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let target: S3Target
        do {
            target = try S3Target(url: url, endpoint: endpoint, region: region)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let credentials = S3Credentials.fromEnvironment(env) else {
            throw ValidationError("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        return S3Client(target: target, credentials: credentials, logger: logger)
    }

    private func shipDirectory(_ dir: String, client: S3Client, threshold: Int, part: Int, logger: Logger) throws {
        let root = dir.hasSuffix("/") && dir.count > 1 ? String(dir.dropLast()) : dir
        let items = try Self.files(under: root)
        let ledgerPath = root + "/.shipped/" + ClosedPartitionShipping.targetID(client.target) + ".log"
        let ledger: ShipLedger
        do {
            ledger = try ShipLedger(path: ledgerPath)
        } catch {
            printError("tacho ship: \(error)")
            throw ExitCode(ExitStatus.failure)
        }
        if ledger.ignoredLines > 0 {
            logger.warning("ignored \(ledger.ignoredLines) torn or damaged line(s) of \(ledgerPath); their objects are checked again")
        }
        var shipper = Shipper(client: client, ledger: ledger, logger: logger)
        shipper.multipartThreshold = threshold
        shipper.partSize = part
        let configured = shipper
        switch runBlocking({ try await configured.ship(items) }) {
        case .success(let r):
            print("shipped \(r.uploaded.count) file(s), \(r.bytes) bytes, to \(client.target.description); \(r.alreadyShipped.count) already there"
                + (r.abortedStale > 0 ? "; aborted \(r.abortedStale) interrupted multipart upload(s)" : ""))
        case .failure(let e):
            printError("tacho ship: \(e)")
            throw ExitCode(ExitStatus.failure)
        }
    }

    /// Regular files under `root` (not hidden ones such as its `.shipped/` ledgers or an
    /// export's temporary files), as items keyed by their relative path, in path order.
    static func files(under root: String) throws -> [ShipItem] {
        let fs = StoreEnvironment.system.files
        guard (try? fs.fileStatus(root, followingLinks: true).kind) == .directory else {
            throw ValidationError("--from-dir \(root) is not a directory")
        }
        var items: [ShipItem] = []
        func walk(_ rel: String) throws {
            let dir = rel.isEmpty ? root : root + "/" + rel
            for e in try fs.directoryEntries(dir).sorted(by: { $0.name < $1.name }) where !e.name.hasPrefix(".") && e.isValidUTF8 {
                let child = rel.isEmpty ? e.name : rel + "/" + e.name
                switch try fs.fileStatus(root + "/" + child, followingLinks: false).kind {
                case .directory: try walk(child)
                case .regular where !e.name.hasSuffix(".tmp"): items.append(ShipItem(key: child, path: root + "/" + child))
                default: break
                }
            }
        }
        try walk("")
        return items.sorted { $0.key < $1.key }
    }
}

/// Runs async work from a synchronous command and waits for it.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task {
        do { box.set(.success(try await body())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    done.wait()
    return box.get()
}

private final class ResultBox<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    func set(_ v: Result<T, any Error>) { value.withLock { $0 = v } }
    func get() -> Result<T, any Error> {
        value.withLock { $0 } ?? .failure(CancellationError())
    }
}
