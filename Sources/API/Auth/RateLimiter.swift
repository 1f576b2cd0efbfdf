#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTP

/// A per-token request budget: `requests` per `intervalSeconds` (`rate_limit`,
/// `rate_limit_interval`).
public struct RateLimit: Sendable, Equatable {
    public var requests: Int
    public var intervalSeconds: Int

    public init(requests: Int, intervalSeconds: Int = 60) {
        self.requests = requests
        self.intervalSeconds = intervalSeconds
    }
}

/// Counts requests per API token in fixed windows and refuses those over the budget with 429,
/// as the Mapbox APIs do (Raster Tiles API seed, "rate limit headers"): every counted response
/// carries `X-Rate-Limit-Limit` (the budget), `X-Rate-Limit-Interval` (the window in seconds)
/// and `X-Rate-Limit-Reset` (Unix time the window ends); a 429 adds `Retry-After`.
///
/// Only requests with a valid token are counted, keyed by the token's id: anonymous reads of
/// public tilesets and the local admin are not limited, and an unknown token is refused (401)
/// by the route without entering the table. The table is bounded all the same (`maxTracked`):
/// expired windows are dropped first, then the oldest, so a flood of tokens cannot grow it.
public final class RateLimiter: @unchecked Sendable {
    public let limit: RateLimit
    public let maxTracked: Int
    private let clock: @Sendable () -> Double
    private let lock = NSLock()
    private var windows: [String: Window] = [:]

    struct Window {
        var start: Double
        var count: Int
    }

    /// What counting one request decided.
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        /// Unix time (seconds) the key's current window ends.
        public var reset: Int64
    }

    /// `clock` gives Unix time in seconds (injectable for tests).
    public init(limit: RateLimit, maxTracked: Int = 10_000,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.limit = limit
        self.maxTracked = max(1, maxTracked)
        self.clock = clock
    }

    /// Keys currently tracked.
    public var trackedCount: Int { lock.withLock { windows.count } }

    /// Counts one request for `key`.
    public func count(_ key: String) -> Decision {
        let now = clock()
        let interval = Double(limit.intervalSeconds)
        return lock.withLock {
            var window = windows[key] ?? Window(start: now, count: 0)
            if now >= window.start + interval { window = Window(start: now, count: 0) }
            if windows[key] == nil && windows.count >= maxTracked { makeRoom(now: now, interval: interval) }
            window.count += 1
            windows[key] = window
            return Decision(allowed: window.count <= limit.requests, reset: Int64((window.start + interval).rounded(.up)))
        }
    }

    /// Drops every expired window; when none has expired, the one that started first.
    private func makeRoom(now: Double, interval: Double) {
        let before = windows.count
        windows = windows.filter { now < $0.value.start + interval }
        if windows.count == before, let oldest = windows.min(by: { $0.value.start < $1.value.start }) {
            windows.removeValue(forKey: oldest.key)
        }
    }

    /// The headers a counted response carries.
    public func headers(_ decision: Decision) -> HTTPHeaders {
        HTTPHeaders([("X-Rate-Limit-Limit", String(limit.requests)), ("X-Rate-Limit-Interval", String(limit.intervalSeconds)),
                     ("X-Rate-Limit-Reset", String(decision.reset))])
    }

    /// The router's admission check: counts requests carrying a valid token and refuses the
    /// ones over the budget with 429 in the error shape `refusal` gives for the path.
    public func admission(authenticator: Authenticator,
                          refusal: @escaping @Sendable (_ status: Int, _ message: String, _ path: String) -> Response) -> AdmissionCheck {
        { [self] request in
            guard !request.peer.isLocalAdmin, let token = Authenticator.presentedToken(request),
                  let record = authenticator.store.verify(token) else { return .admit(headers: HTTPHeaders()) }
            let decision = count(record.id)
            var headers = headers(decision)
            guard !decision.allowed else { return .admit(headers: headers) }
            let wait = max(1, decision.reset - Int64(clock().rounded(.down)))
            headers.add("Retry-After", String(wait))
            var response = refusal(429, "Too Many Requests: this token may make \(limit.requests) requests per \(limit.intervalSeconds) seconds; try again in \(wait) s", request.path)
            response.headers.addMissing(headers)
            return .refuse(response)
        }
    }
}
