import Foundation

/// A one-way flag raised once and polled by other threads: "stop now" (the event loop raises
/// it, the workers poll it) and "ready" (recovery done; `GET /health` polls it).
final class StopFlag: @unchecked Sendable {
    private var raised = false
    private let lock = NSLock()

    func raise() {
        lock.lock()
        raised = true
        lock.unlock()
    }

    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}
