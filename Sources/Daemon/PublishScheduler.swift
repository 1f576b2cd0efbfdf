import Foundation
import Formats
import GeoModel
import Storage
import SystemSupport
import Tiling

/// Queues and runs publish jobs: a changed source republishes every tileset whose recipe uses it.
///
/// MTS semantics (seeds/001): jobs persist in `state.db` with `stage`
/// queued → processing → success | failed; one active job per tileset; later requests
/// wait in order; several pending requests for the same tileset collapse into one. The
/// MBTiles file is written to a temporary name and renamed into place by the writer, so a
/// crash mid-publish leaves the previous tileset intact and the job runs again at start-up.
/// Jobs run on one serial queue (the tiler itself uses both cores).
final class PublishScheduler: @unchecked Sendable {
    private let config: DaemonConfig
    private let paths: DaemonPaths
    private let store: StateStore
    private let fileSystem: FileSystem
    private let logger: Logger
    private let queue = DispatchQueue(label: "tiledrop.publish")
    private let retiredSources: LockedStringSet

    init(config: DaemonConfig, store: StateStore, fileSystem: FileSystem, logger: Logger, retiredSources: LockedStringSet) {
        self.config = config
        paths = DaemonPaths(config: config)
        self.store = store
        self.fileSystem = fileSystem
        self.logger = logger
        self.retiredSources = retiredSources
    }

    /// Start-up, before any job can run: re-queues jobs a crash interrupted and deletes the
    /// temporary files their MBTiles writers left in `tiles/`.
    func prepare() {
        do {
            try store.with { db throws(StorageError) in try db.requeueInterruptedJobs() }
        } catch {
            logger.error("cannot re-queue interrupted publish jobs: \(error)")
        }
        for name in (try? fileSystem.list(config.tilesDir)) ?? [] where name.hasPrefix(".") {
            try? fileSystem.remove(config.tilesDir + "/" + name)
        }
    }

    /// After ingest recovery: publishes maps that have sources but no tileset yet, and starts
    /// the worker on whatever is queued.
    func start() {
        let maps = (try? store.with { db throws(StorageError) in try db.maps() }) ?? []
        for map in maps {
            let hasSource = !((try? store.with { db throws(StorageError) in try db.sourceFiles(map: map.id) }) ?? []).isEmpty
            for tileset in tilesets(using: map.id) where hasSource && (try? fileSystem.status(paths.tileset(tileset))) == nil {
                enqueue(tileset: tileset, reason: "no tileset file yet for map \(map.id)")
            }
        }
        kick()
    }

    /// Called by the ingest worker when `map`'s source changed.
    func sourceChanged(map: String) {
        for tileset in tilesets(using: map) {
            enqueue(tileset: tileset, reason: "source \(map) changed")
        }
        kick()
    }

    /// The tilesets whose recipe reads `map`'s source; the map's default tileset when none does.
    func tilesets(using map: String) -> [String] {
        var result: [String] = []
        for (tileset, recipe) in recipes() where recipe.layers.contains(where: { TilesetSourceURI.map(from: $0.source) == map }) {
            result.append(tileset)
        }
        return result.isEmpty ? [map] : result
    }

    private func enqueue(tileset: String, reason: String) {
        do {
            _ = try queueJob(tileset: tileset, reason: reason)
        } catch {
            logger.error("tileset \(tileset): cannot queue a publish job: \(error)")
        }
    }

    private func queueJob(tileset: String, reason: String) throws(StorageError) -> String {
        let id = try store.with { db throws(StorageError) in
            try db.enqueueJob(tileset: tileset, id: UUID().uuidString.lowercased(), now: epochMilliseconds())
        }
        logger.info("tileset \(tileset): publish job \(id) queued (\(reason))")
        return id
    }

    /// MTS "Publish a tileset": queues a job (or joins the one already queued) and returns its id.
    func request(tileset: String) throws(StorageError) -> String {
        let id = try queueJob(tileset: tileset, reason: "publish requested through the API")
        kick()
        return id
    }

    /// Waits until the jobs queued so far have run (tests, shutdown).
    func drain() {
        queue.sync {}
    }

    private func kick() {
        queue.async { self.runPending() }
    }

    private func runPending() {
        while true {
            let next: PublishJobRecord?
            do {
                next = try store.with { db throws(StorageError) -> PublishJobRecord? in
                    guard var job = try db.nextQueuedJob() else { return nil }
                    job.stage = .processing
                    try db.updateJob(job)
                    return job
                }
            } catch {
                // The queued jobs stay queued; the next source change or start-up runs them.
                logger.error("cannot start the next publish job: \(error)")
                return
            }
            // Between jobs no tiler reads the sources: delete the ones compaction or replace retired.
            for file in retiredSources.removeAll() { try? fileSystem.remove(file) }
            guard var job = next else { return }
            run(&job)
            do {
                try store.with { db throws(StorageError) in try db.updateJob(job) }
            } catch {
                logger.error("tileset \(job.tileset): cannot record job \(job.id): \(error)")
            }
        }
    }

    private func run(_ job: inout PublishJobRecord) {
        let started = Date()
        do {
            let recipe = try recipe(for: job.tileset)
            let report = try Publisher(memoryBudget: config.tilingMemory).publish(recipe: recipe, recipeDirectory: config.recipesDir,
                                                 resolveSource: resolveSource, outputPath: paths.tileset(job.tileset))
            job.stage = .success
            job.published = epochMilliseconds()
            job.warnings = report.warnings
            job.layerStats = JSONWriter.string(report.layerStats)
            let m = report.memory
            logger.info("tileset \(job.tileset): published \(paths.tileset(job.tileset)) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s (job \(job.id)); tiler memory peak \(m.peak / 1_000_000) MB of \(m.budget / 1_000_000) MB, peak RSS \((m.peakRSS ?? 0) / 1_000_000) MB")
        } catch {
            job.stage = .failed
            job.errors = ["\(error)"]
            logger.error("tileset \(job.tileset): publish job \(job.id) failed: \(error)")
        }
    }

    /// Reads `tiledrop://tileset-source/<map>` from the map's committed source files (file-path
    /// sources are resolved by the `Publisher`, relative to the recipes folder).
    private func resolveSource(_ source: String) throws -> any FeatureSource {
        guard let map = TilesetSourceURI.map(from: source) else {
            throw DaemonError.other("unknown source '\(source)'; use tiledrop://tileset-source/<map> or a file path")
        }
        let files = try store.with { db throws(StorageError) in try db.sourceFiles(map: map) }
        return GeoJSONSeqSource(paths: files)
    }

    func recipe(for tileset: String) throws -> Recipe {
        if let recipe = recipes()[tileset] { return recipe }
        return Recipe.defaultRecipe(map: tileset, maxzoom: config.defaultMaxzoom)
    }

    /// Every valid recipe in `recipes/`, by tileset name (the file name without `.json`).
    func recipes() -> [String: Recipe] {
        var result: [String: Recipe] = [:]
        for name in (try? fileSystem.list(config.recipesDir)) ?? [] where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let tileset = String(name.dropLast(5))
            do {
                let bytes = try fileSystem.readFile(config.recipesDir + "/" + name, maxBytes: 1 << 20)
                result[tileset] = try Recipe(json: try JSONParser.parse(bytes))
            } catch {
                logger.warning("recipes/\(name) is ignored: \(error); check it with `tiledrop validate-recipe`")
            }
        }
        return result
    }
}
