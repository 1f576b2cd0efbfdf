import Foundation
import GeoModel

/// The publish job running now and how far it got, for `tiledrop status --watch`.
/// Written by the publish worker, read by the status server, behind a lock.
final class JobProgressBox: @unchecked Sendable {
    private struct Running {
        var tileset: String
        var job: String
        var fraction: Double
        var started: Date
    }

    private let lock = NSLock()
    private var running: Running?

    func start(tileset: String, job: String) {
        lock.lock()
        running = Running(tileset: tileset, job: job, fraction: 0, started: Date())
        lock.unlock()
    }

    func update(_ fraction: Double) {
        lock.lock()
        running?.fraction = fraction
        lock.unlock()
    }

    func finish() {
        lock.lock()
        running = nil
        lock.unlock()
    }

    /// The id of the running job, if any.
    var runningJob: String? {
        lock.lock()
        defer { lock.unlock() }
        return running?.job
    }

    /// `{"tileset", "job", "progress", "seconds"}` of the running job, or null.
    var json: JSONValue {
        lock.lock()
        defer { lock.unlock() }
        guard let r = running else { return .null }
        return ["tileset": .string(r.tileset), "job": .string(r.job), "progress": .double((r.fraction * 1000).rounded() / 1000),
                "seconds": .double((Date().timeIntervalSince(r.started) * 10).rounded() / 10)]
    }
}
