/// A request handler: runs on a worker thread (or on the event loop for `RouteOptions.inline`).
public typealias Handler = @Sendable (Request) -> Response

/// Builds the error response for a refused request, in the shape of the service that owns
/// the path (`{"message": …}` by default).
public typealias ErrorShape = @Sendable (_ status: Int, _ message: String) -> Response

/// What a router's admission check decides about a request, before its body is read.
public enum Admission: Sendable {
    /// Run the route; `headers` are added to its response (such as rate-limit counters).
    case admit(headers: HTTPHeaders)
    /// Answer with this response instead (the body, if any, is not read).
    case refuse(Response)
}

/// Looks at a routed request's head (method, path, headers, peer) and admits or refuses it.
/// Runs on the event-loop thread, so it must answer in microseconds and never block.
public typealias AdmissionCheck = @Sendable (Request) -> Admission

/// How a route runs.
public struct RouteOptions: Sendable {
    /// Largest request body this route accepts; nil means the server's `maxBodyBytes`.
    public var maxBodyBytes: Int64?
    /// Run on the event-loop thread: only for handlers that never block (no SQLite, no file
    /// reads) and answer in microseconds. Everything else goes to the worker pool.
    public var inline: Bool
    /// The handler may take long (it stores an upload and waits for its ingest): it runs on the
    /// server's separate pool for such handlers, so tile and status reads never queue behind it.
    public var long: Bool

    public init(maxBodyBytes: Int64? = nil, inline: Bool = false, long: Bool = false) {
        self.maxBodyBytes = maxBodyBytes
        self.inline = inline
        self.long = long
    }
}

/// Maps a method and a path pattern to a handler.
///
/// Patterns are `/`-separated segments: a literal (`v1`), a parameter (`{id}`), or a
/// parameter with a literal prefix or suffix (`{y}.mvt`, `{tileset}.json`). Matching works on
/// percent-decoded segments; a literal beats a parameter with an affix, which beats a bare
/// parameter, segment by segment, so `/v1/ingests/count` can sit beside `/v1/ingests/{id}`.
/// `HEAD` runs the `GET` route without the body; `OPTIONS` is answered by the server (CORS).
public struct Router: Sendable {
    struct Route: Sendable {
        var method: String
        var pattern: String
        var segments: [Segment]
        var options: RouteOptions
        var handler: Handler
        var rank: [Int]
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(name: String, prefix: String, suffix: String)

        var rank: Int {
            switch self {
            case .literal: 2
            case .parameter(_, let p, let s): p.isEmpty && s.isEmpty ? 0 : 1
            }
        }
    }

    /// What matching a request found.
    enum Match {
        case found(Route, [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    private(set) var routes: [Route] = []
    /// Checked for every routed request before its body is read; nil admits everything.
    public private(set) var admission: AdmissionCheck?
    private var errorShapes: [(prefix: String, shape: ErrorShape)] = []

    public init() {}

    /// Adds `method pattern → handler`. A pattern that is malformed or already taken is a
    /// programming error and stops the process at start-up.
    public mutating func add(_ method: String, _ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/").map { Self.segment(String($0), pattern: pattern) }
        precondition(!routes.contains { $0.method == method && $0.segments == segments }, "route \(method) \(pattern) added twice")
        routes.append(Route(method: method, pattern: pattern, segments: segments, options: options, handler: handler, rank: segments.map(\.rank)))
        routes.sort { $1.rank.lexicographicallyPrecedes($0.rank) }
    }

    public mutating func get(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        add("GET", pattern, options: options, handler)
    }

    public mutating func post(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        add("POST", pattern, options: options, handler)
    }

    public mutating func put(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        add("PUT", pattern, options: options, handler)
    }

    public mutating func patch(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        add("PATCH", pattern, options: options, handler)
    }

    public mutating func delete(_ pattern: String, options: RouteOptions = RouteOptions(), _ handler: @escaping Handler) {
        add("DELETE", pattern, options: options, handler)
    }

    /// Sets the check every routed request passes before its body is read and its handler runs
    /// (the API's per-token rate limit).
    public mutating func setAdmission(_ check: @escaping AdmissionCheck) {
        admission = check
    }

    /// Errors the server produces for paths under `prefix` (404, 405, 400, 413, 431, …) use
    /// `shape`; the longest matching prefix wins. Default: `Response.message`.
    public mutating func setErrorShape(prefix: String, _ shape: @escaping ErrorShape) {
        errorShapes.append((prefix, shape))
        errorShapes.sort { $0.prefix.count > $1.prefix.count }
    }

    /// The error response for `path` in its service's shape.
    public func errorResponse(_ status: Int, _ message: String, path: String) -> Response {
        (errorShapes.first { path.hasPrefix($0.prefix) }?.shape ?? Response.message)(status, message)
    }

    /// The route for `method` and the decoded path `segments`, with its parameters.
    func match(method: String, segments: [String]) -> Match {
        var allowed: [String] = []
        let lookup = method == "HEAD" ? "GET" : method
        for route in routes where route.segments.count == segments.count {
            guard let parameters = Self.bind(route.segments, segments) else { continue }
            if route.method == lookup { return .found(route, parameters) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if allowed.isEmpty { return .notFound }
        if allowed.contains("GET") { allowed.append("HEAD") }
        return .methodNotAllowed(allowed + ["OPTIONS"])
    }

    private static func bind(_ pattern: [Segment], _ segments: [String]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (p, s) in zip(pattern, segments) {
            switch p {
            case .literal(let l):
                guard l == s else { return nil }
            case .parameter(let name, let prefix, let suffix):
                guard s.utf8.count > prefix.utf8.count + suffix.utf8.count, s.hasPrefix(prefix), s.hasSuffix(suffix) else { return nil }
                parameters[name] = String(s.dropFirst(prefix.count).dropLast(suffix.count))
            }
        }
        return parameters
    }

    private static func segment(_ text: String, pattern: String) -> Segment {
        guard let open = text.firstIndex(of: "{") else {
            precondition(!text.contains("}"), "bad route pattern \(pattern)")
            return .literal(text)
        }
        guard let close = text.firstIndex(of: "}"), close > open else { preconditionFailure("bad route pattern \(pattern)") }
        let name = String(text[text.index(after: open)..<close])
        precondition(!name.isEmpty, "empty parameter name in \(pattern)")
        return .parameter(name: name, prefix: String(text[..<open]), suffix: String(text[text.index(after: close)...]))
    }
}

extension Router {
    /// Routes `request` and runs its handler on the calling thread: what the server does,
    /// minus the socket. For tests and for composing routes.
    public func respond(to request: Request) -> Response {
        var request = request
        switch match(method: request.method, segments: request.segments) {
        case .found(let route, let parameters):
            request.parameters = parameters
            var extra = HTTPHeaders()
            if let admission {
                switch admission(request) {
                case .refuse(let response): return response
                case .admit(let headers): extra = headers
                }
            }
            var response = route.handler(request)
            response.headers.addMissing(extra)
            return response
        case .methodNotAllowed(let allowed):
            var response = errorResponse(405, "\(request.method) is not allowed on \(request.path); use \(allowed.joined(separator: ", "))", path: request.path)
            response.headers.set("Allow", allowed.joined(separator: ", "))
            return response
        case .notFound:
            return errorResponse(404, "no such endpoint: \(request.method) \(request.path)", path: request.path)
        }
    }
}
