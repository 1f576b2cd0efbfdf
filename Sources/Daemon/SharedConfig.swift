import Foundation

/// The configuration in force, shared by reference between the event loop and the workers, so
/// that a SIGHUP reload reaches every component at once (README "Configuration").
///
/// Components read `current` each time they need a setting instead of keeping a copy. Only the
/// keys in `reloadable` change while running; the others (`restartOnly`) are bound at start-up
/// (the root, the sockets the server listens on, …) and keep their values until a restart.
final class SharedConfig: @unchecked Sendable {
    private var value: DaemonConfig
    private let lock = NSLock()

    init(_ config: DaemonConfig) { value = config }

    var current: DaemonConfig {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    /// One configuration key and how its value reads in a log line.
    struct Key: Sendable {
        let name: String
        let show: @Sendable (DaemonConfig) -> String
    }

    /// Keys a reload applies at once (`settle_seconds` … `carto_layergroup_ttl`).
    static let reloadable: [Key] = [
        Key(name: "settle_seconds") { "\($0.settleSeconds)" },
        Key(name: "scan_interval_seconds") { "\($0.scanIntervalSeconds)" },
        Key(name: "log_level") { $0.logLevel.rawValue },
        Key(name: "after_success") { $0.afterSuccess },
        Key(name: "max_file_size") { "\($0.maxFileBytes)" },
        Key(name: "max_processing_seconds") { "\($0.maxProcessingSeconds)" },
        Key(name: "max_source_files") { "\($0.maxSourceFiles)" },
        Key(name: "max_source_size") { "\($0.maxSourceBytes)" },
        Key(name: "min_free_space") { "\($0.minFreeBytes)" },
        Key(name: "tiling_memory") { "\($0.tilingMemory)" },
        Key(name: "owner") { $0.owner ?? "(the daemon's user)" },
        Key(name: "retention_days") { "\($0.retentionDays)" },
        Key(name: "default_maxzoom") { $0.defaultMaxzoom.map(String.init) ?? "auto" },
        Key(name: "outputs") { $0.outputs.map(\.rawValue).joined(separator: ", ") },
        Key(name: "after_publish") { $0.afterPublish?.joined(separator: " ") ?? "(none)" },
        Key(name: "after_publish_timeout") { "\($0.afterPublishTimeout)" },
        Key(name: "preview_interval") { "\($0.previewInterval)" },
        Key(name: "carto_layergroup_ttl") { "\($0.cartoLayerGroupTTL)" },
    ]

    /// Keys bound at start-up: a changed value is reported and waits for a restart.
    static let restartOnly: [Key] = [
        Key(name: "root") { $0.root },
        Key(name: "socket") { $0.socketPath },
        Key(name: "listen") { $0.listen.map(\.description).joined(separator: ", ") },
        Key(name: "max_connections") { "\($0.maxConnections)" },
        Key(name: "cors_origin") { $0.corsOrigin },
        Key(name: "background_nice") { "\($0.backgroundNice)" },
        Key(name: "public_url") { $0.publicURL ?? "" },
        Key(name: "tokens_file") { $0.tokensPath },
        Key(name: "rate_limit") { "\($0.rateLimit)" },
        Key(name: "rate_limit_interval") { "\($0.rateLimitInterval)" },
        Key(name: "background_scheduling") { $0.backgroundIdle ? "idle" : "nice" },
        Key(name: "recipe_source_folders") { $0.recipeSourceFolders.joined(separator: ", ") },
    ]

    /// What a reload did: `changed` lines (`key old → new`) now in force, and the names of
    /// restart-only keys whose new value waits for a restart.
    struct Reload {
        var changed: [String]
        var needRestart: [String]
    }

    /// Applies the reloadable keys of `fresh` (a configuration that loaded without error).
    func reload(from fresh: DaemonConfig) -> Reload {
        lock.lock()
        defer { lock.unlock() }
        let old = value
        var merged = old
        merged.settleSeconds = fresh.settleSeconds
        merged.scanIntervalSeconds = fresh.scanIntervalSeconds
        merged.logLevel = fresh.logLevel
        merged.afterSuccess = fresh.afterSuccess
        merged.maxFileBytes = fresh.maxFileBytes
        merged.maxProcessingSeconds = fresh.maxProcessingSeconds
        merged.maxSourceFiles = fresh.maxSourceFiles
        merged.maxSourceBytes = fresh.maxSourceBytes
        merged.minFreeBytes = fresh.minFreeBytes
        merged.tilingMemory = fresh.tilingMemory
        merged.owner = fresh.owner
        merged.retentionDays = fresh.retentionDays
        merged.defaultMaxzoom = fresh.defaultMaxzoom
        merged.outputs = fresh.outputs
        merged.afterPublish = fresh.afterPublish
        merged.afterPublishTimeout = fresh.afterPublishTimeout
        merged.previewInterval = fresh.previewInterval
        merged.cartoLayerGroupTTL = fresh.cartoLayerGroupTTL
        value = merged
        return Reload(changed: SharedConfig.reloadable.compactMap { key in
                          key.show(old) == key.show(merged) ? nil : "\(key.name) \(key.show(old)) → \(key.show(merged))"
                      },
                      needRestart: SharedConfig.restartOnly.filter { $0.show(old) != $0.show(fresh) }.map(\.name))
    }
}
