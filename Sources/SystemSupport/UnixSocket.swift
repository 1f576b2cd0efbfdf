#if canImport(Glibc)
import Glibc
#endif

/// A stream socket in the AF_UNIX domain: the status server's listener, its clients, and
/// the `tiledrop status` client.
///
/// Sendable so a connection can be handed from the accepting thread to a worker; it is then
/// used by that one worker only.
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

    /// Binds and listens on `path` (replacing a stale socket file) and sets its mode.
    public static func listen(path: String, mode: mode_t = 0o660, backlog: Int32 = 64) throws(SystemError) -> UnixSocket {
        let fd = try retryingEINTR("socket", path) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0) }
        let s = UnixSocket(fileDescriptor: fd)
        var addr = try address(path)
        unlink(path)
        _ = try withSockaddr(&addr) { sa, len throws(SystemError) in try retryingEINTR("bind", path) { bind(fd, sa, len) } }
        _ = try retryingEINTR("chmod", path) { chmod(path, mode) }
        _ = try retryingEINTR("listen", path) { Glibc.listen(fd, backlog) }
        return s
    }

    /// Connects to the socket at `path` (blocking), with send/receive timeouts.
    public static func connect(path: String, timeoutSeconds: Int = 10) throws(SystemError) -> UnixSocket {
        let fd = try retryingEINTR("socket", path) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let s = UnixSocket(fileDescriptor: fd)
        var addr = try address(path)
        _ = try withSockaddr(&addr) { sa, len throws(SystemError) in try retryingEINTR("connect", path) { Glibc.connect(fd, sa, len) } }
        s.setTimeouts(seconds: timeoutSeconds)
        return s
    }

    /// Accepts one pending connection, or nil when none is waiting. The client socket blocks,
    /// with timeouts so one slow client cannot hold a worker forever.
    public func accept(timeoutSeconds: Int = 5) throws(SystemError) -> UnixSocket? {
        while true {
            let fd = Glibc.accept(fileDescriptor, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
                let c = UnixSocket(fileDescriptor: fd)
                c.setTimeouts(seconds: timeoutSeconds)
                return c
            }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK || e == ECONNABORTED { return nil }
            throw SystemError(call: "accept", errno: e)
        }
    }

    /// The peer's credentials (`SO_PEERCRED`): pid, uid, gid.
    public func peerCredentials() throws(SystemError) -> (pid: pid_t, uid: uid_t, gid: gid_t) {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (socket(7)); Glibc hides the type.
        var cred: (Int32, UInt32, UInt32) = (0, 0, 0)
        var len = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        _ = try retryingEINTR("getsockopt", "SO_PEERCRED") { getsockopt(fileDescriptor, SOL_SOCKET, SO_PEERCRED, &cred, &len) }
        return (cred.0, cred.1, cred.2)
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

    private static func address(_ path: String) throws(SystemError) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError(call: "bind", target: path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return addr
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
