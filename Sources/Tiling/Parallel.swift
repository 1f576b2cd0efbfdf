import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Runs independent jobs on all cores and returns their results in job order.
///
/// Each job writes only its own slot, so no locking is needed; results keep the input order,
/// which keeps the tiler's output deterministic whatever the scheduling.
enum Parallel {
    static var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    static func map<T: Sendable>(_ count: Int, threads: Int, _ body: @Sendable (Int) -> T) -> [T] {
        map(count, threads: threads, state: { () }, { (_: inout Void, i: Int) in body(i) })
    }

    /// Like `map`, with per-worker scratch state (e.g. a reusable compressor) made by `state`.
    static func map<T: Sendable, S>(_ count: Int, threads: Int, state makeState: @Sendable () -> S, _ body: @Sendable (inout S, Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        if threads <= 1 || count == 1 {
            var s = makeState()
            return (0..<count).map { body(&s, $0) }
        }
        let slots = Slots<T>(count)
        let workers = min(threads, count)
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var s = makeState()
            while true {
                let i = next.take()
                guard i < count else { return }
                slots.set(i, body(&s, i))
            }
        }
        return slots.values()
    }

    /// Result slots written at distinct indices by different threads.
    private final class Slots<T>: @unchecked Sendable {
        private let buffer: UnsafeMutableBufferPointer<T?>
        init(_ n: Int) {
            buffer = .allocate(capacity: n)
            buffer.initialize(repeating: nil)
        }
        deinit {
            buffer.deinitialize()
            buffer.deallocate()
        }
        func set(_ i: Int, _ v: T) { buffer[i] = v }
        func values() -> [T] { buffer.map { $0! } }
    }

    /// A shared job counter (a mutex-protected integer).
    private final class Counter: @unchecked Sendable {
        private var mutex = pthread_mutex_t()
        private var value = 0
        init() { pthread_mutex_init(&mutex, nil) }
        deinit { pthread_mutex_destroy(&mutex) }
        func take() -> Int {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            value += 1
            return value - 1
        }
    }
}
