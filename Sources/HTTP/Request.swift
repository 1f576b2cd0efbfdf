#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a connection.
public struct Peer: Sendable, Equatable {
    /// Process credentials from `SO_PEERCRED` (Unix socket only).
    public var uid: uid_t?
    public var gid: gid_t?
    public var pid: pid_t?
    /// `host:port` for TCP, `unix` for the Unix socket.
    public var address: String

    public init(uid: uid_t? = nil, gid: gid_t? = nil, pid: pid_t? = nil, address: String) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.address = address
    }

    public var isUnixSocket: Bool { uid != nil }

    /// True for root or the server's own user on the Unix socket: the local administrator.
    public var isLocalAdmin: Bool {
        guard let uid else { return false }
        return uid == 0 || uid == getuid()
    }
}

/// A request body: nothing, a small one in memory, or a larger one streamed to a temporary file.
///
/// The temporary file is removed when the handler returns; a handler that wants to keep the
/// upload `rename`s it away first (same filesystem: the server's temporary directory).
public enum RequestBody: Sendable, Equatable {
    case none
    case bytes([UInt8])
    case file(path: String, size: Int64)

    public var size: Int64 {
        switch self {
        case .none: 0
        case .bytes(let b): Int64(b.count)
        case .file(_, let size): size
        }
    }

    /// The whole body in memory, if it is at most `maxBytes` (413 otherwise).
    public func bytes(maxBytes: Int) throws(HTTPError) -> [UInt8] {
        switch self {
        case .none: return []
        case .bytes(let b):
            guard b.count <= maxBytes else { throw HTTPError(413, "request body larger than \(maxBytes) bytes") }
            return b
        case .file(let path, let size):
            guard size <= maxBytes else { throw HTTPError(413, "request body larger than \(maxBytes) bytes") }
            let fd = try RequestBody.openStoredBody(path)
            defer { close(fd) }
            var result = [UInt8](repeating: 0, count: Int(size))
            var done = 0
            while done < result.count {
                let n = result.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw HTTPError(500, "cannot read the uploaded body") }
                done += n
            }
            return result
        }
    }
}

/// One parsed HTTP/1.1 request as a handler sees it.
public struct Request: Sendable {
    public var method: String
    /// The request target as sent (`/v1/ingests?state=failed`).
    public var target: String
    /// The percent-decoded path (`/v1/ingests`).
    public var path: String
    /// The percent-decoded path segments (`["v1", "ingests"]`).
    public var segments: [String]
    public var query: QueryItems
    public var headers: HTTPHeaders
    public var body: RequestBody
    public var peer: Peer
    /// Values of the route's `{name}` segments.
    public var parameters: [String: String] = [:]
    /// True for HTTP/1.0 requests.
    public var isHTTP10: Bool

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: RequestBody = .none,
                peer: Peer = Peer(address: "test"), isHTTP10: Bool = false) throws(HTTPError) {
        self.method = method
        self.target = target
        let parsed = try RequestTarget(target)
        path = parsed.path
        segments = parsed.segments
        query = parsed.query
        self.headers = headers
        self.body = body
        self.peer = peer
        self.isHTTP10 = isHTTP10
    }

    /// The value of the route parameter `name` ("" when the route has none by that name).
    public func parameter(_ name: String) -> String { parameters[name] ?? "" }
}

/// Decoded query parameters in order; the first value wins for `subscript`.
public struct QueryItems: Sendable, Equatable {
    public var items: [(name: String, value: String)]

    public init(_ items: [(name: String, value: String)] = []) { self.items = items }

    public subscript(name: String) -> String? { items.first { $0.name == name }?.value }

    public func values(_ name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }

    public static func == (a: QueryItems, b: QueryItems) -> Bool {
        a.items.map(\.name) == b.items.map(\.name) && a.items.map(\.value) == b.items.map(\.value)
    }
}
