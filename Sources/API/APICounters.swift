import Foundation

/// Counters the routes keep for `GET /metrics` (what the server's own `ServerStats` cannot
/// know): tiles served, by outcome.
public final class APICounters: @unchecked Sendable {
    private let lock = NSLock()
    private var tiles: [String: Int] = [:]

    public init() {}

    /// Counts one tile request answered with `outcome` (`ok`, `empty`, `not_modified`, `missing`).
    public func tileServed(_ outcome: String) {
        lock.withLock { tiles[outcome, default: 0] += 1 }
    }

    public var tilesServed: [String: Int] { lock.withLock { tiles } }
}
