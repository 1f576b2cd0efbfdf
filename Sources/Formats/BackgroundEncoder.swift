#if canImport(Glibc)
import Glibc
#endif
import GeoModel
import SystemSupport

/// Encodes batches of features as GeoJSONSeq lines and writes them, on its own thread.
///
/// Converting is read → decode → encode → write; on a machine with a spare core the
/// encoding and write(2) half can run beside the reader. `GeoJSONSeqWriter` hands over
/// batches (`submit`), which block when `maxQueued` batches are already waiting, so memory
/// stays bounded whatever the input size. `flush()` is a barrier: it returns once every
/// submitted feature is written. The first write error is kept and reported to the caller
/// on its next `submit`/`flush`; later batches are then dropped.
final class BackgroundEncoder: @unchecked Sendable {
    // @unchecked: every mutable member below is guarded by `mutex` (or owned by the thread).
    private enum Item {
        case features([Feature])
        case flush
        case stop
    }

    private let fd: Int32
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var queue: [Item] = []
    private var flushesRequested = 0
    private var flushesDone = 0
    private var failure: Int32 = 0
    private var written = 0
    private var thread = pthread_t()
    private var running = false
    private let maxQueued = 2
    private let flushThreshold = 1 << 20

    /// Starts the thread, writing to `fd` (which the caller keeps open until `stop()`).
    /// The thread keeps the encoder alive until `stop()`, which owners must call.
    init?(fd: Int32) {
        self.fd = fd
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        guard let thread = WorkerThread.start({ self.run() }) else { return nil }
        self.thread = thread
        running = true
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Bytes written to the descriptor so far.
    var bytesWritten: Int { locked { written } }

    /// Queues a batch (waiting while the queue is full); returns the first write error, if any.
    func submit(_ batch: [Feature]) -> Int32 {
        locked {
            while queue.count >= maxQueued && failure == 0 { pthread_cond_wait(changed, mutex) }
            if failure == 0 {
                queue.append(.features(batch))
                pthread_cond_broadcast(changed)
            }
            return failure
        }
    }

    /// Waits until everything submitted is written; returns the first write error, if any.
    func flush() -> Int32 {
        locked {
            flushesRequested += 1
            let ticket = flushesRequested
            queue.append(.flush)
            pthread_cond_broadcast(changed)
            while flushesDone < ticket && failure == 0 { pthread_cond_wait(changed, mutex) }
            return failure
        }
    }

    /// Ends the thread after what is queued and waits for it.
    func stop() {
        guard running else { return }
        running = false
        locked {
            queue.append(.stop)
            pthread_cond_broadcast(changed)
        }
        WorkerThread.join(thread)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// The thread: encode batches into a buffer, write it out when it passes the threshold.
    private func run() {
        var writer = JSONWriter(capacity: flushThreshold + (64 << 10))
        while true {
            let item: Item = locked {
                while queue.isEmpty { pthread_cond_wait(changed, mutex) }
                let first = queue.removeFirst()
                pthread_cond_broadcast(changed)  // room in the queue
                return first
            }
            switch item {
            case .features(let batch):
                for f in batch {
                    GeoJSONCoding.encode(f, into: &writer)
                    writer.bytes.append(0x0A)
                    if writer.bytes.count >= flushThreshold { writeOut(&writer) }
                }
            case .flush:
                writeOut(&writer)
                locked {
                    flushesDone += 1
                    pthread_cond_broadcast(changed)
                }
            case .stop:
                writeOut(&writer)
                return
            }
        }
    }

    private func writeOut(_ writer: inout JSONWriter) {
        guard !writer.bytes.isEmpty else { return }
        let error = locked { failure }
        let result = error != 0 ? error : Self.writeAll(fd, writer.bytes)
        let count = writer.bytes.count
        writer.bytes.removeAll(keepingCapacity: true)
        locked {
            if result == 0 { written += count } else if failure == 0 { failure = result }
            pthread_cond_broadcast(changed)
        }
    }

    /// `FileSystem.writeAll`, as an errno (0 when all of `bytes` is out).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        do {
            try FileSystem.writeAll(fd, bytes, target: "")
            return 0
        } catch {
            return error.errno
        }
    }
}
