import Dispatch
import Logging
import Synchronization
import TachoS3
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

/// Runs `ClosedPartitionShipping` every `everySeconds` on a thread of its own, beside
/// `tacho run`'s inbox loop (docs/SHIPPING.md, "On a schedule"). A failed run is logged and
/// tried again at the next interval. `stop()` does not wait for a run in flight: shipping is
/// safe to abandon at any point (the next run aborts what this one left open), so a daemon
/// asked to stop does not wait for an upload.
public final class ShipScheduler: Sendable {
    private let job: ClosedPartitionShipping
    private let client: S3Client
    private let everySeconds: Double
    private let logger: Logger
    private let stopped = Atomic<Bool>(false)
    private let clock: StoreClock
    /// Runs completed (for tests and status).
    private let runs = Atomic<Int>(0)

    public init(job: ClosedPartitionShipping, client: S3Client, everySeconds: Double, logger: Logger) {
        self.job = job
        self.client = client
        self.everySeconds = everySeconds
        self.logger = logger
        clock = job.storeOptions.environment.clock
    }

    public var completedRuns: Int { runs.load(ordering: .relaxed) }

    public func start() {
        // A long-lived loop on a queue of its own (it sleeps between runs).
        DispatchQueue(label: "tacho.ship").async { [self] in loop() }
    }

    public func stop() { stopped.store(true, ordering: .relaxed) }

    private func loop() {
        while !stopped.load(ordering: .relaxed) {
            runOnce()
            runs.add(1, ordering: .relaxed)
            var waited = 0.0
            while waited < everySeconds && !stopped.load(ordering: .relaxed) {
                clock.sleep(seconds: 0.2)
                waited += 0.2
            }
        }
    }

    private func runOnce() {
        let done = DispatchSemaphore(value: 0)
        let (job, client, logger) = (self.job, self.client, self.logger)
        Task {
            do {
                let now = job.storeOptions.environment.clock.wallMicros()
                let r = try await job.run(client: client, nowMicros: now, logger: logger)
                if !r.shipped.isEmpty {
                    logger.notice("shipped \(r.shipped.count) partition file(s), \(r.bytes) bytes, to \(client.target.description)")
                }
            } catch {
                logger.error("ship to \(client.target.description) failed (next attempt in \(Int(everySeconds)) s): \(error)")
            }
            done.signal()
        }
        done.wait()
    }
}
