import Foundation
import GeoModel

/// What only the running daemon knows (not in `state.db`): watched maps, files settling,
/// warnings. The event loop publishes the watcher's part; what other threads change (queued
/// drops, notes, the disk pause) is composed when the HTTP server reads it, so an answer
/// never lags behind the event loop's next wake-up.
struct LiveStatus: Sendable {
    var maps: [String] = []
    var settling: Int = 0
    var queuedDrops: Int = 0
    var warnings: [String] = []
    /// Why ingestion is paused (e.g. "disk full: …"), nil while it runs.
    var pausedReason: String?
}

/// The latest `LiveStatus`, shared between threads behind a lock.
final class LiveStatusBox: @unchecked Sendable {
    private var value = LiveStatus()
    private let lock = NSLock()
    private let compose: @Sendable (LiveStatus) -> LiveStatus

    /// `compose` completes the stored snapshot at read time (identity by default).
    init(compose: @escaping @Sendable (LiveStatus) -> LiveStatus = { $0 }) {
        self.compose = compose
    }

    func set(_ status: LiveStatus) {
        lock.lock()
        value = status
        lock.unlock()
    }

    func get() -> LiveStatus {
        lock.lock()
        let stored = value
        lock.unlock()
        return compose(stored)
    }
}

/// The last few notices of one kind (newest last), shared between threads behind a lock.
final class RecentNotices: @unchecked Sendable {
    private let limit: Int
    private var items: [String] = []
    private let lock = NSLock()

    init(limit: Int) { self.limit = limit }

    func add(_ notice: String) {
        lock.lock()
        items.append(notice)
        if items.count > limit { items.removeFirst(items.count - limit) }
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
