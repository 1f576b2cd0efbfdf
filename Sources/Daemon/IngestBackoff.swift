import Storage
import SystemSupport

/// Backing off instead of failing good files: a full disk or a temporary system error puts the
/// file back in its drop folder and pauses claiming (`DiskPause`) until retrying makes sense.
extension IngestProcessor {
    /// False (the file stays where it is) while ingestion is paused for disk space; see `DiskPause`.
    /// Logs only when a pause begins or ends, never once per scan.
    func admitDespiteDiskSpace(_ path: String) -> Bool {
        let free = (try? fileSystem.availableBytes(config.root)) ?? Int64.max
        let now = clock.now()
        if let pause = diskPause {
            guard pause.allowsRetry(now: now, free: free, minimum: config.minFreeBytes) else { return false }
            logger.info(pause.temporary == nil ? "free space grew to \(free) bytes; retrying ingestion" : "retrying ingestion after a temporary error")
            diskPause = nil
            notes.set(DiskPause.noteKey, nil)
            return true
        }
        guard free < config.minFreeBytes else { return true }
        pause(DiskPause.after(previousDelay: diskBackoff, now: now, free: free, needed: config.minFreeBytes))
        logger.warning("only \(free) bytes free under \(config.root) (min_free_space is \(config.minFreeBytes)); ingestion paused, \(path) stays in place")
        return false
    }

    func pause(_ pause: DiskPause) {
        diskPause = pause
        diskBackoff = pause.delay
        notes.set(DiskPause.noteKey, pause.reason(root: config.root))
    }

    /// A full disk is not the file's fault: the original goes back to where it was dropped and
    /// the ingest is canceled; it is retried once space has grown (`DiskPause`).
    /// `temporary` (EMFILE, ENFILE, EIO): retried after the back-off delay whatever the free space.
    func putBack(_ record: inout IngestRecord, reason: String, temporary: Bool) {
        let free = (try? fileSystem.availableBytes(config.root)) ?? 0
        var pause = DiskPause.after(previousDelay: diskBackoff, now: clock.now(), free: free, needed: record.size + config.minFreeBytes)
        if temporary { pause.temporary = reason }
        self.pause(pause)
        do {
            // Never over a file dropped meanwhile under the same name.
            let back = paths.unusedPath(in: FileSystem.parent(of: record.originalPath), name: record.filename, fileSystem: fileSystem)
            try fileSystem.rename(record.workPath, to: back)
            record.state = .canceled
            record.errors = ["\(reason); the file was put back in its drop folder and is retried \(temporary ? "in \(Int(pause.delay)) s" : "once space is free")"]
            record.updatedAt = epochMilliseconds()
            _ = save(record)
            logger.warning("ingest \(record.id): \(record.errors[0])")
        } catch {
            fail(&record, message: "\(reason), and the file could not be put back: \(error)")
        }
    }

}
