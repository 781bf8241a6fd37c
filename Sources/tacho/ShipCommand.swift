import ArgumentParser
import Dispatch
import Foundation
import Logging
import TachoS3
import TachoSchema

struct ShipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ship",
        abstract: "Upload exported Parquet files to S3-compatible storage, each exactly once.",
        discussion: """
            Puts every file under --from-dir (a `tacho export --out` directory) at \
            <prefix>/<its path under the directory>. An object is recorded as shipped only \
            after the store acknowledged it, in a ledger that survives crashes \
            (DIR/.shipped/<target>.log, see docs/SHIPPING.md); a file the ledger records with \
            the same bytes is not sent again, and one whose bytes changed after it was shipped \
            is refused. Killed at any point and run again, it uploads each object once. Files \
            of --multipart-threshold bytes or more are sent in parts.

            Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and \
            AWS_SESSION_TOKEN; the region from --region, else AWS_REGION or \
            AWS_DEFAULT_REGION, else us-east-1.

            Examples:
              tacho export --out /var/lib/tacho/export
              tacho ship --from-dir /var/lib/tacho/export --to s3://fleet-lake/raw
              tacho ship --from-dir out --to s3://lake/x --endpoint http://127.0.0.1:9000

            Exit status: 0 all shipped; 1 a file failed (its error is printed; run again to \
            resume); 64 usage.
            """
    )

    @Option(name: .customLong("from-dir"), help: "Directory of files to ship (keys are their paths under it).")
    var fromDir: String

    @Option(name: .long, help: "Destination, s3://BUCKET[/PREFIX].")
    var to: String

    @Option(name: .long, help: "S3 endpoint URL (http://HOST:PORT for MinIO, Ceph, moto). Default AWS's regional endpoint.")
    var endpoint: String?

    @Option(name: .long, help: "Region to sign for. Default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1.")
    var region: String?

    @Option(name: .customLong("multipart-threshold"), help: "Files of this many bytes or more go up in parts (default 16MiB).")
    var multipartThreshold: String = "16MiB"

    @Option(name: .customLong("part-size"), help: "Part size of multipart uploads, at least 5MiB (default 8MiB).")
    var partSize: String = "8MiB"

    @Option(name: .long, help: "Attempts per request before a file fails (retries back off exponentially).")
    var attempts: Int = 5

    @OptionGroup var log: LogOptionGroup

    func run() throws {
        let logger = log.logger("tacho.ship")
        let env = ProcessInfo.processInfo.environment
        let region = region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let target: S3Target
        do {
            target = try S3Target(url: to, endpoint: endpoint, region: region)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let credentials = S3Credentials.fromEnvironment(env) else {
            throw ValidationError("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        guard let threshold = SettingUnits.bytes(multipartThreshold), let part = SettingUnits.bytes(partSize), part >= 5 << 20 else {
            throw ValidationError("--multipart-threshold and --part-size take sizes like 16MiB; parts must be at least 5MiB")
        }
        guard attempts >= 1 else { throw ValidationError("--attempts must be at least 1") }
        let root = fromDir.hasSuffix("/") ? String(fromDir.dropLast()) : fromDir
        let items = try Self.files(under: root)
        let ledgerPath = root + "/.shipped/" + Self.targetID(target) + ".log"
        var client = S3Client(target: target, credentials: credentials, logger: logger)
        client.attempts = attempts
        let ledger: ShipLedger
        do {
            ledger = try ShipLedger(path: ledgerPath)
        } catch {
            printError("tacho ship: \(error)")
            throw ExitCode(1)
        }
        if ledger.ignoredLines > 0 {
            logger.warning("ignored \(ledger.ignoredLines) torn or damaged line(s) of \(ledgerPath); their objects are checked again")
        }
        var shipper = Shipper(client: client, ledger: ledger, logger: logger)
        shipper.multipartThreshold = Int(threshold)
        shipper.partSize = Int(part)
        let configured = shipper
        let result = runBlocking { try await configured.ship(items) }
        switch result {
        case .success(let r):
            print("shipped \(r.uploaded.count) file(s), \(r.bytes) bytes, to \(target.description); \(r.alreadyShipped.count) already there"
                + (r.abortedStale > 0 ? "; aborted \(r.abortedStale) interrupted multipart upload(s)" : ""))
        case .failure(let e):
            printError("tacho ship: \(e)")
            throw ExitCode(1)
        }
    }

    /// Regular files under `root` (not its `.shipped/` ledgers, not temp files), as items
    /// keyed by their relative path, in path order.
    static func files(under root: String) throws -> [ShipItem] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("--from-dir \(root) is not a directory")
        }
        var items: [ShipItem] = []
        for rel in (fm.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []).sorted() {
            if rel.hasPrefix(".shipped") || rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) || rel.hasSuffix(".tmp") { continue }
            var d: ObjCBool = false
            guard fm.fileExists(atPath: root + "/" + rel, isDirectory: &d), !d.boolValue else { continue }
            items.append(ShipItem(key: rel, path: root + "/" + rel))
        }
        return items
    }

    /// The ledger's name for a target: 16 hex digits of a hash of endpoint, bucket and prefix.
    static func targetID(_ t: S3Target) -> String {
        String(SigV4Signer.payloadHash(Array("\(t.endpoint)\n\(t.bucket)\n\(t.prefix)".utf8)).prefix(16))
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

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, any Error>?
    func set(_ v: Result<T, any Error>) { lock.withLock { value = v } }
    func get() -> Result<T, any Error> {
        lock.withLock { value } ?? .failure(CancellationError())
    }
}
