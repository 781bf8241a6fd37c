import TachoStore

/// The monotonic clock ingest's timing reports read (how long a file took, rows per second).
/// What ingest *does* by time (ledger timestamps, the daemon's waits and clean-ups) reads the
/// writer's clock, `StoreWriter.environment.clock`, so tests can drive it.
public func monotonicNanos() -> UInt64 { StoreClock.system.monotonicNanos() }

/// Milliseconds since `start` (a `monotonicNanos()` reading).
public func elapsedMs(since start: UInt64) -> Double {
    Double(monotonicNanos() &- start) / 1_000_000
}

/// The system's wall clock, µs since the Unix epoch (the CLI's relative times: `--from -1h`).
public func wallClockMicros() -> Int64 { StoreClock.system.wallMicros() }
