import Dispatch
import SystemSupport

/// When map previews (`MapPreviewWriter`) are rendered: on their own serial queue, so a
/// picture never delays the next publish job; right after a full publish, and after an
/// incremental one at most once per `preview_interval` (default 30 s) per tileset.
///
/// Rendering a preview draws the whole map, which for a large map costs far more than an
/// append's incremental publish; a stream of small appends would otherwise keep a core busy
/// drawing pictures. A deferred render runs once the interval is over and shows every append
/// made until then (the log says `map preview deferred N s`).
final class PreviewScheduler: @unchecked Sendable {
    private let queue = DispatchQueue(label: "tiledrop.preview")
    private let logger: Logger
    private let clock = MonotonicClock()
    // Touched on `queue` only.
    private var lastRendered: [String: Double] = [:]
    private var deferred: Set<String> = []

    init(logger: Logger) {
        self.logger = logger
    }

    /// A publish of `tileset` finished; `render` draws its preview. `interval` is the shortest
    /// time between two renders after incremental publishes (`preview_interval`).
    func published(_ tileset: String, incremental: Bool, interval: Double, render: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            if incremental, deferred.contains(tileset) { return }  // the scheduled render will show it
            let wait = incremental ? (lastRendered[tileset] ?? -.infinity) + interval - clock.now() : 0
            guard wait > 0 else { return run(tileset, render) }
            deferred.insert(tileset)
            logger.info("tileset \(tileset): map preview deferred \(Int(wait.rounded(.up))) s (after incremental publishes, previews are drawn at most every \(Int(interval)) s: preview_interval)")
            queue.asyncAfter(deadline: .now() + wait) { [self] in
                deferred.remove(tileset)
                run(tileset, render)
            }
        }
    }

    private func run(_ tileset: String, _ render: () -> Void) {
        render()
        lastRendered[tileset] = clock.now()
        Heap.releaseFreeMemory()
    }
}
