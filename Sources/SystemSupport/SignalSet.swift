#if canImport(Glibc)
import Glibc
#endif

/// Blocks a set of signals and delivers them as readable bytes on `fileDescriptor`.
///
/// The signals are blocked on the calling thread, which must be the main thread before any
/// other thread starts, so every thread inherits the mask. A dedicated thread waits for
/// them with `sigwait(3)` and writes each number to a pipe the event loop polls. No code
/// runs in a signal handler, so nothing async-signal-unsafe can happen. (Glibc does not
/// expose `signalfd(2)` to Swift; this is its portable equivalent.)
public final class SignalSet: @unchecked Sendable {
    /// The read end of the pipe; readable when a signal arrived.
    public let fileDescriptor: Int32
    private let writeEnd: Int32

    public init(_ signals: [Int32]) throws(SystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        let rc = pthread_sigmask(SIG_BLOCK, &set, nil)
        if rc != 0 { throw SystemError(call: "pthread_sigmask", errno: rc) }
        var fds: [Int32] = [0, 0]
        _ = try retryingEINTR("pipe") { pipe(&fds) }
        fileDescriptor = fds[0]
        writeEnd = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fileDescriptor, F_SETFL, fcntl(fileDescriptor, F_GETFL) | O_NONBLOCK)
        let context = Unmanaged.passRetained(WaiterContext(set: set, writeEnd: writeEnd))
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<WaiterContext>.fromOpaque(raw!).takeRetainedValue()
            var set = context.set
            while true {
                var signal: Int32 = 0
                guard sigwait(&set, &signal) == 0 else { continue }
                var value = signal
                _ = withUnsafeBytes(of: &value) { write(context.writeEnd, $0.baseAddress, 4) }
            }
        }, context.toOpaque())
        if created != 0 {
            context.release()
            throw SystemError(call: "pthread_create", target: "signal waiter", errno: created)
        }
        pthread_detach(thread)
    }

    /// Returns the signals received since the last call (non-blocking).
    public func readSignals() -> [Int32] {
        var result: [Int32] = []
        var value: Int32 = 0
        while true {
            let n = withUnsafeMutableBytes(of: &value) { read(fileDescriptor, $0.baseAddress, 4) }
            if n == 4 {
                result.append(value)
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return result
        }
    }
}

private final class WaiterContext {
    let set: sigset_t
    let writeEnd: Int32
    init(set: sigset_t, writeEnd: Int32) {
        self.set = set
        self.writeEnd = writeEnd
    }
}
