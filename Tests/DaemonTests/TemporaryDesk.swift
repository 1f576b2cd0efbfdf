import Foundation
import SystemSupport
@testable import Daemon

/// A `ServiceDesk` on a temporary root with the real ingest worker and publish queue, as the
/// daemon wires them (owner `alice`, no free-space floor); `tearDown` drains both queues and
/// deletes the root.
final class TemporaryDesk {
    let root: String
    let desk: ServiceDesk

    init(prefix: String, configure: (inout DaemonConfig) -> Void = { _ in }) throws {
        root = NSTemporaryDirectory() + prefix + UUID().uuidString.prefix(8)
        var config = DaemonConfig(root: root)
        config.owner = "alice"
        config.minFreeBytes = 0
        configure(&config)
        desk = try TemporaryDesk.makeDesk(config: config)
    }

    func tearDown() {
        desk.ingestQueue.sync {}
        desk.publisher.drain()
        try? FileManager.default.removeItem(atPath: root)
    }

    private static func makeDesk(config: DaemonConfig) throws -> ServiceDesk {
        // Not SCHED_IDLE: the work runs on this test process's own dispatch threads, which keep
        // the policy and would run later tests' work only when the shared machine is idle.
        var config = config
        config.backgroundIdle = false
        let fs = FileSystem()
        for dir in [config.root, config.dropDir, config.sourcesDir, config.tilesDir, config.recipesDir, config.archiveDir, config.failedDir] {
            try fs.createDirectories(dir)
        }
        let store = try StateStore(path: config.statePath, root: config.root)
        let logger = Logger(level: .error)
        let retired = LockedStringSet()
        let cancellations = LockedStringSet()
        let publisher = PublishScheduler(config: config, store: store, fileSystem: fs, logger: logger, retiredSources: retired,
                                         recipes: RecipeBook(config: config, fileSystem: fs, logger: logger))
        publisher.start() // the daemon starts the worker after recovery; here there is nothing to recover
        let processor = IngestProcessor(config: config, store: store, fileSystem: fs, logger: logger, notes: StatusNotes(), cancellations: cancellations,
                                        retiredSources: retired, onSourceChanged: { publisher.sourceChanged(map: $0) },
                                        isStopping: { false })
        return ServiceDesk(config: config, store: store, fileSystem: fs, logger: logger, processor: processor, publisher: publisher,
                           ingestQueue: DispatchQueue(label: "test.ingest"), cancellations: cancellations, retiredSources: retired)
    }
}
