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
        let nice = callerPriority()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            adopt(nice)
            var s = makeState()
            while true {
                let i = next.take()
                guard i < count else { return }
                slots.set(i, body(&s, i))
            }
        }
        return slots.values()
    }

    /// A thread's scheduling: its nice value and whether it runs under `SCHED_IDLE`.
    struct Priority: Sendable {
        var nice: Int32
        var idle: Bool
    }

    /// `SCHED_IDLE` (sched(7)).
    static let idlePolicy: Int32 = 5

    /// The calling thread's nice value (`getpriority(2)`; Linux keeps one per thread).
    static func callerNice() -> Int32 {
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : 0
    }

    /// The calling thread's nice value and policy (`sched_getscheduler(2)`).
    static func callerPriority() -> Priority {
        Priority(nice: callerNice(), idle: sched_getscheduler(0) == idlePolicy)
    }

    /// Makes a pooled worker thread at least as nice as the thread that handed it work, and
    /// `SCHED_IDLE` when that one is, so a publish the daemon runs in the background stays there
    /// on every core it uses.
    static func adopt(_ priority: Priority) {
        if priority.nice > 0, callerNice() < priority.nice {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, priority.nice)
        }
        if priority.idle, sched_getscheduler(0) != idlePolicy {
            var parameters = sched_param(sched_priority: 0)
            _ = sched_setscheduler(0, idlePolicy, &parameters)
        }
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

extension Parallel {
    /// Runs `produce` on the calling thread and `consume` on another, handing items over
    /// through a queue of at most `depth`: two stages of a stream on two cores (the source
    /// reader and the record builder). The first error of either side stops both and is
    /// rethrown here; `consume` has finished when this returns.
    static func pipeline<T: Sendable>(depth: Int = 2, produce: (_ send: (T) throws -> Void) throws -> Void, consume: @escaping @Sendable (T) throws -> Void) throws {
        let handoff = Handoff<T>(depth: depth)
        let done = DispatchSemaphore(value: 0)
        let nice = callerPriority()
        DispatchQueue.global().async {
            adopt(nice)
            while let item = handoff.take() {
                do { try consume(item) } catch {
                    handoff.fail(error)
                    break
                }
            }
            done.signal()
        }
        do {
            try produce { try handoff.put($0) }
        } catch {
            handoff.fail(error)
        }
        handoff.close()
        done.wait()
        if let e = handoff.error { throw e }
    }

    /// A bounded queue between one producer and one consumer.
    private final class Handoff<T>: @unchecked Sendable {
        private var items: [T] = []
        private var closed = false
        private(set) var error: (any Error)?
        private let depth: Int
        private var mutex = pthread_mutex_t()
        private var changed = pthread_cond_t()

        init(depth: Int) {
            self.depth = max(1, depth)
            pthread_mutex_init(&mutex, nil)
            pthread_cond_init(&changed, nil)
        }

        deinit {
            pthread_cond_destroy(&changed)
            pthread_mutex_destroy(&mutex)
        }

        /// Waits for room; throws the consumer's error instead once it failed.
        func put(_ item: T) throws {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            while items.count >= depth && error == nil { pthread_cond_wait(&changed, &mutex) }
            if let error { throw error }
            items.append(item)
            pthread_cond_broadcast(&changed)
        }

        /// The next item, or nil once closed and drained (or failed).
        func take() -> T? {
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            while items.isEmpty && !closed && error == nil { pthread_cond_wait(&changed, &mutex) }
            guard error == nil, !items.isEmpty else { return nil }
            pthread_cond_broadcast(&changed)
            return items.removeFirst()
        }

        func close() {
            pthread_mutex_lock(&mutex)
            closed = true
            pthread_cond_broadcast(&changed)
            pthread_mutex_unlock(&mutex)
        }

        func fail(_ e: any Error) {
            pthread_mutex_lock(&mutex)
            if error == nil { error = e }
            pthread_cond_broadcast(&changed)
            pthread_mutex_unlock(&mutex)
        }
    }
}
