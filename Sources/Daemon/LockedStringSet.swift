import Foundation

/// A set of strings shared between the event loop and the workers, behind a lock.
///
/// Used for the paths handed to the ingest queue but not yet claimed (so a rescan does not
/// hand them out twice), the ingest ids whose cancellation was requested, and retired source
/// files waiting to be deleted.
final class LockedStringSet: @unchecked Sendable {
    private var items: Set<String> = []
    private let lock = NSLock()

    /// Adds `item`; false when it was already there.
    @discardableResult
    func insert(_ item: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return items.insert(item).inserted
    }

    /// Removes `item`; true when it was there.
    @discardableResult
    func remove(_ item: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return items.remove(item) != nil
    }

    func insert(contentsOf items: [String]) {
        lock.lock()
        self.items.formUnion(items)
        lock.unlock()
    }

    /// Empties the set and returns what it held.
    func removeAll() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let all = Array(items)
        items.removeAll()
        return all
    }

    func contains(_ item: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return items.contains(item)
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return items.count
    }
}
