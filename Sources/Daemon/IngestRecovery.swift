import Foundation
import Formats
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
        refreshIndexes()
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
    /// (MTS allows 10 files per source), keeping feature order and every feature's id.
    ///
    /// The merged file is written and fsynced under a new name; one transaction then points
    /// every ingest of the merged files at it (so duplicate detection keeps working) and
    /// advances the map's id counter; the old files are retired and deleted by the publish
    /// worker between jobs. Files are copied byte for byte, and their index rows move with
    /// them; lines written before ids existed get their `tiledrop_id` here (`stamp`), and
    /// such a merged file is indexed afresh.
    func compactIfNeeded(map: String) {
        guard let files = try? store.with({ db throws(StorageError) in try db.sourceFiles(map: map) }),
              files.count > config.maxSourceFiles else { return }
        let merged = paths.sourceFolder(map: map) + "/compact-" + UUID().uuidString.lowercased() + ".geojsonl"
        let temporary = paths.sourceFolder(map: map) + "/.compact.tmp"
        do {
            // The sizes before concatenating: the lineage an incremental publish reads. Kept
            // only for a byte-for-byte concatenation (no ids given on the way).
            let parts = try files.map { path throws(SystemError) in (path: path, size: try fileSystem.status(path)?.size ?? 0) }
            let index = try? indexer.synchronize(map: map, files: files, shouldStop: isStopping)
            let indexed = Dictionary(((try? index?.files()) ?? []).map { ($0.name, $0) }) { a, _ in a }
            let needsIDs = files.filter { indexed[FileSystem.name(of: $0)]?.withoutIDs != 0 }
            var ids = FeatureIDs(first: try indexer.nextFeatureID(map: map, index: index))
            try fileSystem.writeSynced(temporary) { fd throws(SystemError) in
                for file in files {
                    if needsIDs.contains(file) { try stamp(file, into: fd, outputName: temporary, ids: &ids) } else { try copy(file, into: fd, outputName: temporary) }
                }
            }
            let size = try fileSystem.status(temporary)?.size ?? 0
            try fileSystem.rename(temporary, to: merged)
            try fileSystem.syncDirectory(paths.sourceFolder(map: map))
            try store.with { db throws(StorageError) in
                try db.transaction { () throws(StorageError) in
                    try db.reassignSources(map: map, from: parts, to: merged, lineage: needsIDs.isEmpty)
                    try db.advanceFeatureIDs(map: map, to: ids.next)
                }
            }
            retiredSources.insert(contentsOf: files)
            if let index, needsIDs.isEmpty {
                do { try index.merge(files.map(FileSystem.name(of:)), into: FileSystem.name(of: merged), size: size) } catch {
                    logger.warning("map \(map): the source index could not follow the compaction (\(error)); it is rebuilt from the merged file")
                }
            }
            logger.info("map \(map): compacted \(files.count) source files into \(merged)"
                        + (ids.next > ids.first ? " (ids \(ids.first)–\(ids.next - 1) given to \(ids.next - ids.first) features written before ids existed)" : ""))
        } catch {
            try? fileSystem.remove(temporary)
            logger.error("map \(map): compaction failed, sources left as they are: \(error)")
        }
    }

    /// Copies `file` to `fd`; stops (ECANCELED) between 1 MiB chunks on shutdown or once
    /// `max_processing_seconds` have passed, leaving the sources as they were.
    private func copy(_ file: String, into fd: Int32, outputName: String) throws(SystemError) {
        try fileSystem.appendContents(of: file, to: fd, outputName: outputName, shouldContinue: compactionMayContinue())
    }

    /// Copies `file` to `fd` line by line, giving each line without a `tiledrop_id` the next
    /// id; every other byte is kept.
    private func stamp(_ file: String, into fd: Int32, outputName: String, ids: inout FeatureIDs) throws(SystemError) {
        let keepGoing = compactionMayContinue()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        do {
            let reader = try SourceLineReader(path: file)
            while try reader.nextRaw({ _, line in
                if SourceLineReader.decode(line)?.sourceID != nil {
                    out.append(contentsOf: line)
                } else {
                    out.append(contentsOf: SourceLineReader.stamped(line, sourceID: ids.assign(nil)))
                }
                out.append(0x0A)
                if out.count >= 1 << 20 {
                    guard keepGoing() else { throw SystemError(call: "copy (stopped)", target: file, errno: ECANCELED) }
                    try FileSystem.writeAll(fd, out[...], target: outputName)
                    out.removeAll(keepingCapacity: true)
                }
            }) {}
        } catch let error as SystemError {
            throw error
        } catch {
            throw SystemError(call: "read \(error)", target: file, errno: EIO)
        }
        try FileSystem.writeAll(fd, out[...], target: outputName)
    }

    private func compactionMayContinue() -> () -> Bool {
        let started = clock.now()
        return { [clock, isStopping, limit = config.maxProcessingSeconds] in !isStopping() && clock.now() - started <= limit }
    }
}
