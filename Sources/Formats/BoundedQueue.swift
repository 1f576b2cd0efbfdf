#if canImport(Glibc)
import Glibc
#endif

/// A bounded FIFO handing values from one thread to another (pthread mutex + condition).
///
/// Readers use it to overlap stages (scan ‖ convert) on a second core. The bounds keep
/// memory flat whatever the input size: `put` waits while the queue holds `capacity`
/// elements or, when it holds any, `maxCost` (e.g. source bytes) worth of them. `close()` ends it from either side: a producer's `put` then returns false
/// (the consumer is gone, stop working), a consumer's `take` drains what is left, then nil.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked: `items` and `closed` are only touched with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [(element: Element, cost: Int)] = []
    private var queuedCost = 0
    private var closed = false
    let capacity: Int
    let maxCost: Int

    init(capacity: Int, maxCost: Int = .max) {
        self.capacity = max(1, capacity)
        self.maxCost = maxCost
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Appends `element`, waiting while the queue is full; false when the queue was closed.
    func put(_ element: Element, cost: Int = 0) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !closed, items.count >= capacity || (!items.isEmpty && queuedCost >= maxCost) {
            pthread_cond_wait(changed, mutex)
        }
        if closed { return false }
        items.append((element, cost))
        queuedCost += cost
        pthread_cond_broadcast(changed)
        return true
    }

    /// The oldest element, waiting while the queue is empty; nil once closed and drained.
    func take() -> Element? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while items.isEmpty && !closed { pthread_cond_wait(changed, mutex) }
        guard !items.isEmpty else { return nil }
        // Remove (not just step over) the element: a producer that keeps the queue from ever
        // running empty must not make `items` grow and keep every taken element alive.
        // Shifting at most `capacity` elements is cheap.
        let (element, cost) = items.removeFirst()
        queuedCost -= cost
        pthread_cond_broadcast(changed)
        return element
    }

    /// Wakes and ends both sides (see the type's summary).
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}

/// Starts and joins plain POSIX threads (pthread_create(3), pthread_join(3)).
enum WorkerThread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Runs `body` on a new thread; nil when the system refuses one (the caller falls back).
    static func start(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            Unmanaged<Body>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return nil
        }
        return thread
    }

    static func join(_ thread: pthread_t) {
        pthread_join(thread, nil)
    }
}
