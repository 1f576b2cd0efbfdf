import GeoModel
import HTTP
import Storage

/// What only the running daemon knows (not in `state.db`), as the operator routes report it.
public struct LiveState: Sendable {
    public var version: String
    public var uptimeSeconds: Double
    public var pid: Int
    public var root: String
    /// Watched maps (folders under `drop/`).
    public var maps: [String]
    /// Files waiting to settle, and ready files queued for ingest.
    public var settling: Int
    public var queuedDrops: Int
    /// Why ingestion is paused (disk full, …); nil while it runs.
    public var pausedReason: String?
    public var warnings: [String]
    /// One entry per recipe file (`tileset`, `valid`, `errors`, `in_use`).
    public var recipes: JSONValue
    /// The running publish job (`tileset`, `job`, `progress`, `seconds`), or null.
    public var activeJob: JSONValue

    public init(version: String, uptimeSeconds: Double, pid: Int, root: String, maps: [String], settling: Int,
                queuedDrops: Int, pausedReason: String?, warnings: [String], recipes: JSONValue = .array([]), activeJob: JSONValue = .null) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.pid = pid
        self.root = root
        self.maps = maps
        self.settling = settling
        self.queuedDrops = queuedDrops
        self.pausedReason = pausedReason
        self.warnings = warnings
        self.recipes = recipes
        self.activeJob = activeJob
    }
}

/// The daemon as the API routes see it. `Daemon` implements it; each service's routes
/// (`API/<Service>/`) use only this, so they can be read against their seed without the
/// daemon's internals, and tested against a real daemon's backend on a temporary root.
///
/// Methods are called from the server's worker threads, concurrently.
public protocol Backend: AnyObject, Sendable {
    /// Checks API tokens (`tokens_file`); routes call `authenticator.require(scope, of:)`.
    var authenticator: Authenticator { get }

    /// True once start-up recovery finished and the workers run (`GET /health` says 200).
    var isReady: Bool { get }

    /// The account the services answer for (`owner`); tilesets are served as `{owner}.{name}`.
    var owner: String { get }

    /// `scheme://host` for URLs in responses: `public_url` when set, else the request's
    /// `X-Forwarded-Proto`/`X-Forwarded-Host` (as a reverse proxy sends them) or `Host`.
    func publicURL(for request: Request) -> String

    /// A snapshot of the daemon's live state.
    func liveState() -> LiveState

    /// Runs `body` with a read-only connection to `state.db` that no other thread uses meanwhile.
    func read<T>(_ body: (StateDatabase) throws(StorageError) -> T) throws(StorageError) -> T

    /// Asks the ingest worker to cancel ingest `id` (it checks between features).
    func requestCancel(ingest id: String)

    /// The absolute path of the MBTiles file of `tileset` (it may not exist).
    func tilesetPath(_ tileset: String) -> String

    /// The tilesets that show map `map`, from the recipe records: the tileset named like the
    /// map (its default recipe) when it exists, then those whose recipe reads
    /// `tiledrop://tileset-source/<map>`. Only tilesets whose file exists are listed.
    func tilesets(showing map: String) -> [String]

    /// Writes an informational line to the daemon's log.
    func logInfo(_ message: String)
}
