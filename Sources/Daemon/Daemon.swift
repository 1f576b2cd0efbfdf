import API
import Foundation
import HTTP
import Storage
import SystemSupport

/// The long-running service: the stages wired to the watcher, the state database and the socket.
///
/// One event-loop thread polls inotify and the signal pipe; it decides when drops are ready
/// and hands them to the serial ingest queue; ingests that change a source queue publish jobs
/// on the `PublishScheduler`'s queue. The HTTP server (`HTTP/HTTPServer`, routes from `API`)
/// runs its own event loop and workers over `DaemonBackend`. See README "How it works".
public final class Daemon {
    private var config: DaemonConfig
    private let configPath: String?
    private let rootOverride: String?
    private let signals: SignalSet
    private var logger: Logger
    private let fileSystem = FileSystem()
    private let clock = MonotonicClock()
    private let notifier: ServiceNotifier
    private let stopping = StopFlag()
    private let ready = StopFlag()
    private let inFlight = LockedStringSet()
    private let cancellations = LockedStringSet()
    private lazy var live = LiveStatusBox(compose: Daemon.liveComposer(notes: notes, misplaced: misplaced, inFlight: inFlight, settings: settings))
    /// The settings in force, shared with the workers; created once the root is canonical.
    private lazy var settings = SharedConfig(config)
    private let notes = StatusNotes()
    private let ingestQueue = DispatchQueue(label: "tiledrop.ingest")
    /// Reads recipes off the ingest and event-loop threads (issue 8: a recipe never blocks them).
    private let recipesQueue = DispatchQueue(label: "tiledrop.recipes")
    /// Recent files moved to failed/ because they were dropped outside a map folder.
    private let misplaced = RecentNotices(limit: 10)

    /// `signals` must have been created on the main thread before any other thread started.
    public init(config: DaemonConfig, configPath: String?, rootOverride: String?, signals: SignalSet,
                environment: [String: String]) {
        self.config = config
        self.configPath = configPath
        self.rootOverride = rootOverride
        self.signals = signals
        logger = Logger(level: config.logLevel, environment: environment)
        notifier = ServiceNotifier(environment: environment)
    }

    /// Runs until SIGTERM or SIGINT; returns the process exit code.
    public func run() throws(DaemonError) -> Int32 {
        do {
            // One spelling of the root for the whole run (`./R`, `R`, `R/` and `/abs/R` alike).
            try fileSystem.createDirectories(config.root)
            config.root = try fileSystem.canonicalPath(config.root)
            for dir in [config.dropDir, config.sourcesDir, config.tilesDir, config.recipesDir, config.archiveDir, config.failedDir] {
                try fileSystem.createDirectories(dir)
            }
        } catch { throw .system(error) }
        let lockPath = config.root + "/tiledrop.lock"
        let rootLock: FileLock
        do {
            rootLock = try FileLock(path: lockPath)
        } catch {
            if error.errno == EWOULDBLOCK { throw .alreadyRunning(root: config.root, pid: FileLock.holder(of: lockPath)) }
            throw .system(error)
        }
        defer { withExtendedLifetime(rootLock) {} }
        let store: StateStore
        do { store = try StateStore(path: config.statePath, root: config.root) } catch { throw .storage(error) }
        let watcher: DropWatcher
        do {
            watcher = try DropWatcher(dropDir: config.dropDir, settleSeconds: config.settleSeconds, fileSystem: fileSystem, logger: logger)
            try watcher.start(now: clock.now())
        } catch { throw .system(error) }

        let recipeWatcher: RecipeWatcher
        do { recipeWatcher = try RecipeWatcher(folder: config.recipesDir, logger: logger) } catch { throw .system(error) }
        let book = RecipeBook(config: config, fileSystem: fileSystem, logger: logger)
        _ = book.scan()
        let retired = LockedStringSet()
        let tilesetWriters = TilesetWriterLock()
        let settings = self.settings
        let publisher = PublishScheduler(config: config, settings: settings, store: store, fileSystem: fileSystem, logger: logger, retiredSources: retired, recipes: book,
                                         stopping: stopping, tilesetWriters: tilesetWriters)
        let stopping = self.stopping
        let processor = IngestProcessor(config: config, settings: settings, store: store, fileSystem: fileSystem, logger: logger, notes: notes,
                                        cancellations: cancellations, retiredSources: retired, tilesetWriters: tilesetWriters,
                                        onSourceChanged: { publisher.sourceChanged(map: $0) },
                                        isStopping: { stopping.isRaised })
        let server: HTTPServer
        do {
            try fileSystem.createDirectories(config.uploadsDir, mode: 0o700)
            var serverConfig = ServerConfiguration(listen: [.unix(path: config.socketPath, mode: 0o660)] + config.listen,
                                                   temporaryDirectory: config.uploadsDir)
            serverConfig.maxBodyBytes = config.maxFileBytes
            serverConfig.maxConnections = config.maxConnections
            serverConfig.corsOrigin = config.corsOrigin.isEmpty ? nil : config.corsOrigin
            let backend = DaemonBackend(config: config, live: live, cancellations: cancellations, logger: logger, recipes: book,
                                        jobProgress: publisher.progress, ready: ready)
            let desk = ServiceDesk(config: config, store: store, fileSystem: fileSystem, logger: logger, processor: processor,
                                   publisher: publisher, ingestQueue: ingestQueue, cancellations: cancellations, retiredSources: retired)
            let logger = self.logger
            let stats = ServerStats()
            server = try HTTPServer(configuration: serverConfig, router: APIRoutes.router(backend: backend, stats: stats, services: desk,
                                                                       rateLimit: config.rateLimit > 0 ? RateLimit(requests: config.rateLimit, intervalSeconds: config.rateLimitInterval) : nil),
                                    stats: stats,
                                    log: { logger.warning($0) })
        } catch { throw .system(error) }
        publisher.prepare()
        let recovered = ready
        ingestQueue.async {
            processor.recover()
            processor.pruneExpired()
            publisher.start()
            recovered.raise()
        }

        publishLive(watcher)
        server.start()
        logger.info("tiledrop \(TiledropVersion.string) watching \(config.dropDir) (\(watcher.maps.count) maps); HTTP on \(server.configuration.listen.map(\.description).joined(separator: ", "))")
        notifier.notify("READY=1\nSTATUS=\(summary(store: store, watcher: watcher))")

        var nextScan = clock.now() + config.scanIntervalSeconds
        var nextPoll = clock.now() + 2
        var nextPrune = clock.now() + IngestProcessor.retentionInterval(days: config.retentionDays)
        var nextWatchdog = clock.now()
        var nextStatusLine = clock.now() + 5
        while true {
            let now = clock.now()
            var deadline = min(nextScan, nextPoll, nextStatusLine, nextPrune)
            if let settle = watcher.nextDeadline() { deadline = min(deadline, settle) }
            if let recipes = recipeWatcher.deadline { deadline = min(deadline, recipes) }
            // The HTTP server reads the live snapshot without waking this loop: refresh it at
            // least twice a second, so the status never lags a finished ingest by seconds.
            deadline = min(deadline, now + 0.5)
            if notifier.watchdogInterval != nil { deadline = min(deadline, nextWatchdog) }
            let ready: Set<Int32>
            do {
                ready = try Poller().waitReadable([watcher.fileDescriptor, recipeWatcher.fileDescriptor, signals.fileDescriptor],
                                                  timeout: max(0.01, deadline - now))
            } catch { throw .system(error) }

            if ready.contains(signals.fileDescriptor) {
                var stop = false
                for signal in signals.readSignals() {
                    if signal == SIGHUP { reload(watcher: watcher) } else { stop = true }
                }
                if stop { break }
            }
            let now2 = clock.now()
            if ready.contains(watcher.fileDescriptor) {
                do { try watcher.handleEvents(now: now2) } catch { logger.error("inotify: \(error)") }
            }
            if ready.contains(recipeWatcher.fileDescriptor) { recipeWatcher.handleEvents(now: now2) }
            if recipeWatcher.due(now: now2) || now2 >= nextScan {
                recipesQueue.async { publisher.refreshRecipes() }
            }
            if now2 >= nextScan {
                nextScan = now2 + config.scanIntervalSeconds
                do { try watcher.rescan(now: now2) } catch { logger.error("safety scan failed: \(error)") }
            }
            if now2 >= nextPrune {
                nextPrune = now2 + IngestProcessor.retentionInterval(days: config.retentionDays)
                ingestQueue.async { processor.pruneExpired() }
            }
            if now2 >= nextPoll {
                nextPoll = now2 + 2
                watcher.scanPolledFolders(now: now2)
            }
            for candidate in watcher.takeReady(now: now2) where inFlight.insert(candidate.path) {
                let inFlight = self.inFlight
                if candidate.isMisplaced {
                    let misplaced = self.misplaced
                    ingestQueue.async {
                        defer { inFlight.remove(candidate.path) }
                        if let message = processor.rejectMisplaced(candidate) { misplaced.add(message) }
                    }
                    continue
                }
                ingestQueue.async {
                    defer { inFlight.remove(candidate.path) }
                    guard !stopping.isRaised else { return }
                    processor.ingest(candidate)
                }
            }
            if let interval = notifier.watchdogInterval, now2 >= nextWatchdog {
                notifier.notify("WATCHDOG=1")
                nextWatchdog = now2 + interval / 2
            }
            if now2 >= nextStatusLine {
                nextStatusLine = now2 + 5
                if notifier.isActive { notifier.notify("STATUS=\(summary(store: store, watcher: watcher))") }
            }
            publishLive(watcher)
        }

        logger.info("stopping: interrupting the current ingest and publish job")
        notifier.notify("STOPPING=1")
        stopping.raise()
        server.stop()
        ingestQueue.sync {}
        publisher.shutdown(waitingAtMost: 20)
        recipesQueue.sync {}
        logger.info("stopped")
        return 0
    }

    private func publishLive(_ watcher: DropWatcher) {
        live.set(LiveStatus(maps: watcher.maps, settling: watcher.pendingCount, warnings: Array(watcher.warnings.values).sorted()))
    }

    /// Completes the watcher's snapshot with what the workers change: queued drops, notes,
    /// misplaced files and the disk pause, read at the moment the status is asked for.
    private static func liveComposer(notes: StatusNotes, misplaced: RecentNotices, inFlight: LockedStringSet,
                                     settings: SharedConfig) -> @Sendable (LiveStatus) -> LiveStatus {
        let fileSystem = FileSystem()
        return { base in
            let (root, minFreeBytes) = (settings.current.root, settings.current.minFreeBytes)
            var s = base
            s.queuedDrops = inFlight.count
            s.warnings = base.warnings + notes.all + misplaced.all
            var paused = notes.get(DiskPause.noteKey)
            if paused == nil, let free = try? fileSystem.availableBytes(root), free < minFreeBytes {
                paused = "disk full: \(free) bytes free under \(root), below min_free_space (\(minFreeBytes))"
                s.warnings.append("ingestion paused: " + paused!)
            }
            s.pausedReason = paused
            return s
        }
    }

    private func summary(store: StateStore, watcher: DropWatcher) -> String {
        let counts = (try? store.with { db throws(StorageError) in (try db.ingestCounts(), try db.jobCounts()) })
        let ingests = counts?.0 ?? [:]
        let jobs = counts?.1 ?? [:]
        return "\(watcher.maps.count) maps; ingests \(ingests[.completed] ?? 0) completed, \(ingests[.failed] ?? 0) failed, \(ingests[.processing] ?? 0) processing; jobs \(jobs[.queued] ?? 0) queued, \(jobs[.processing] ?? 0) processing"
    }

    /// SIGHUP: re-reads the configuration file and applies what can change while running
    /// (`SharedConfig.reloadable`), logging each change; restart-only keys that changed are
    /// named and keep their running values. A file that does not load is refused as a whole.
    private func reload(watcher: DropWatcher) {
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(ServiceNotifier.monotonicMicroseconds())")
        let source = configPath ?? "the embedded defaults"
        do {
            var fresh = try DaemonConfig.load(path: configPath, rootOverride: rootOverride)
            // The root is compared in its canonical spelling, as it was resolved at start-up.
            fresh.root = (try? fileSystem.canonicalPath(fresh.root)) ?? fresh.root
            let outcome = settings.reload(from: fresh)
            config = settings.current
            watcher.settleSeconds = config.settleSeconds
            logger.level = config.logLevel
            let what = outcome.changed.isEmpty ? "nothing that applies while running changed" : outcome.changed.joined(separator: "; ")
            logger.info("reloaded configuration from \(source): \(what)")
            if !outcome.needRestart.isEmpty {
                logger.warning("reload: \(outcome.needRestart.joined(separator: ", ")) changed in \(source) but take effect only after a restart (systemctl restart tiledrop); the running values stay")
            }
        } catch {
            logger.error("reload refused, the running configuration is unchanged: \(error)")
        }
        notifier.notify("READY=1")
    }
}
