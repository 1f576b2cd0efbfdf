import Foundation

/// Conditions an operator must see in the status, set and cleared by the component that
/// detects them (a refused source sweep, a missing `drop/` folder, a pause for disk space).
///
/// Keyed so that a component replaces its own note instead of piling up repeats; shared by
/// reference between the workers and the event loop, behind a lock.
final class StatusNotes: @unchecked Sendable {
    private var notes: [String: String] = [:]
    private let lock = NSLock()

    /// Sets (or with nil, clears) the note under `key`.
    func set(_ key: String, _ message: String?) {
        lock.lock()
        notes[key] = message
        lock.unlock()
    }

    func get(_ key: String) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return notes[key]
    }

    /// Every note, ordered by key.
    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return notes.sorted { $0.key < $1.key }.map(\.value)
    }
}
