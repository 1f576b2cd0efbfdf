import Storage
import SystemSupport

/// Retention (`retention_days`): what tiledrop keeps forever and what it prunes.
///
/// Without pruning, `state.db` gains a row per drop and per publish and `archive/` a copy of
/// every file, until the disk is full. Finished ingest and job rows and archived originals
/// older than the configured age are deleted, except what something still depends on (see
/// `StateDatabase.pruneFinished`). `failed/` and `quarantine/` are never pruned: a person
/// must look at those. Runs on the ingest queue, at start-up and then periodically.
extension IngestProcessor {
    /// How often the daemon prunes: hourly, or more often when the retention is shorter.
    static func retentionInterval(days: Double) -> Double {
        min(3600, max(1, days * 86_400 / 4))
    }

    /// Prunes rows and `archive/` files older than `retention_days` (nothing when it is 0).
    func pruneExpired() {
        guard config.retentionDays > 0 else { return }
        let cutoffMs = epochMilliseconds() - Int64(config.retentionDays * 86_400_000)
        do {
            let pruned = try store.with { db throws(StorageError) in try db.pruneFinished(before: cutoffMs) }
            if pruned.ingests + pruned.jobs > 0 {
                logger.info("retention: removed \(pruned.ingests) ingest and \(pruned.jobs) job records older than \(config.retentionDays) days")
            }
        } catch {
            logger.error("retention: cannot prune state.db, retried later: \(error)")
        }
        var files = 0
        for folder in (try? fileSystem.list(config.archiveDir)) ?? [] {
            let path = config.archiveDir + "/" + folder
            guard (try? fileSystem.status(path))??.kind == .directory else { continue }
            for name in (try? fileSystem.list(path)) ?? [] {
                let file = path + "/" + name
                guard (try? fileSystem.status(file))??.kind == .regular,
                      let arrived = try? fileSystem.changeTime(file), arrived / 1_000_000 < cutoffMs else { continue }
                do {
                    try fileSystem.remove(file)
                    files += 1
                } catch {
                    logger.error("retention: cannot remove \(file): \(error)")
                }
            }
        }
        if files > 0 { logger.info("retention: removed \(files) files from \(config.archiveDir) archived more than \(config.retentionDays) days ago") }
    }
}
