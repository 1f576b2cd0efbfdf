import Storage
import SystemSupport
import Tiling

/// The daemon's settings: the embedded defaults, overridden by `/etc/tiledrop/tiledrop.conf`.
///
/// The file holds `key = value` lines; `#` starts a comment. Every key is optional; an
/// unknown key or a bad value is an error naming the line, so a typo never silently falls
/// back to a default. `etc/tiledrop/tiledrop.conf` in the repository documents each key.
public struct DaemonConfig: Sendable, Equatable {
    public var root: String = "./tiledrop-data"
    /// Socket path; defaults to `<root>/tiledrop.sock`.
    public var socket: String?
    /// Seconds a file must stay unchanged (size, mtime) before it is ingested.
    public var settleSeconds: Double = 2
    /// Seconds between safety scans of every drop folder (inotify can miss events on some filesystems).
    public var scanIntervalSeconds: Double = 30
    /// What happens to an original after a successful ingest: `archive` or `delete`.
    public var afterSuccess: String = "archive"
    /// Largest file accepted (MTS: 20 GB per source file).
    public var maxFileBytes: Int64 = 20_000_000_000
    /// Longest an ingest may take before it is failed (MapHub's limit is 2 minutes; ours is larger).
    public var maxProcessingSeconds: Double = 1800
    /// Most source files per map before they are compacted into one (MTS: 10).
    public var maxSourceFiles: Int = 10
    /// Largest total source size per map (MTS: 50 GB).
    public var maxSourceBytes: Int64 = 50_000_000_000
    /// Ingestion pauses while the root's filesystem has less free space than this.
    public var minFreeBytes: Int64 = 256_000_000
    /// Memory a publish may hold for tiling (`tiling_memory`): records spill to a temporary
    /// file and zooms are cut in bands beyond it.
    public var tilingMemory: Int = TilingMemory.defaultBudget
    /// Owner recorded on maps (MapHub `owner`); defaults to the daemon's user.
    public var owner: String?
    public var logLevel: LogLevel = .info
    /// Days after which finished ingest and job rows and `archive/` files are pruned (0 keeps them forever).
    public var retentionDays: Double = 30
    /// The containers each publish writes into `tiles/`: MBTiles, PMTiles, or both.
    public var outputs: [TileArchiveFormat] = [.mbtiles]
    /// The `after_publish` command's words (`%f` = the published file), nil for none.
    public var afterPublish: [String]?
    /// Longest the `after_publish` command may run per file before it is killed.
    public var afterPublishTimeout: Double = 300
    /// Shortest time between two map previews of a tileset after incremental publishes.
    public var previewInterval: Double = 30
    /// TCP addresses (`host:port`) the HTTP server listens on besides the Unix socket; none by default.
    public var listen: [ListenAddress] = []
    /// Most open HTTP connections (clamped below the descriptor limit).
    public var maxConnections: Int = 4096
    /// `scheme://host[:port]` used in URLs the API returns (TileJSON `tiles`); default: from the request.
    public var publicURL: String?
    /// The API tokens file; default `<root>/tokens`.
    public var tokensFile: String?
    /// The nice value ingest and publish work runs at (`background_nice`, 0–19): above the HTTP
    /// server's threads, so tile reads keep their CPU time while a publish runs.
    public var backgroundNice: Int32 = ThreadPriority.background
    /// `background_scheduling`: `idle` (default) also runs ingest and publish threads under
    /// Linux `SCHED_IDLE`, so they get CPU time only when the server's threads leave some;
    /// `nice` uses `background_nice` alone.
    public var backgroundIdle = true
    /// How ingest and publish threads are scheduled (`background_nice`, `background_scheduling`).
    public var background: ThreadPriority.Background { ThreadPriority.Background(nice: backgroundNice, idle: backgroundIdle) }
    /// Requests one API token may make per `rateLimitInterval` seconds (429 beyond); 0 is off.
    public var rateLimit: Int = 0
    public var rateLimitInterval: Int = 60
    /// `Access-Control-Allow-Origin` for browser clients; empty turns CORS headers off.
    public var corsOrigin: String = "*"
    /// The maxzoom of the default recipe a map without a recipe gets (minzoom is 0); nil is
    /// `auto`: chosen from the data, as tippecanoe's `-zg` does (`Tiling.ZoomGuess`).
    public var defaultMaxzoom: Int? = nil
    /// Folders besides the root whose files daemon recipes may name as file sources.
    public var recipeSourceFolders: [String] = []
    /// Seconds a CARTO layer group may go unused before it is deleted (`carto_layergroup_ttl`).
    public var cartoLayerGroupTTL: Double = 7 * 86_400
    /// Publish appends to maps with the default recipe incrementally (recipes opt in with
    /// MTS's `"incremental": true`); `incremental = off` always rebuilds.
    public var incremental = true
    /// An append touching more than this share of a tileset's tiles rebuilds it instead.
    public var incrementalMaxShare = 0.25

    public init(root: String = "./tiledrop-data") { self.root = root }

    public var dropDir: String { root + "/drop" }
    public var sourcesDir: String { root + "/sources" }
    public var tilesDir: String { root + "/tiles" }
    public var recipesDir: String { root + "/recipes" }
    public var archiveDir: String { root + "/archive" }
    public var failedDir: String { root + "/failed" }
    /// `previews/<map>.png`: the picture of each map, rendered after each publish.
    public var previewsDir: String { root + "/previews" }
    /// Source files the start-up sweep found unreferenced; moved here, never deleted.
    public var quarantineDir: String { root + "/quarantine" }
    public var statePath: String { root + "/state.db" }
    public var socketPath: String { socket ?? root + "/tiledrop.sock" }
    /// Where the HTTP server streams request bodies (same filesystem as the drop folders).
    public var uploadsDir: String { root + "/tmp" }
    public var tokensPath: String { tokensFile ?? root + "/tokens" }

    /// Reads `path` (when given) over the defaults; `rootOverride` (from `--root`) wins over the file.
    public static func load(path: String?, rootOverride: String?, fileSystem: FileSystem = FileSystem()) throws(DaemonError) -> DaemonConfig {
        var config = DaemonConfig()
        if let path {
            let bytes: [UInt8]
            do { bytes = try fileSystem.readFile(path, maxBytes: 1 << 20) } catch { throw .system(error) }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .config(file: path, line: 1, message: "the file is not valid UTF-8")
            }
            for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                let trimmed = line.trimmingSpaces
                if trimmed.isEmpty { continue }
                guard let eq = trimmed.firstIndex(of: "=") else {
                    throw .config(file: path, line: index + 1, message: "expected 'key = value', found '\(trimmed)'")
                }
                let key = String(trimmed[..<eq]).trimmingSpaces
                let value = String(trimmed[trimmed.index(after: eq)...]).trimmingSpaces.unquoted
                do throws(ConfigValueError) {
                    try config.set(key, value)
                } catch {
                    throw .config(file: path, line: index + 1, message: error.message)
                }
            }
        }
        if let rootOverride { config.root = rootOverride }
        return config
    }

    struct ConfigValueError: Error, Equatable { var message: String }

    private mutating func set(_ key: String, _ value: String) throws(ConfigValueError) {
        switch key {
        case "root": root = value
        case "socket": socket = value
        case "settle_seconds": settleSeconds = try Self.seconds(key, value)
        case "scan_interval_seconds": scanIntervalSeconds = try Self.seconds(key, value)
        case "after_success":
            guard value == "archive" || value == "delete" else {
                throw ConfigValueError(message: "after_success must be 'archive' or 'delete', not '\(value)'")
            }
            afterSuccess = value
        case "max_file_size": maxFileBytes = try Self.bytes(key, value)
        case "max_processing_seconds": maxProcessingSeconds = try Self.seconds(key, value)
        case "max_source_files":
            guard let n = Int(value), n >= 1 else { throw ConfigValueError(message: "max_source_files must be a whole number ≥ 1") }
            maxSourceFiles = n
        case "max_source_size": maxSourceBytes = try Self.bytes(key, value)
        case "min_free_space": minFreeBytes = try Self.bytes(key, value)
        case "tiling_memory":
            let n = try Self.bytes(key, value)
            guard n >= Int64(TilingMemory.minimumBudget) else { throw ConfigValueError(message: "tiling_memory must be at least 32M, not '\(value)'") }
            tilingMemory = Int(n)
        case "owner": owner = value
        case "retention_days":
            guard let d = Double(value), d.isFinite, d >= 0 else {
                throw ConfigValueError(message: "retention_days must be a number of days ≥ 0 (0 keeps everything forever), not '\(value)'")
            }
            retentionDays = d
        case "listen":
            var addresses: [ListenAddress] = []
            for item in value.split(whereSeparator: { $0 == "," || $0 == " " }) {
                guard let a = ListenAddress.parseTCP(String(item)) else {
                    throw ConfigValueError(message: "listen must be one or more host:port (such as 127.0.0.1:8080), not '\(item)'")
                }
                addresses.append(a)
            }
            listen = addresses
        case "max_connections":
            guard let n = Int(value), n >= 16 else { throw ConfigValueError(message: "max_connections must be a whole number ≥ 16") }
            maxConnections = n
        case "cors_origin": corsOrigin = value
        case "rate_limit":
            guard let n = value == "off" ? 0 : Int(value), n >= 0 else {
                throw ConfigValueError(message: "rate_limit must be the requests one token may make per rate_limit_interval (a whole number; 0 or off turns it off), not '\(value)'")
            }
            rateLimit = n
        case "background_nice":
            guard let n = Int32(value), (0...19).contains(n) else {
                throw ConfigValueError(message: "background_nice must be a nice value from 0 (as the server) to 19 (lowest), default 10, not '\(value)'")
            }
            backgroundNice = n
        case "background_scheduling":
            switch value.lowercased() {
            case "idle": backgroundIdle = true
            case "nice": backgroundIdle = false
            default: throw ConfigValueError(message: "background_scheduling must be idle (SCHED_IDLE: ingest and publish get CPU time only when the server leaves some; the default) or nice (background_nice alone), not '\(value)'")
            }
        case "rate_limit_interval":
            guard let n = Int(value), (1...86_400).contains(n) else {
                throw ConfigValueError(message: "rate_limit_interval must be whole seconds from 1 to 86400 (default 60), not '\(value)'")
            }
            rateLimitInterval = n
        case "tokens_file": tokensFile = value
        case "public_url":
            guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
                throw ConfigValueError(message: "public_url must start with http:// or https://, such as https://tiles.example.org")
            }
            publicURL = value
        case "default_maxzoom":
            if value == "auto" {
                defaultMaxzoom = nil
            } else {
                guard let z = Int(value), (0...16).contains(z) else {
                    throw ConfigValueError(message: "default_maxzoom must be 'auto' or a zoom level from 0 to 16, not '\(value)'")
                }
                defaultMaxzoom = z
            }
        case "incremental":
            switch value.lowercased() {
            case "on", "true", "yes": incremental = true
            case "off", "false", "no": incremental = false
            default: throw ConfigValueError(message: "incremental must be on or off, not '\(value)'")
            }
        case "incremental_max_share":
            guard let share = Double(value), share > 0, share <= 1 else {
                throw ConfigValueError(message: "incremental_max_share must be a fraction of the tileset's tiles above 0 and at most 1 (such as 0.25), not '\(value)'")
            }
            incrementalMaxShare = share
        case "recipe_source_folders":
            let folders = value.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
            if let relative = folders.first(where: { !$0.hasPrefix("/") }) {
                throw ConfigValueError(message: "recipe_source_folders must list absolute folders separated by commas; '\(relative)' is relative")
            }
            recipeSourceFolders = folders
        case "outputs":
            var formats: [TileArchiveFormat] = []
            for word in value.split(whereSeparator: { $0 == "," || $0 == " " }) {
                guard let format = TileArchiveFormat(rawValue: String(word).lowercased()) else {
                    throw ConfigValueError(message: "outputs lists '\(word)'; use mbtiles, pmtiles or both (outputs = mbtiles, pmtiles)")
                }
                if !formats.contains(format) { formats.append(format) }
            }
            guard !formats.isEmpty else { throw ConfigValueError(message: "outputs needs at least one of mbtiles, pmtiles") }
            outputs = formats
        case "after_publish":
            if value.isEmpty {
                afterPublish = nil
            } else {
                switch AfterPublishHook.parse(value) {
                case .success(let words): afterPublish = words
                case .failure(let error): throw error
                }
            }
        case "after_publish_timeout": afterPublishTimeout = try Self.seconds(key, value)
        case "preview_interval": previewInterval = try Self.seconds(key, value)
        case "carto_layergroup_ttl":
            let ttl = try Self.seconds(key, value)
            guard ttl >= 1 else { throw ConfigValueError(message: "carto_layergroup_ttl must be at least 1 second, not '\(value)'") }
            cartoLayerGroupTTL = ttl
        case "log_level":
            guard let l = LogLevel(rawValue: value) else {
                throw ConfigValueError(message: "log_level must be one of debug, info, warning, error")
            }
            logLevel = l
        default:
            throw ConfigValueError(message: "unknown setting '\(key)'; see etc/tiledrop/tiledrop.conf for the valid keys")
        }
    }

    private static func seconds(_ key: String, _ value: String) throws(ConfigValueError) -> Double {
        guard let d = Double(value), d.isFinite, d >= 0 else {
            throw ConfigValueError(message: "\(key) must be a number of seconds ≥ 0, not '\(value)'")
        }
        return d
    }

    /// A size such as `512M` in bytes, or nil when it is not one (for command-line options).
    public static func byteCount(_ value: String) -> Int64? { try? bytes("size", value) }

    /// Parses sizes like `500`, `64K`, `15MB`, `20G` (powers of 1000, as MTS states its limits).
    static func bytes(_ key: String, _ value: String) throws(ConfigValueError) -> Int64 {
        let upper = value.uppercased().replacing("B", with: "").trimmingSpaces
        let multipliers: [Character: Int64] = ["K": 1_000, "M": 1_000_000, "G": 1_000_000_000, "T": 1_000_000_000_000]
        var digits = upper
        var multiplier: Int64 = 1
        if let last = upper.last, let m = multipliers[last] {
            multiplier = m
            digits = String(upper.dropLast()).trimmingSpaces
        }
        guard let n = Double(digits), n >= 0, n * Double(multiplier) < 9e18 else {
            throw ConfigValueError(message: "\(key) must be a size such as 500M or 20G, not '\(value)'")
        }
        return Int64(n * Double(multiplier))
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }

    var unquoted: String {
        if count >= 2, let f = first, let l = last, f == l, f == "\"" || f == "'" { return String(dropFirst().dropLast()) }
        return String(self)
    }
}
