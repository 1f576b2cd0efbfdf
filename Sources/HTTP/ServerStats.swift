import Foundation

/// Counters the server keeps for `/metrics`: open connections, requests by status class and a
/// latency histogram (seconds from a complete request head to the response being queued).
public final class ServerStats: @unchecked Sendable {
    /// Upper bounds of the latency buckets, in seconds (Prometheus `le`).
    public static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// A consistent copy of the counters.
    public struct Snapshot: Sendable {
        public var openConnections: Int
        public var acceptedConnections: Int
        public var refusedConnections: Int
        public var requests: Int
        public var responsesByClass: [Int: Int]
        /// Cumulative counts per bucket of `latencyBuckets` (the last is +Inf).
        public var latencyCounts: [Int]
        public var latencySum: Double
    }

    private let lock = NSLock()
    private var open = 0
    private var accepted = 0
    private var refused = 0
    private var requests = 0
    private var byClass: [Int: Int] = [:]
    private var buckets = [Int](repeating: 0, count: ServerStats.latencyBuckets.count + 1)
    private var sum = 0.0

    public init() {}

    func connectionOpened() { lock.withLock { open += 1; accepted += 1 } }
    func connectionClosed() { lock.withLock { open -= 1 } }
    func connectionRefused() { lock.withLock { refused += 1 } }

    func requestFinished(status: Int, seconds: Double) {
        let index = Self.latencyBuckets.firstIndex { seconds <= $0 } ?? Self.latencyBuckets.count
        lock.withLock {
            requests += 1
            byClass[status / 100, default: 0] += 1
            buckets[index] += 1
            sum += seconds
        }
    }

    public func snapshot() -> Snapshot {
        lock.withLock {
            var cumulative: [Int] = []
            var running = 0
            for b in buckets {
                running += b
                cumulative.append(running)
            }
            return Snapshot(openConnections: open, acceptedConnections: accepted, refusedConnections: refused, requests: requests,
                            responsesByClass: byClass, latencyCounts: cumulative, latencySum: sum)
        }
    }
}
