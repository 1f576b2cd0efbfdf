#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Where a server listens: a Unix socket path or a TCP `host:port`.
public enum ListenAddress: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String, mode: mode_t)
    case tcp(host: String, port: UInt16)

    /// Parses `host:port` or `[v6]:port` (the `listen` setting); nil when malformed.
    public static func parseTCP(_ text: String) -> ListenAddress? {
        var host: Substring
        var port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(" "), let p = UInt16(port), p > 0 else { return nil }
        return .tcp(host: String(host), port: p)
    }

    public var description: String {
        switch self {
        case .unix(let path, _): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}

/// What one non-blocking `accept4` produced.
public enum AcceptResult {
    /// A new connection (non-blocking, close-on-exec).
    case connection(Int32)
    /// Nothing is waiting.
    case none
    /// Out of descriptors or kernel memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): back off
    /// instead of retrying at once, which would spin a core while the backlog stays readable.
    case exhausted(Int32)
}

/// A non-blocking listening stream socket (Unix or TCP) for an event loop.
public final class ListeningSocket: @unchecked Sendable {
    public let fileDescriptor: Int32
    public let address: ListenAddress
    private var closed = false

    private init(fileDescriptor: Int32, address: ListenAddress) {
        self.fileDescriptor = fileDescriptor
        self.address = address
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fileDescriptor)
        if case .unix(let path, _) = address { unlink(path) }
    }

    /// `socket` + `bind` + `listen` (replacing a stale Unix socket file and setting its mode;
    /// `SO_REUSEADDR` for TCP, whose host is resolved with `getaddrinfo`).
    public static func listen(_ address: ListenAddress, backlog: Int32 = 511) throws(SystemError) -> ListeningSocket {
        switch address {
        case .unix(let path, let mode):
            let fd = try retryingEINTR("socket", path) { socket(AF_UNIX, streamFlags, 0) }
            let s = ListeningSocket(fileDescriptor: fd, address: address)
            var addr = try SocketAddress.unix(path)
            unlink(path)
            _ = try withUnsafeBytes(of: &addr) { raw throws(SystemError) in
                try retryingEINTR("bind", path) { bind(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count)) }
            }
            _ = try retryingEINTR("chmod", path) { chmod(path, mode) }
            _ = try retryingEINTR("listen", path) { Glibc.listen(fd, backlog) }
            return s
        case .tcp(let host, let port):
            let target = address.description
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE
            var list: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &list)
            guard rc == 0, let first = list else {
                throw SystemError(call: "getaddrinfo", target: target, errno: rc == EAI_SYSTEM ? errno : EADDRNOTAVAIL)
            }
            defer { freeaddrinfo(list) }
            let fd = try retryingEINTR("socket", target) { socket(first.pointee.ai_family, streamFlags, 0) }
            let s = ListeningSocket(fileDescriptor: fd, address: address)
            var one: Int32 = 1
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = try retryingEINTR("bind", target) { bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) }
            _ = try retryingEINTR("listen", target) { Glibc.listen(fd, backlog) }
            return s
        }
    }

    /// The port actually bound (useful after listening on port 0 in tests); nil for Unix sockets.
    public var boundPort: UInt16? {
        guard case .tcp = address else { return nil }
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &storage) { getsockname(fileDescriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &len) }
        guard rc == 0 else { return nil }
        return SocketAddress.describe(storage).port
    }

    /// `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`, retrying `EINTR`; aborted handshakes count as none.
    public func accept() throws(SystemError) -> AcceptResult {
        while true {
            let fd = clinux_accept4(fileDescriptor, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if fd >= 0 { return .connection(fd) }
            let e = errno
            switch e {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO: return .none
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .exhausted(e)
            default: throw SystemError(call: "accept4", target: address.description, errno: e)
            }
        }
    }

    private static var streamFlags: Int32 {
        Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    }
}
