import Dispatch
import Synchronization
import TachoJSON
import TachoStore
#if canImport(Glibc)
import Glibc
#endif

extension TelemetryReader {
    /// Reads the file at `path` on another thread while `sink` takes its batches on this one,
    /// so parsing overlaps whatever `sink` does (appending, sealing segments, fsync). At most
    /// `depth` batches wait between the two, which bounds memory. Errors are `read(path:sink:)`'s;
    /// when `sink` throws, parsing stops and that error is rethrown. Returns after the parser
    /// thread has finished.
    public func readStreaming(path: String, depth: Int = 8, sink: (RowBatch) throws -> Void) throws -> FileReport {
        let channel = BatchChannel(capacity: max(1, depth))
        // Smaller batches than a whole-file parse uses: the queue's memory is what it costs.
        var options = self.options
        options.batchRows = min(options.batchRows, 16_384)
        let reader = TelemetryReader(options: options)
        spawnThread {
            let result: Result<FileReport, any Error>
            do {
                result = .success(try reader.read(path: path, readAhead: true, recycled: channel.takeReturned) { batch in
                    if channel.isCancelled { throw BatchChannel.Cancelled() }
                    channel.put(.batch(batch))
                })
            } catch {
                result = .failure(error)
            }
            channel.put(.done(result))
        }
        var sinkError: (any Error)?
        while true {
            switch channel.take() {
            case .batch(let batch):
                guard sinkError == nil else { continue }  // drain until the parser stops
                do {
                    try sink(batch)
                    channel.giveBack(batch)
                } catch {
                    sinkError = error
                    channel.cancel()
                }
            case .done(let result):
                if let sinkError { throw sinkError }
                return try result.get()
            }
        }
    }
}

/// A bounded single-producer, single-consumer hand-off of row batches between threads.
final class BatchChannel: Sendable {
    enum Item: Sendable {
        case batch(RowBatch)
        case done(Result<FileReport, any Error>)
    }

    struct Cancelled: Error {}

    private let items = Mutex<[Item]>([])
    /// Batches the consumer is done with, for the producer to refill (no new allocations).
    private let returned = Mutex<[RowBatch]>([])
    private let filled = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore
    private let cancelled = Atomic<Bool>(false)

    init(capacity: Int) { free = countingSemaphore(capacity) }

    /// Blocks while `capacity` items wait.
    func put(_ item: Item) {
        free.wait()
        items.withLock { $0.append(item) }
        filled.signal()
    }

    /// Blocks until an item is there.
    func take() -> Item {
        filled.wait()
        let item = items.withLock { $0.removeFirst() }
        free.signal()
        return item
    }

    /// Hands a consumed batch back (at most two are kept).
    func giveBack(_ batch: RowBatch) {
        returned.withLock { if $0.count < 2 { $0.append(batch) } }
    }

    @Sendable func takeReturned() -> RowBatch? { returned.withLock { $0.popLast() } }

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
}

/// Reads and hashes a file on a helper thread, a few chunks ahead of the parser, which only
/// copies each chunk into its buffer. The helper stops at the end of the file, on a read
/// error, or when `close()` is called; `close()` waits for it.
final class ReadAheadSource: HashingByteSource {
    private let ring: ReadAheadRing
    private var current = 0
    /// Bytes of the current slot not yet handed out; nil when the slot is not taken yet.
    private var offset = 0
    private var length: Int?
    private var finished = false

    init(_ file: FileDescriptorSource, hashing algorithm: ContentHashAlgorithm, slots: Int = 4, chunk: Int = 256 << 10) {
        ring = ReadAheadRing(file: file, hasher: ContentHasher(algorithm), slots: slots, chunk: chunk)
        let ring = self.ring
        spawnThread { ring.produce() }
    }

    var hasher: ContentHasher { ring.hasher }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if finished { return 0 }
        if length == nil {
            ring.filled.wait()
            let n = ring.lengths[current]
            if n < 0 {
                finished = true
                throw ByteSourceError(operation: "read", path: ring.file.path, errno: Int32(-n))
            }
            length = n
            offset = 0
        }
        let n = length ?? 0
        if n == 0 {
            finished = true
            return 0
        }
        guard let dst = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let k = min(buffer.count, n - offset)
        dst.copyMemory(from: ring.slot(current) + offset, byteCount: k)
        offset += k
        if offset == n {
            self.length = nil
            current = (current + 1) % ring.slots
            ring.free.signal()
        }
        return k
    }

    func close() { ring.stop() }
}

/// The chunks shared by a `ReadAheadSource` and its helper thread. `lengths[i]` and slot i's
/// bytes are written by the helper before it signals `filled` and read by the parser after
/// waiting on it (and the reverse with `free`); `hasher` is final once the parser has seen
/// the end of the file (the helper hashes a chunk before handing it over). Hence unchecked.
final class ReadAheadRing: @unchecked Sendable {
    let file: FileDescriptorSource
    let slots: Int
    let chunk: Int
    private let memory: UnsafeMutableRawPointer
    /// Bytes in each slot; 0 = end of file; -errno = read error. Raw memory, not an Array:
    /// the two threads touch different elements, and an Array's copy-on-write check is not
    /// safe against a concurrent reader.
    let lengths: UnsafeMutablePointer<Int>
    var hasher: ContentHasher
    let filled = DispatchSemaphore(value: 0)
    let free: DispatchSemaphore
    private let done = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    init(file: FileDescriptorSource, hasher: ContentHasher, slots: Int, chunk: Int) {
        self.file = file
        self.hasher = hasher
        self.slots = slots
        self.chunk = chunk
        memory = .allocate(byteCount: slots * chunk, alignment: 64)
        lengths = .allocate(capacity: slots)
        lengths.initialize(repeating: 0, count: slots)
        free = countingSemaphore(slots)
    }

    deinit {
        memory.deallocate()
        lengths.deallocate()
    }

    func slot(_ i: Int) -> UnsafeMutableRawPointer { memory + i * chunk }

    /// The helper thread's loop.
    func produce() {
        var i = 0
        while true {
            free.wait()
            if stopping.load(ordering: .relaxed) { break }
            let n: Int
            do {
                n = try file.read(into: UnsafeMutableRawBufferPointer(start: slot(i), count: chunk))
            } catch let e as ByteSourceError {
                lengths[i] = -Int(e.errno)
                filled.signal()
                break
            } catch {
                lengths[i] = -Int(EIO)
                filled.signal()
                break
            }
            hasher.update(UnsafeRawBufferPointer(start: slot(i), count: n))
            lengths[i] = n
            filled.signal()
            if n == 0 { break }
            i = (i + 1) % slots
        }
        done.signal()
    }

    /// Stops the helper (if still running) and waits for it. Idempotent.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        stopping.store(true, ordering: .relaxed)
        free.signal()  // in case it waits for a slot
        done.wait()
    }
}

/// A semaphore holding `n` permits. Created at 0 and signalled: libdispatch traps when a
/// semaphore is released with fewer permits than it was created with, which happens here
/// whenever a reader stops early.
func countingSemaphore(_ n: Int) -> DispatchSemaphore {
    let s = DispatchSemaphore(value: 0)
    for _ in 0..<n { s.signal() }
    return s
}
