#if canImport(Glibc)
import Glibc
#endif

/// Waits on several descriptors at once with `poll(2)`.
public struct Poller {
    public init() {}

    /// Returns the descriptors among `fds` that are readable (or hung up) within `timeout`
    /// seconds; an empty result means the timeout passed. EINTR returns early with [].
    public func waitReadable(_ fds: [Int32], timeout: Double) throws(SystemError) -> Set<Int32> {
        var pollfds = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ms = Int32(max(0, min(timeout, 3600)) * 1000)
        let n = poll(&pollfds, nfds_t(pollfds.count), ms)
        if n < 0 {
            if errno == EINTR { return [] }
            throw SystemError(call: "poll", errno: errno)
        }
        return Set(pollfds.filter { $0.revents != 0 }.map(\.fd))
    }
}

/// Seconds on CLOCK_MONOTONIC: immune to wall-clock jumps, used for settle periods and timeouts.
public struct MonotonicClock: Sendable {
    public init() {}

    public func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
