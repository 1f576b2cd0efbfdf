import API
import HTTP
import Foundation
import Storage
import SystemSupport

/// The daemon's side of the API's `Backend`: live state from the event loop, read-only
/// `state.db` connections for the server's workers, cancellation requests to the ingest worker.
final class DaemonBackend: Backend, @unchecked Sendable {
    private let config: DaemonConfig
    private let live: LiveStatusBox
    private let cancellations: LockedStringSet
    private let logger: Logger
    private let clock = MonotonicClock()
    private let startedAt: Double
    private let readers = NSLock()
    private var idle: [StateDatabase] = []
    private let recipes: RecipeBook
    private let jobProgress: JobProgressBox
    let authenticator: Authenticator
    private let ready: StopFlag

    init(config: DaemonConfig, live: LiveStatusBox, cancellations: LockedStringSet, logger: Logger, recipes: RecipeBook,
         jobProgress: JobProgressBox, ready: StopFlag = StopFlag()) {
        self.ready = ready
        self.recipes = recipes
        authenticator = Authenticator(store: TokenStore(path: config.tokensPath))
        self.jobProgress = jobProgress
        self.config = config
        self.live = live
        self.cancellations = cancellations
        self.logger = logger
        startedAt = clock.now()
    }

    func liveState() -> LiveState {
        let s = live.get()
        return LiveState(version: TiledropVersion.string, uptimeSeconds: clock.now() - startedAt, pid: Int(getpid()), root: config.root,
                         maps: s.maps, settling: s.settling, queuedDrops: s.queuedDrops, pausedReason: s.pausedReason,
                         warnings: s.warnings, recipes: recipes.statusJSON, activeJob: jobProgress.json)
    }

    /// Takes an idle read-only connection (or opens one), runs `body`, and puts it back; a
    /// connection that failed is dropped so the next call opens a fresh one.
    func read<T>(_ body: (StateDatabase) throws(StorageError) -> T) throws(StorageError) -> T {
        let reused = readers.withLock { idle.popLast() }
        let db: StateDatabase
        if let reused { db = reused } else { db = try StateDatabase(path: config.statePath, readOnly: true, root: config.root) }
        let result = try body(db)
        readers.withLock { if idle.count < 8 { idle.append(db) } }
        return result
    }

    var isReady: Bool { ready.isRaised }

    func requestCancel(ingest id: String) { cancellations.insert(id) }

    func tilesetPath(_ tileset: String) -> String {
        let tiles = config.tilesDir.hasPrefix("/") ? config.tilesDir : FileManager.default.currentDirectoryPath + "/" + config.tilesDir
        return tiles + "/" + tileset + ".mbtiles"
    }

    func tilesets(showing map: String) -> [String] {
        let fs = FileSystem()
        let named = recipes.recipe(for: map).map { MapPreviewWriter.maps(of: $0, tileset: map).contains(map) } ?? true
        let candidates = (named ? [map] : []) + recipes.tilesets(using: map).filter { $0 != map }
        return candidates.filter { (try? fs.status(tilesetPath($0)))?.kind == .regular }
    }

    var owner: String { config.owner ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName() }

    func publicURL(for request: Request) -> String {
        if let url = config.publicURL { return url.hasSuffix("/") ? String(url.dropLast()) : url }
        let proto = request.headers["X-Forwarded-Proto"]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "http"
        let host = request.headers["X-Forwarded-Host"]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
            ?? request.headers["Host"] ?? "localhost"
        // A Host header is client input: only a plain host[:port] goes into URLs.
        let safe = !host.isEmpty && host.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"/\\\"<>@?#".utf8.contains($0) }
        return (proto == "https" ? "https" : "http") + "://" + (safe ? host : "localhost")
    }

    func logInfo(_ message: String) { logger.info(message) }
}
