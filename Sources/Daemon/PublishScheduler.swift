import API
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
/// Jobs run on one serial queue (the tiler itself uses both cores). Recipes come from the
/// `RecipeBook`; when they change (`recipesChanged`) their tilesets are republished, and a
/// tileset that lost its recipe, or a map's default tileset once a recipe uses the map, is
/// retired to `archive/tiles/` on the same queue, so it never races a job writing it.
final class PublishScheduler: @unchecked Sendable {
    /// The settings in force (a SIGHUP reload changes them; see `SharedConfig`).
    private var config: DaemonConfig { settings.current }
    private let settings: SharedConfig
    private let paths: DaemonPaths
    private let store: StateStore
    private let fileSystem: FileSystem
    private let logger: Logger
    private let queue = DispatchQueue(label: "tiledrop.publish")
    /// Renders map previews after publishes, off this queue.
    private let previews: PreviewScheduler
    private let retiredSources: LockedStringSet
    private let book: RecipeBook
    /// The running job's tileset, id and progress (0–1), for the status.
    let progress = JobProgressBox()
    /// Raised by `start()`, after ingest recovery: no job runs before.
    private let started = StopFlag()
    /// Raised at shutdown: the running tiler stops, its job goes back to the queue, no new job starts.
    private let stopping: StopFlag
    /// Shared with the ingest worker: a publish and a container install of one tileset take turns.
    private let tilesetWriters: TilesetWriterLock

    init(config: DaemonConfig, settings: SharedConfig? = nil, store: StateStore, fileSystem: FileSystem, logger: Logger, retiredSources: LockedStringSet, recipes: RecipeBook,
         stopping: StopFlag = StopFlag(), tilesetWriters: TilesetWriterLock = TilesetWriterLock()) {
        self.stopping = stopping
        self.tilesetWriters = tilesetWriters
        self.settings = settings ?? SharedConfig(config)
        paths = DaemonPaths(config: config)
        self.store = store
        self.fileSystem = fileSystem
        self.logger = logger
        self.retiredSources = retiredSources
        book = recipes
        previews = PreviewScheduler(logger: logger)
    }

    /// Start-up, before any job can run: re-queues jobs a crash interrupted and deletes the
    /// temporary files their MBTiles writers left in `tiles/`.
    func prepare() {
        do {
            let poisoned = try store.with { db throws(StorageError) in
                try db.transaction { () throws(StorageError) -> [PublishJobRecord] in
                    let failed = try db.failJobsInterrupted(atLeast: IngestProcessor.maxAttempts, reason: "publishing was interrupted \(IngestProcessor.maxAttempts) times (the daemon crashed or was killed while running this job), so it is not retried again; check the recipe and the sources, then republish")
                    try db.requeueInterruptedJobs()
                    return failed
                }
            }
            for job in poisoned { logger.error("tileset \(job.tileset): publish job \(job.id) failed: \(job.errors[0])") }
        } catch {
            logger.error("cannot re-queue interrupted publish jobs: \(error)")
        }
        for name in (try? fileSystem.list(config.tilesDir)) ?? [] where name.hasPrefix(".") {
            try? fileSystem.remove(config.tilesDir + "/" + name)
        }
    }

    /// After ingest recovery: publishes maps that have sources but no tileset yet and recipes
    /// changed since their tileset was written, retires default tilesets of maps that have a
    /// recipe now, and starts the worker on whatever is queued.
    func start() {
        for (tileset, _) in book.recipes.sorted(by: { $0.key < $1.key }) {
            let written = (try? fileSystem.status(paths.tileset(tileset, format: config.outputs[0])))??.modified
            let edited = (try? fileSystem.status(paths.recipe(tileset)))??.modified ?? 0
            if let written, written >= edited { continue }
            if (written != nil || book.recipe(for: tileset).map(hasSources) == true) && !isPoisoned(tileset) {
                enqueue(tileset: tileset, reason: "recipes/\(tileset).json is newer than its tileset")
            }
        }
        for map in mapsWithSources() where !book.tilesets(using: map).isEmpty && !book.hasFile(map) {
            retire(map, reason: "map \(map) has a recipe (\(book.tilesets(using: map).joined(separator: ", "))) instead of its default tileset")
        }
        retireOrphanedTilesets()
        publishMapsWithoutTileset()
        started.raise()
        kick()
    }

    /// Tilesets in `tiles/` that nothing publishes any more (their recipe was removed while the
    /// daemon was stopped, and they are no map's default tileset) are retired, as a removal
    /// seen live would retire them. A recipe file that exists but does not parse keeps its tileset,
    /// and so does a file no publish job wrote: a container installed from a drop or a MapTiler
    /// ingest, or one an operator put into `tiles/` (those are served as they are, never from a recipe).
    private func retireOrphanedTilesets() {
        var files: [String: String] = [:]
        for file in (try? fileSystem.list(config.tilesDir)) ?? [] where !file.hasPrefix(".") {
            guard let format = TileArchiveFormat(path: file) else { continue }
            files[String(file.dropLast(format.rawValue.utf8.count + 1))] = config.tilesDir + "/" + file
        }
        for (tileset, path) in files.sorted(by: { $0.key < $1.key })
        where !book.hasFile(tileset) && recipe(for: tileset) == nil && isPublishOutput(tileset, path: path) {
            retire(tileset, reason: "recipes/\(tileset).json was removed while tiledrop was stopped")
        }
    }

    /// Whether `path` is what the tileset's last successful publish job wrote: such a job exists
    /// and the file is not newer than it (an install or a copy after it makes the file newer).
    private func isPublishOutput(_ tileset: String, path: String) -> Bool {
        let jobs = (try? store.with { db throws(StorageError) in try db.jobs(tileset: tileset, limit: 50) }) ?? []
        guard let published = jobs.first(where: { $0.stage == .success })?.published,
              let status = (try? fileSystem.status(path)) ?? nil else { return false }
        return status.modified / 1_000_000 <= published + 1_000
    }

    /// Called after `RecipeBook.scan()` found changes: new or changed recipes are published,
    /// removed ones retired, maps that gained a recipe lose their default tileset, and maps
    /// that lost their last recipe get their default tileset back.
    func recipesChanged(_ changes: RecipeBook.Changes, queuedByCaller: String? = nil) {
        for tileset in changes.published {
            if tileset != queuedByCaller { enqueue(tileset: tileset, reason: "recipes/\(tileset).json changed") }
            for map in mapsRead(by: tileset) where map != tileset && !book.hasFile(map) {
                retire(map, reason: "map \(map) is now published by recipes/\(tileset).json")
            }
        }
        for tileset in changes.removed {
            if recipe(for: tileset) == nil {
                retire(tileset, reason: "recipes/\(tileset).json was removed")
            } else {
                enqueue(tileset: tileset, reason: "recipes/\(tileset).json was removed; map \(tileset) gets its default recipe again")
            }
        }
        publishMapsWithoutTileset()
        started.raise()
        kick()
    }

    /// `tiledrop republish TILESET`: queues a job now, unless no recipe (nor map default)
    /// names the tileset.
    func republish(_ tileset: String) -> RepublishOutcome {
        refreshRecipes(requested: tileset)
        guard recipe(for: tileset) != nil else { return .unknownTileset }
        guard let id = enqueue(tileset: tileset, reason: "republish requested") else { return .failed }
        kick()
        return .queued(jobID: id)
    }

    /// Reads `recipes/` again now (a recipe written through the API may be newer than the
    /// watcher's last look) and applies what changed.
    /// `requested` is a tileset the caller queues itself: it is not queued a second time.
    func refreshRecipes(requested: String? = nil) {
        let changes = book.scan()
        if !changes.isEmpty { recipesChanged(changes, queuedByCaller: requested) }
    }

    /// Maps with sources whose tilesets (recipe or default) have no file yet.
    private func publishMapsWithoutTileset() {
        for map in mapsWithSources() {
            for tileset in tilesets(using: map) where (try? fileSystem.status(paths.tileset(tileset, format: config.outputs[0]))) == nil && !isPoisoned(tileset) {
                enqueue(tileset: tileset, reason: "no tileset file yet for map \(map)")
            }
        }
    }

    /// True when the tileset's latest job was failed as a poison pill: start-up does not queue
    /// it again by itself (a new drop, a recipe change or `tiledrop republish` does).
    private func isPoisoned(_ tileset: String) -> Bool {
        let last = try? store.with { db throws(StorageError) in try db.jobs(tileset: tileset, limit: 1).first }
        return last?.stage == .failed && (last?.attempts ?? 0) >= IngestProcessor.maxAttempts
    }

    private func mapsWithSources() -> [String] {
        let maps = (try? store.with { db throws(StorageError) in try db.maps() }) ?? []
        return maps.map(\.id).filter { map in
            !((try? store.with { db throws(StorageError) in try db.sourceFiles(map: map) }) ?? []).isEmpty
        }
    }

    private func hasSources(_ recipe: Recipe) -> Bool {
        recipe.layers.allSatisfy { layer in
            guard let map = TilesetSourceURI.map(from: layer.source) else { return true }
            return !((try? store.with { db throws(StorageError) in try db.sourceFiles(map: map) }) ?? []).isEmpty
        }
    }

    /// The maps whose sources `tileset`'s recipe reads.
    private func mapsRead(by tileset: String) -> [String] {
        (book.recipe(for: tileset)?.layers ?? []).compactMap { TilesetSourceURI.map(from: $0.source) }
    }

    /// Moves `tiles/<tileset>.mbtiles` (and `.pmtiles`) to `archive/tiles/`, on the publish
    /// queue so that no job is writing it.
    private func retire(_ tileset: String, reason: String) {
        queue.async { [self] in
            _ = try? tilesetWriters.withTileset(tileset, as: "retirement") { retireNow(tileset, reason: reason) }
        }
    }

    private func retireNow(_ tileset: String, reason: String) {
        for ext in [".mbtiles", ".pmtiles"] {
            let path = config.tilesDir + "/" + tileset + ext
            guard (try? fileSystem.status(path)) ?? nil != nil else { continue }
            let folder = config.archiveDir + "/tiles"
            do {
                try fileSystem.createDirectories(folder)
                let destination = paths.unusedPath(in: folder, name: tileset + ext, fileSystem: fileSystem)
                try fileSystem.rename(path, to: destination)
                logger.info("tileset \(tileset): retired to \(destination) (\(reason))")
            } catch {
                logger.error("tileset \(tileset): cannot retire \(path) (\(reason)): \(error)")
            }
        }
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
        let result = book.tilesets(using: map)
        return result.isEmpty ? [map] : result
    }

    @discardableResult
    private func enqueue(tileset: String, reason: String) -> String? {
        do {
            let id = try store.with { db throws(StorageError) in
                try db.enqueueJob(tileset: tileset, id: UUID().uuidString.lowercased(), now: epochMilliseconds())
            }
            logger.info("tileset \(tileset): publish job \(id) queued (\(reason))")
            return id
        } catch {
            logger.error("tileset \(tileset): cannot queue a publish job: \(error)")
            return nil
        }
    }

    /// Waits until the jobs queued so far have run (tests, shutdown).
    func drain() {
        queue.sync {}
    }

    private func kick() {
        guard started.isRaised else { return } // queued jobs wait in state.db until recovery is done
        queue.async { self.runPending() }
    }

    /// Shutdown, once `stopping` is raised: waits for the worker, whose running tiler stops at
    /// its next check (`Tiler.shouldCancel`, well under a second) and puts its job back in the
    /// queue without counting an attempt; the writers remove their temporary files, so the
    /// previous tileset stays in place. `seconds` bounds the wait (the systemd stop timeout is
    /// longer): a worker still busy then is left to the process exit, its job re-queued here.
    func shutdown(waitingAtMost seconds: Double) {
        let joined = DispatchSemaphore(value: 0)
        queue.async { joined.signal() }
        if joined.wait(timeout: .now() + seconds) == .success { return }
        guard let running = progress.runningJob else { return }
        logger.warning("publish job \(running) did not stop within \(Int(seconds)) s; it is re-queued and runs again at the next start")
        requeueForShutdown(running)
    }

    private func requeueForShutdown(_ id: String) {
        do {
            try store.with { db throws(StorageError) in try db.requeueInterruptedByShutdown(id: id) }
        } catch {
            logger.error("cannot re-queue publish job \(id) at shutdown: \(error)")
        }
    }

    private func runPending() {
        while !stopping.isRaised {
            let next: PublishJobRecord?
            do {
                next = try store.with { db throws(StorageError) -> PublishJobRecord? in
                    guard var job = try db.nextQueuedJob() else { return nil }
                    job.stage = .processing
                    job.attempts += 1
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
            if job.stage == .processing {
                requeueForShutdown(job.id) // canceled by shutdown: not the job's fault, not an attempt
                logger.info("tileset \(job.tileset): publish job \(job.id) stopped by shutdown; the previous tileset stays and the job runs again at the next start")
                return
            }
            do {
                try store.with { db throws(StorageError) in try db.updateJob(job) }
            } catch {
                logger.error("tileset \(job.tileset): cannot record job \(job.id): \(error)")
            }
        }
    }

    /// Runs `job` holding its tileset's writer lock (waiting, logged, while a container install
    /// of the same tileset finishes). Shutdown while waiting leaves the job `processing`.
    private func run(_ job: inout PublishJobRecord) {
        ThreadPriority.enter(config.background)
        let (id, tileset, stopping) = (job.id, job.tileset, stopping)
        do {
            try tilesetWriters.withTileset(tileset, as: "publish job \(id)", onWait: { [logger] holder in
                logger.info("tileset \(tileset): publish job \(id) waits for \(holder) to finish writing tiles/\(tileset)")
            }, shouldGiveUp: { if stopping.isRaised { throw TilingError.canceled } }) { runHoldingTileset(&job) }
        } catch {
            return // canceled by shutdown while waiting: `runPending` re-queues it
        }
        // glibc keeps the tiler's freed heap for reuse; hand it back so the serving daemon's
        // resident size returns to its idle size between publishes.
        Heap.releaseFreeMemory()
    }

    private func runHoldingTileset(_ job: inout PublishJobRecord) {
        let started = Date()
        let outputs = config.outputs.map { paths.tileset(job.tileset, format: $0) }
        do {
            guard let recipe = recipe(for: job.tileset) else {
                throw DaemonError.other("there is no recipes/\(job.tileset).json (any more), and \(job.tileset) is not a map published with the default recipe; nothing to publish")
            }
            // Recorded as the job starts, so a processing job shows the recipe it runs.
            job.recipe = JSONWriter.string(recipe.json)
            let running = job
            try? store.with { db throws(StorageError) in try db.updateJob(running) }
            progress.start(tileset: job.tileset, job: job.id)
            defer { progress.finish() }
            // The job's `memory.peak_rss_bytes` is the daemon's peak while this job ran, from
            // a baseline without what earlier work freed but the allocator kept.
            Heap.releaseFreeMemory()
            TilingMemory.resetPeakRSS()
            let (report, incremental) = try publish(job.tileset, recipe: recipe, outputs: outputs)
            job.stage = .success
            job.published = epochMilliseconds()
            job.warnings = report.warnings
            job.layerStats = JSONWriter.string(report.layerStats)
            job.memory = JSONWriter.string(report.memory.json)
            for choice in report.maxzoomChoices { logger.info("tileset \(job.tileset): \(choice)") }
            logger.info("tileset \(job.tileset): published \(outputs.joined(separator: " and ")) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s, \(report.tileCount) tiles (job \(job.id)); tiler memory peak \(report.memory.peak / 1_000_000) MB of \(report.memory.budget / 1_000_000) MB, peak RSS \((report.memory.peakRSS ?? 0) / 1_000_000) MB")
            for warning in report.warnings { logger.warning("tileset \(job.tileset): \(warning)") }
            let writer = MapPreviewWriter(config: config, fileSystem: fileSystem, logger: logger), tileset = job.tileset
            previews.published(tileset, incremental: incremental, interval: config.previewInterval) { writer.write(tileset: tileset, recipe: recipe) }
        } catch TilingError.canceled where stopping.isRaised {
            return // still `processing`: `runPending` re-queues it
        } catch {
            job.stage = .failed
            job.errors = ["\(error)"]
            logger.error("tileset \(job.tileset): publish job \(job.id) failed: \(error)")
            return
        }
        runAfterPublish(&job, files: outputs)
    }

    /// Runs the `after_publish` command once per published file; each result lands in the
    /// job's `after_publish` field and the log. A failing hook does not fail the job (the
    /// tileset is published); it adds a warning.
    private func runAfterPublish(_ job: inout PublishJobRecord, files: [String]) {
        guard let words = config.afterPublish else { return }
        let hook = AfterPublishHook(words: words, timeout: config.afterPublishTimeout)
        var results: [JSONValue] = []
        for file in files {
            let (record, succeeded, summary) = hook.run(file: file)
            results.append(record)
            let message = "after_publish \(hook.arguments(file: file).joined(separator: " ")) \(summary)"
            if succeeded {
                logger.info("tileset \(job.tileset): \(message)")
            } else {
                logger.warning("tileset \(job.tileset): \(message); output: \(record["output"]?.stringValue ?? "")")
                job.warnings.append(message)
            }
        }
        job.afterPublish = JSONWriter.string(.array(results))
    }

    /// Publishes `tileset` incrementally when its recipe allows and only appends happened
    /// (`IncrementalPublisher`), else in full, keeping the incremental state when wanted.
    private func publish(_ tileset: String, recipe: Recipe, outputs: [String]) throws -> (report: PublishReport, incremental: Bool) {
        let incremental = IncrementalPublisher(config: config, fileSystem: fileSystem)
        // The files are listed once: what the tiler reads is what the saved state names.
        let files = try incremental.files(of: recipe, list: sourceFiles)
        let wanted = incremental.wanted(recipe, isDefault: book.recipe(for: tileset) == nil)
        if wanted {
            let started = Date()
            let parts = { [store] (path: String) throws -> [(path: String, size: Int64)]? in
                try store.with { db throws(StorageError) in try db.compactionParts(merged: path) }
            }
            switch try incremental.publish(recipe: recipe, tileset: tileset, output: outputs[0], now: files, compactionParts: parts) {
            case .published(let report, let appended, let dirty):
                logger.info("tileset \(tileset): appended \(appended) feature(s) incrementally, \(dirty) tile(s) updated in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
                return (report, true)
            case .rebuild(let why):
                logger.info("tileset \(tileset): full rebuild: \(why)")
            }
        }
        var publisher = Publisher(memoryBudget: config.tilingMemory)
        let box = progress, stopping = stopping
        publisher.progress = { box.update($0) }
        publisher.shouldCancel = { stopping.isRaised }
        if wanted { publisher.incrementalState = [IncrementalPublisher.sourcesKey: IncrementalPublisher.encode(files)] }
        return (try publisher.publish(recipe: recipe, recipeDirectory: config.recipesDir, resolveSource: { source in
            guard let list = files[source] else { throw DaemonError.other("unknown source '\(source)'; use tiledrop://tileset-source/<map> or a file path") }
            return GeoJSONSeqSource(paths: list.map(\.path))
        }, outputPaths: outputs), false)
    }

    /// The committed source files of `tiledrop://tileset-source/<map>`, in ingest order.
    private func sourceFiles(_ source: String) throws -> [String] {
        guard let map = TilesetSourceURI.map(from: source) else {
            throw DaemonError.other("unknown source '\(source)'; use tiledrop://tileset-source/<map> or a file path")
        }
        return try store.with { db throws(StorageError) in try db.sourceFiles(map: map) }
    }

    /// The recipe `tileset` is published with: its recipe file, or the default recipe when
    /// `tileset` is a map that no recipe reads; nil when neither.
    private func recipe(for tileset: String) -> Recipe? {
        if let recipe = book.recipe(for: tileset) { return recipe }
        guard !book.hasFile(tileset), book.tilesets(using: tileset).isEmpty,
              ((try? store.with { db throws(StorageError) in try db.maps() }) ?? []).contains(where: { $0.id == tileset }) else { return nil }
        return Recipe.defaultRecipe(map: tileset, maxzoom: config.defaultMaxzoom)
    }
}
