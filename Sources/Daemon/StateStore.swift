import Foundation
import Storage

/// The one writer of `state.db`: a `StateDatabase` behind a lock.
///
/// The ingest worker and the publish worker both record progress; the lock serialises their
/// transactions on one connection (SQLite allows one writer at a time anyway). Readers such
/// as the HTTP server open their own connections, which WAL lets run alongside.
final class StateStore: @unchecked Sendable {
    private let database: StateDatabase
    private let lock = NSLock()

    /// Paths are stored relative to `root` (the canonical root).
    init(path: String, root: String) throws(StorageError) {
        database = try StateDatabase(path: path, root: root)
    }

    /// Runs `body` with exclusive use of the database.
    func with<T>(_ body: (StateDatabase) throws(StorageError) -> T) throws(StorageError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(database)
    }
}

/// Milliseconds since the Unix epoch, the timestamp unit MTS uses (`created`, `published`).
func epochMilliseconds() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}
