#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// What a non-blocking read or write on a socket did.
public enum IOProgress: Equatable, Sendable {
    /// This many bytes moved (never 0).
    case bytes(Int)
    /// The call would block (`EAGAIN`): wait for the next epoll event.
    case wouldBlock
    /// The peer closed its side (a read returned 0).
    case endOfStream
}

/// Non-blocking socket calls for an event loop, each retrying `EINTR` and throwing
/// `SystemError` on anything else (`ECONNRESET`, `EPIPE`, …).
public enum SocketIO {
    /// `recv(2)` into `buffer`.
    public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOProgress {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfStream }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(call: "recv", errno: e)
        }
    }

    /// `send(2)` with `MSG_NOSIGNAL` (a closed peer is an error, not SIGPIPE).
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOProgress {
        guard bytes.count > 0 else { return .bytes(0) }
        while true {
            let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .bytes(n) }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(call: "send", errno: e)
        }
    }

    /// `sendfile(2)`: up to `count` bytes of `file` from `offset` (advanced) to the socket.
    public static func sendFile(_ socket: Int32, file: Int32, offset: inout Int64, count: Int) throws(SystemError) -> IOProgress {
        while true {
            var off = off_t(offset)
            let n = sendfile(socket, file, &off, min(count, 1 << 30))
            if n > 0 {
                offset = Int64(off)
                return .bytes(n)
            }
            if n == 0 { return .endOfStream }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            throw SystemError(call: "sendfile", errno: e)
        }
    }

    /// `setsockopt(TCP_NODELAY)`: responses go out at once instead of waiting for Nagle.
    public static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), 1 /* TCP_NODELAY, netinet/tcp.h */, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// `getsockopt(SO_PEERCRED)` on a Unix socket: the peer's pid, uid and gid; nil on TCP.
    public static func peerCredentials(_ fd: Int32) -> (pid: pid_t, uid: uid_t, gid: gid_t)? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (socket(7)); Glibc hides the type.
        var cred: (Int32, UInt32, UInt32) = (0, 0, 0)
        var len = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 else { return nil }
        return (cred.0, cred.1, cred.2)
    }

    /// `getpeername(2)` as `host:port` (TCP) or `unix` (Unix socket).
    public static func peerAddress(_ fd: Int32) -> String {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { getpeername(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &len) }
        guard rc == 0 else { return "unknown" }
        let d = SocketAddress.describe(storage)
        return d.port.map { d.host.contains(":") ? "[\(d.host)]:\($0)" : "\(d.host):\($0)" } ?? d.host
    }

    /// `getrlimit(RLIMIT_NOFILE)`: the soft limit on open descriptors.
    public static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur > UInt(1 << 20) ? 1 << 20 : Int(limit.rlim_cur)
    }
}

/// Socket address helpers (`sockaddr_un`, `sockaddr_in`, `sockaddr_in6`).
enum SocketAddress {
    static func unix(_ path: String) throws(SystemError) -> sockaddr_un {
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

    /// The numeric host and port of an address (`inet_ntop`); port nil for Unix sockets.
    static func describe(_ storage: sockaddr_storage) -> (host: String, port: UInt16?) {
        var copy = storage
        return withUnsafeBytes(of: &copy) { raw -> (String, UInt16?) in
            let family = Int32(storage.ss_family)
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            if family == AF_INET {
                var a = raw.load(as: sockaddr_in.self)
                inet_ntop(AF_INET, &a.sin_addr, &text, socklen_t(text.count))
                return (String(cString: text), UInt16(bigEndian: a.sin_port))
            }
            if family == AF_INET6 {
                var a = raw.load(as: sockaddr_in6.self)
                inet_ntop(AF_INET6, &a.sin6_addr, &text, socklen_t(text.count))
                return (String(cString: text), UInt16(bigEndian: a.sin6_port))
            }
            return ("unix", nil)
        }
    }
}
