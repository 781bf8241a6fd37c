/// Everything the store, ingest and the daemon ask of the outside world (LevelDB's `Env`):
/// files and locks (`StoreFileSystem`), the clocks and sleeping (`StoreClock`). Every layer
/// takes it from `StoreOptions.environment` (a writer's `environment`), so a test can run a
/// whole commit, compaction, retention round or daemon pass on a faulty disk
/// (TachoFaults' `FaultInjectingFileSystem`) and a manual clock. Threads are started with
/// `spawnThread` (WorkerThread.swift).
public struct StoreEnvironment: Sendable {
    public var files: any StoreFileSystem
    public var clock: StoreClock

    public init(files: any StoreFileSystem = PosixFileSystem(), clock: StoreClock = .system) {
        self.files = files
        self.clock = clock
    }

    /// The real file system and clocks: what a release binary runs on.
    public static let system = StoreEnvironment()
}
