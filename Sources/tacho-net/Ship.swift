import ArgumentParser
import Dispatch
import FoundationEssentials
import Synchronization
import Logging
import TachoCLI
import TachoDaemon
import TachoLake
import TachoS3
import TachoStore
import TachoSchema

/// `tacho ship` and `tacho run --ship-to`: the S3 side of the CLI, installed into the root
/// command by `tacho-net`'s main.
struct S3Features: NetworkFeatures {
    func ship(_ command: ShipCommand) throws {
        let logger = command.log.logger("tacho.ship")
        var client = try Self.client(to: command.to, endpoint: command.endpoint, region: command.region, logger: logger)
        let target = client.target
        guard let threshold = SettingUnits.bytes(command.multipartThreshold), let part = SettingUnits.bytes(command.partSize), part >= 5 << 20 else {
            throw ValidationError("--multipart-threshold and --part-size take sizes like 16MiB; parts must be at least 5MiB")
        }
        guard let graceMicros = SettingUnits.durationMicrosOrZero(command.grace) else {
            throw ValidationError("--grace takes a duration like 2h, 30m or 0")
        }
        guard command.attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        client.attempts = command.attempts
        if let fromDir = command.fromDir {
            try shipDirectory(fromDir, client: client, threshold: Int(threshold), part: Int(part), logger: logger)
            return
        }
        var opts = StoreOptions()
        opts.logger = logger
        var job = ClosedPartitionShipping(
            storePath: command.storeOption.path, storeOptions: opts, boxID: try command.boxID ?? ExportDefaults.hostName(), graceMicros: graceMicros,
            measurements: command.measurements.isEmpty ? nil : command.measurements)
        job.parquet = ExportDefaults.parquetOptions()
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

    /// `tacho run --ship-to`: the scheduler, nil without --ship-to; a bad value is a usage
    /// error before the daemon opens the store.
    func daemonShipping(
        _ o: RunShipOptions, storePath: String, storeRoot: String, storeOptions: StoreOptions, logger: Logger
    ) throws -> DaemonShipping? {
        guard let shipTo = o.shipTo else { return nil }
        let client = try Self.client(to: shipTo, endpoint: o.shipEndpoint, region: nil, logger: logger)
        guard let every = SettingUnits.durationMicros(o.shipEvery), every > 0 else {
            throw ValidationError("--ship-every \(o.shipEvery): expected a duration like 1h or 30m")
        }
        guard let grace = SettingUnits.durationMicrosOrZero(o.shipGrace) else {
            throw ValidationError("--ship-grace \(o.shipGrace): expected a duration like 2h, 30m or 0")
        }
        var job = ClosedPartitionShipping(
            storePath: storePath, storeOptions: storeOptions, boxID: try o.shipBoxID ?? ExportDefaults.hostName(), graceMicros: grace)
        job.parquet = ExportDefaults.parquetOptions()
        let scheduler = ShipScheduler(job: job, client: client, everySeconds: Double(every) / 1e6, logger: logger)
        var keep: (@Sendable (String, Int64, UInt64) -> Bool)?
        if o.shipKeep {
            let shipped = ShippedPartitions(store: storeRoot)
            keep = { shipped.contains($0, $1, $2) }
        }
        return DaemonShipping(job: scheduler, keepUntilShipped: keep)
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

extension ShipScheduler: DaemonJob {}
