import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a new, detached OS thread.
///
/// For work that blocks for long stretches (waiting on semaphores for the writer, reading a
/// file ahead of its parser, a rate-limited compaction sleeping between writes): on
/// libdispatch's global queues it would hold one of the few
/// pool threads (about one per core), and work queued behind it waits until the pool notices
/// and grows — about a second each time on a 2-core box. A dedicated thread costs one
/// `pthread_create`.
public func spawnThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        guard let raw else { return nil }
        let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
        box.body()
        return nil
    }, context)
    guard rc == 0 else {
        // No thread to be had (resource limits): run it on the pool rather than not at all.
        let box = Unmanaged<Box>.fromOpaque(context).takeRetainedValue()
        DispatchQueue.global(qos: .userInitiated).async { box.body() }
        return
    }
    pthread_detach(thread)
}
