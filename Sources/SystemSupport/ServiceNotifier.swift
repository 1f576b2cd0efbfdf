#if canImport(Glibc)
import Glibc
#endif
// With --static-swift-stdlib the socket constants come from <sys/socket.h> through CLinux.
import CLinux

/// Our own sd_notify(3): sends state strings to systemd over `$NOTIFY_SOCKET`.
///
/// The protocol is one datagram per message on an AF_UNIX socket (a leading `@` means the
/// abstract namespace). Without `NOTIFY_SOCKET` (not under systemd) every call is a no-op.
public final class ServiceNotifier: @unchecked Sendable {
    private let socketPath: String?
    /// The watchdog interval systemd asked for (`WATCHDOG_USEC`), if any, in seconds.
    public let watchdogInterval: Double?

    public init(environment: [String: String]) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init),
           environment["WATCHDOG_PID"].map({ $0 == String(getpid()) }) ?? true {
            watchdogInterval = Double(usec) / 1_000_000
        } else {
            watchdogInterval = nil
        }
    }

    public var isActive: Bool { socketPath != nil }

    /// Sends `message` (e.g. "READY=1\nSTATUS=…"). Errors are returned, not thrown: a lost
    /// notification must never stop the daemon.
    @discardableResult
    public func notify(_ message: String) -> SystemError? {
        guard let path = socketPath else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return SystemError(call: "socket", target: "NOTIFY_SOCKET", errno: errno) }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(path.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard pathBytes.count < capacity else { return SystemError(call: "sendto", target: path, errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in pathBytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent < 0 ? SystemError(call: "sendto", target: path, errno: errno) : nil
    }

    /// The value of CLOCK_MONOTONIC in microseconds, for `MONOTONIC_USEC=` on reload.
    public static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
