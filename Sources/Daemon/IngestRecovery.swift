import Foundation
import Storage
import SystemSupport

/// Start-up recovery and source compaction for `IngestProcessor`.
///
/// Every file the processor writes carries the ingest id in its name, so after a crash the
/// records in `state.db` say exactly what to finish, what to redo and what to delete.
extension IngestProcessor {
    /// Resumes every unfinished ingest, completes interrupted archive/failed moves, re-drops
    /// orphaned work files, and quarantines source files no committed ingest refers to.
    func recover() {
        let unfinished: [IngestRecord]
        do {
            unfinished = try store.with { db throws(StorageError) in try db.unfinishedIngests() }
        } catch {
            logger.error("recovery: cannot read unfinished ingests, they resume at the next start: \(error)")
            return
        }
        for var record in unfinished {
            try? fileSystem.remove(paths.temporarySourceFile(map: record.map, id: record.id))
            try? fileSystem.remove(paths.sourceFile(map: record.map, id: record.id))
            if (try? fileSystem.status(record.workPath)) == nil {
                if record.state == .upload && UploadNames.isResumablePart(record.originalPath) {
                    continue  // a MapTiler upload still arriving: it resumes where it stopped
                }
                if (try? fileSystem.status(record.originalPath)) != nil {
                    do {
                        try fileSystem.rename(record.originalPath, to: record.workPath)
                    } catch {
                        logger.error("ingest \(record.id): cannot re-claim \(record.originalPath): \(error)")
                        continue
                    }
                } else {
                    record.state = .canceled
                    record.errors = ["the dropped file disappeared before it was read"]
                    record.updatedAt = epochMilliseconds()
                    try? store.with { db throws(StorageError) in try db.updateIngest(record) }
                    continue
                }
            }
            logger.info("ingest \(record.id): resuming \(record.filename) after a restart")
            if record.attempts >= IngestProcessor.maxAttempts {
                fail(&record, message: "processing was interrupted \(record.attempts) times (the daemon crashed or was killed while converting this file), so it is set aside instead of being retried again; check the file (or the log around those crashes), then drop it again")
                continue
            }
            process(record)
        }
        finishLeftoverWorkFiles()
        removeAbandonedUploads(keeping: Set(unfinished.map(\.originalPath)))
        sweepUnreferencedSources()
    }

    /// Deletes API uploads a crash cut off before they were recorded (`.upload-*` files in
    /// `drop/<map>/` from an earlier run that no unfinished ingest names): they were never
    /// acknowledged to a client. Uploads of this run (the server may already be taking one) stay.
    private func removeAbandonedUploads(keeping: Set<String>) {
        for map in (try? fileSystem.list(config.dropDir)) ?? [] {
            let folder = config.dropDir + "/" + map
            for name in (try? fileSystem.list(folder)) ?? [] where UploadNames.isUpload(name) && !keeping.contains(folder + "/" + name) {
                guard let status = try? fileSystem.status(folder + "/" + name), status.modified < startedAtNanoseconds else { continue }
                logger.info("removing \(folder)/\(name): an API upload interrupted before it was recorded")
                try? fileSystem.remove(folder + "/" + name)
            }
        }
    }

    private func finishLeftoverWorkFiles() {
        for map in (try? fileSystem.list(config.dropDir)) ?? [] {
            let folder = paths.workFolder(folder: map)
            for name in (try? fileSystem.list(folder)) ?? [] {
                guard let separator = name.range(of: "--") else { continue }
                let id = String(name[..<separator.lowerBound])
                let original = String(name[separator.upperBound...])
                let record: IngestRecord?
                do {
                    record = try store.with { db throws(StorageError) in try db.ingest(id: id) }
                } catch {
                    // Unknown is not "no record": re-dropping it could ingest the file twice.
                    logger.error("recovery: cannot look up ingest \(id), leaving \(folder)/\(name) for the next start: \(error)")
                    continue
                }
                switch record?.state {
                case .completed?: finishCompleted(record!)
                case .failed?, .canceled?: finishFailed(record!)
                case .upload?, .processing?: continue
                case nil:
                    let target = paths.unusedPath(in: config.dropDir + "/" + map, name: original, fileSystem: fileSystem)
                    logger.warning("work file \(folder)/\(name) has no ingest record; dropping it again as \(target)")
                    try? fileSystem.rename(folder + "/" + name, to: target)
                }
            }
        }
    }

    /// Merges a map's source files into one when there are more than `max_source_files`
    /// (MTS allows 10 files per source), keeping feature order.
    ///
    /// The merged file is written and fsynced under a new name; one transaction then points
    /// every ingest of the merged files at it (so duplicate detection keeps working); the old
    /// files are retired and deleted by the publish worker between jobs.
    func compactIfNeeded(map: String) {
        guard let files = try? store.with({ db throws(StorageError) in try db.sourceFiles(map: map) }),
              files.count > config.maxSourceFiles else { return }
        let merged = paths.sourceFolder(map: map) + "/compact-" + UUID().uuidString.lowercased() + ".geojsonl"
        let temporary = paths.sourceFolder(map: map) + "/.compact.tmp"
        do {
            // The sizes before concatenating: the lineage an incremental publish reads.
            let parts = try files.map { path throws(SystemError) in (path: path, size: try fileSystem.status(path)?.size ?? 0) }
            try concatenate(files, into: temporary)
            try fileSystem.rename(temporary, to: merged)
            try fileSystem.syncDirectory(paths.sourceFolder(map: map))
            try store.with { db throws(StorageError) in
                try db.transaction { () throws(StorageError) in try db.reassignSources(map: map, from: parts, to: merged) }
            }
            retiredSources.insert(contentsOf: files)
            logger.info("map \(map): compacted \(files.count) source files into \(merged)")
        } catch {
            try? fileSystem.remove(temporary)
            logger.error("map \(map): compaction failed, sources left as they are: \(error)")
        }
    }

    /// Copies `files` one after another into `path`; stops (ECANCELED) between 1 MiB chunks on
    /// shutdown or once `max_processing_seconds` have passed, leaving the sources as they were.
    private func concatenate(_ files: [String], into path: String) throws(SystemError) {
        let started = clock.now()
        let keepGoing = { [clock, isStopping, limit = config.maxProcessingSeconds] in !isStopping() && clock.now() - started <= limit }
        try fileSystem.writeSynced(path) { fd throws(SystemError) in
            for file in files { try fileSystem.appendContents(of: file, to: fd, outputName: path, shouldContinue: keepGoing) }
        }
    }
}
