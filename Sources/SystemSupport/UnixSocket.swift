#if canImport(Glibc)
import Glibc
#endif
// With --static-swift-stdlib the socket constants come from <sys/socket.h> through CLinux.
import CLinux

/// A blocking client stream socket in the AF_UNIX domain: the `tiledrop status` client.
/// (The server side is `ListeningSocket` with the non-blocking calls in `SocketIO`.)
public final class UnixSocket: @unchecked Sendable {
    public let fileDescriptor: Int32
    private var closed = false

    init(fileDescriptor: Int32) { self.fileDescriptor = fileDescriptor }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fileDescriptor)
    }

    /// Connects to the socket at `path` (blocking), with send/receive timeouts.
    public static func connect(path: String, timeoutSeconds: Int = 10) throws(SystemError) -> UnixSocket {
        let fd = try retryingEINTR("socket", path) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let s = UnixSocket(fileDescriptor: fd)
        var addr = try SocketAddress.unix(path)
        _ = try withSockaddr(&addr) { sa, len throws(SystemError) in try retryingEINTR("connect", path) { Glibc.connect(fd, sa, len) } }
        s.setTimeouts(seconds: timeoutSeconds)
        return s
    }

    /// The peer's credentials (`SO_PEERCRED`): pid, uid, gid.
    public func peerCredentials() throws(SystemError) -> (pid: pid_t, uid: uid_t, gid: gid_t) {
        guard let cred = SocketIO.peerCredentials(fileDescriptor) else { throw SystemError(call: "getsockopt", target: "SO_PEERCRED", errno: errno) }
        return cred
    }

    /// Reads up to `maxBytes`; returns [] at end of stream.
    public func receive(maxBytes: Int = 16 * 1024) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let n = buffer.withUnsafeMutableBytes { raw in recv(fileDescriptor, raw.baseAddress, raw.count, 0) }
            if n >= 0 { return Array(buffer.prefix(n)) }
            if errno == EINTR { continue }
            throw SystemError(call: "recv", errno: errno)
        }
    }

    /// Writes all of `bytes`.
    public func sendAll(_ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in send(fileDescriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError(call: "send", errno: errno)
            }
            offset += n
        }
    }

    private func setTimeouts(seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fileDescriptor, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    private static func withSockaddr<T>(_ addr: inout sockaddr_un, _ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> T) throws(SystemError) -> T {
        let len = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result: Result<T, SystemError> = withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                do throws(SystemError) { return .success(try body(sa, len)) } catch { return .failure(error) }
            }
        }
        return try result.get()
    }
}
