#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// What a descriptor registered with `Epoll` is watched for, and what it reported.
public struct EpollEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `EPOLLIN`: readable (or a listener with a pending connection).
    public static let readable = EpollEvents(rawValue: EPOLLIN.rawValue)
    /// `EPOLLOUT`: writable again.
    public static let writable = EpollEvents(rawValue: EPOLLOUT.rawValue)
    /// `EPOLLRDHUP`: the peer shut down its writing side.
    public static let peerClosed = EpollEvents(rawValue: EPOLLRDHUP.rawValue)
    /// `EPOLLHUP`: hung up (always reported).
    public static let hangup = EpollEvents(rawValue: EPOLLHUP.rawValue)
    /// `EPOLLERR`: error condition (always reported).
    public static let error = EpollEvents(rawValue: EPOLLERR.rawValue)
    /// `EPOLLET`: edge-triggered — reported once per change, not while the condition lasts.
    public static let edgeTriggered = EpollEvents(rawValue: EPOLLET.rawValue)
}

/// An `epoll(7)` instance: waits on many descriptors at once, each tagged with a 64-bit token.
///
/// Owned by one event-loop thread; `add`/`modify`/`remove` wrap `epoll_ctl`, `wait` wraps
/// `epoll_wait` and returns early (with no events) on `EINTR`.
public final class Epoll {
    public let fileDescriptor: Int32
    private var buffer: [epoll_event]

    /// `epoll_create1(EPOLL_CLOEXEC)`; `capacity` is the most events one `wait` returns.
    public init(capacity: Int = 256) throws(SystemError) {
        fileDescriptor = try retryingEINTR("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        buffer = [epoll_event](repeating: epoll_event(), count: max(1, capacity))
    }

    deinit { _ = close(fileDescriptor) }

    /// `epoll_ctl(EPOLL_CTL_ADD)`.
    public func add(_ fd: Int32, events: EpollEvents, token: UInt64) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd, events, token)
    }

    /// `epoll_ctl(EPOLL_CTL_MOD)`.
    public func modify(_ fd: Int32, events: EpollEvents, token: UInt64) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd, events, token)
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`; a descriptor that is not registered is not an error.
    public func remove(_ fd: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fileDescriptor, EPOLL_CTL_DEL, fd, &event)
    }

    /// `epoll_wait` for at most `timeout` seconds; returns (token, events) pairs.
    public func wait(timeout: Double) throws(SystemError) -> [(token: UInt64, events: EpollEvents)] {
        let ms = Int32(max(0, min(timeout, 3600)) * 1000)
        let n = buffer.withUnsafeMutableBufferPointer { epoll_wait(fileDescriptor, $0.baseAddress, Int32($0.count), ms) }
        if n < 0 {
            if errno == EINTR { return [] }
            throw SystemError(call: "epoll_wait", errno: errno)
        }
        var result: [(token: UInt64, events: EpollEvents)] = []
        result.reserveCapacity(Int(n))
        for i in 0..<Int(n) { result.append((buffer[i].data.u64, EpollEvents(rawValue: buffer[i].events))) }
        return result
    }

    private func control(_ op: Int32, _ fd: Int32, _ events: EpollEvents, _ token: UInt64) throws(SystemError) {
        var event = epoll_event(events: events.rawValue, data: epoll_data_t(u64: token))
        _ = try retryingEINTR("epoll_ctl", "fd \(fd)") { epoll_ctl(fileDescriptor, op, fd, &event) }
    }
}

/// An `eventfd(2)` counter: another thread calls `signal()` to wake an `Epoll` waiter.
public final class EventNotifier: @unchecked Sendable {
    public let fileDescriptor: Int32

    public init() throws(SystemError) {
        fileDescriptor = try retryingEINTR("eventfd") { eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK)) }
    }

    deinit { _ = close(fileDescriptor) }

    /// Adds one to the counter (the descriptor becomes readable).
    public func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(fileDescriptor, $0.baseAddress, 8) }
    }

    /// Resets the counter.
    public func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { read(fileDescriptor, $0.baseAddress, 8) }
    }
}
