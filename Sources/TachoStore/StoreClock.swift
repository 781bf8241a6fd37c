import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The time half of the store's environment (`StoreEnvironment`): where every layer's "now"
/// comes from, and how it waits. Production reads `CLOCK_REALTIME` and `CLOCK_MONOTONIC` and
/// sleeps with nanosleep; tests use `Manual`, whose sleep moves time instead of waiting.
public struct StoreClock: Sendable {
    /// Wall-clock time, µs since the Unix epoch (may jump: NTP, an RTC-less boot, an operator).
    public var wallMicros: @Sendable () -> Int64
    /// Time that only moves forward at the rate of real time, ns (never jumps).
    public var monotonicNanos: @Sendable () -> UInt64
    /// Waits this many ns (rate limits, lock retries, the daemon's back-off).
    public var sleepNanos: @Sendable (UInt64) -> Void

    public init(wallMicros: @escaping @Sendable () -> Int64, monotonicNanos: @escaping @Sendable () -> UInt64,
                sleepNanos: @escaping @Sendable (UInt64) -> Void = { systemSleep(nanos: $0) }) {
        self.wallMicros = wallMicros
        self.monotonicNanos = monotonicNanos
        self.sleepNanos = sleepNanos
    }

    public static let system = StoreClock(
        wallMicros: { systemWallMicros() }, monotonicNanos: { systemMonotonicNanos() }, sleepNanos: { systemSleep(nanos: $0) })

    /// Waits `seconds` (nothing when ≤ 0; at least 1 ns otherwise, so a loop that sleeps
    /// until a time has come always gets there).
    public func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        sleepNanos(max(1, UInt64(min(seconds, 1e9) * 1e9)))
    }

    /// Seconds since `start` (a `monotonicNanos()` reading).
    public func seconds(since start: UInt64) -> Double { Double(monotonicNanos() &- start) / 1e9 }

    /// A clock a test sets: `advance` moves both clocks (time passing), `jumpWall` moves only
    /// the wall clock (NTP correcting it, an RTC-less box booting).
    /// Its `sleepNanos` advances both clocks by the time asked for and returns at once.
    public final class Manual: Sendable {
        private let state: Mutex<(wall: Int64, mono: UInt64, slept: UInt64)>
        public init(wallMicros: Int64) { state = Mutex((wallMicros, 1_000_000_000, 0)) }
        public var clock: StoreClock {
            StoreClock(
                wallMicros: { self.state.withLock { $0.wall } }, monotonicNanos: { self.state.withLock { $0.mono } },
                sleepNanos: { n in
                    self.state.withLock {
                        $0.wall &+= Int64(clamping: n / 1000)
                        $0.mono &+= n
                        $0.slept &+= n
                    }
                })
        }
        /// Total ns callers asked to sleep (tests of rate limits and back-off).
        public var sleptNanos: UInt64 { state.withLock { $0.slept } }
        public var wallMicros: Int64 { state.withLock { $0.wall } }
        public var monotonicNanos: UInt64 { state.withLock { $0.mono } }
        public func advance(micros: Int64) {
            state.withLock {
                $0.wall += micros
                $0.mono += UInt64(max(0, micros)) * 1000
            }
        }
        public func jumpWall(micros: Int64) { state.withLock { $0.wall += micros } }
    }
}

/// Decides whether the wall clock may be acted on by retention (SEMANTICS §5: retention
/// never deletes on a clock it has reason to distrust). Two rules:
///
/// 1. **Lead over the data.** The wall clock may be at most `maxLead` ahead of the newest row
///    in the store. A box that boots without a real-time clock (1970, or years ahead) and
///    runs retention before NTP syncs would otherwise expire everything. Works for one-shot
///    commands too (`tacho compact` from cron): it needs no history, only the manifest.
/// 2. **No abrupt jumps.** In a long-running process (`tacho run`), when the wall clock moved
///    by more than `jumpTolerance` more or less than the monotonic clock since the last look,
///    it was set, not ticking: age retention pauses until the clock has run steadily for
///    `settleAfterJump`.
///
/// What is not trusted is not acted on: age retention skips its round (logged once per state),
/// the processed/ clean-up waits, and compaction does not prune the ledger by age (it still
/// plans merges and cold recompression with the wall clock: that costs CPU, never rows).
public final class ClockTrust {
    public let clock: StoreClock
    /// µs; 0 disables rule 1 (`--max-clock-lead 0`: trust the clock whatever the data says).
    public let maxLead: Int64
    public let jumpTolerance: Int64
    public let settleAfterJump: UInt64
    private var last: (wall: Int64, mono: UInt64)?
    private var distrustUntil: UInt64?
    private var lastJump: Int64 = 0

    public static let defaultMaxLead: Int64 = 7 * 86_400_000_000

    public init(clock: StoreClock = .system, maxLead: Int64 = ClockTrust.defaultMaxLead,
                jumpTolerance: Int64 = 300_000_000, settleAfterJump: UInt64 = 600_000_000_000) {
        self.clock = clock
        self.maxLead = maxLead
        self.jumpTolerance = jumpTolerance
        self.settleAfterJump = settleAfterJump
    }

    public enum Verdict: Sendable, Equatable {
        case trusted(now: Int64)
        /// `now` is the wall clock; `clamped` the latest time the data vouches for
        /// (`newest + maxLead`, or the wall clock when it is behind that).
        case distrusted(now: Int64, clamped: Int64, reason: String)

        public var isTrusted: Bool { if case .trusted = self { true } else { false } }
        /// The wall clock, trusted or not. Compaction plans merges and cold recompression with
        /// it (a wrong clock costs CPU there, never rows); what deletes by age asks `isTrusted`.
        public var wallNow: Int64 {
            switch self {
            case .trusted(let n): n
            case .distrusted(let n, _, _): n
            }
        }

        /// The time safe to plan with: the wall clock when trusted, else the clamped one.
        public var safeNow: Int64 {
            switch self {
            case .trusted(let n): n
            case .distrusted(_, let c, _): c
            }
        }
    }

    /// Looks at the clock now, against the newest row the store holds (`Manifest.newestTime`).
    public func judge(newestData: Int64?) -> Verdict {
        let wall = clock.wallMicros()
        let mono = clock.monotonicNanos()
        defer { last = (wall, mono) }
        var clamped = wall
        if let newest = newestData, maxLead > 0 {
            let (limit, o) = newest.addingReportingOverflow(maxLead)
            if !o && wall > limit {
                clamped = limit
                return .distrusted(now: wall, clamped: clamped, reason:
                    "the wall clock is \(describeMicros(wall - newest)) ahead of the newest stored row (more than the allowed \(describeMicros(maxLead))); set the clock (NTP) or raise --max-clock-lead")
            }
        }
        if let l = last {
            let wallStep = wall &- l.wall
            let monoStep = Int64(clamping: (mono &- l.mono) / 1000)
            if abs(wallStep &- monoStep) > jumpTolerance {
                distrustUntil = mono &+ settleAfterJump
                lastJump = wallStep &- monoStep
            }
        }
        if let until = distrustUntil {
            if mono < until {
                return .distrusted(now: wall, clamped: min(wall, clamped), reason:
                    "the wall clock jumped by \(lastJump < 0 ? "-" : "+")\(describeMicros(abs(lastJump))); waiting \(describeMicros(Int64(settleAfterJump / 1000))) of steady time before trusting it")
            }
            distrustUntil = nil
        }
        return .trusted(now: wall)
    }
}

extension Manifest {
    /// The newest row time any live segment holds (nil for an empty store).
    public var newestTime: Int64? { segments.filter { $0.rowCount > 0 }.map(\.maxTime).max() }
}

func describeMicros(_ m: Int64) -> String {
    let units: [(Int64, String)] = [(86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m"), (1_000_000, "s")]
    for (u, s) in units where m >= u {
        let v = Double(m) / Double(u)
        return v >= 10 ? "\(Int(v))\(s)" : "\((v * 10).rounded() / 10)\(s)"
    }
    return "\(m)µs"
}

/// CLOCK_REALTIME, µs since the Unix epoch.
public func systemWallMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// CLOCK_MONOTONIC, ns.
public func systemMonotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Sleeps `nanos` ns of real time (resumed after a signal).
public func systemSleep(nanos: UInt64) {
    var req = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
    var rem = timespec()
    while nanosleep(&req, &rem) != 0 && errno == EINTR { req = rem }
}
