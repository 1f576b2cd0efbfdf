import Storage
import SystemSupport

/// The start-up sweep of `sources/`: files no committed ingest refers to are moved to
/// `quarantine/<map>/`, never deleted, and only when the records plausibly describe the folder.
///
/// A sweep that deletes on a mismatch is a mass-deletion waiting to happen (issue 8: a root
/// spelled differently made every stored path "unreferenced"). So a map whose records do not
/// match its folder — a referenced file is missing, or files are there but none is referenced,
/// or far more unreferenced files than compaction could leave behind — is not touched at all,
/// and the status says why until the next start finds the folder consistent.
struct SourceSweep {
    /// What the sweep found in one map's source folder.
    struct Census: Equatable {
        /// Referenced files that are present.
        var present: Int
        /// Referenced files that are missing (their paths).
        var missing: [String]
        /// Names in the folder nobody refers to.
        var unreferenced: [String]
    }

    /// Why the sweep must not touch this folder, or nil when it may quarantine `unreferenced`.
    ///
    /// Crashes legitimately leave unreferenced files: a source written but not committed,
    /// or the files a compaction (at most `maxSourceFiles` + 1) or a replace retired before the
    /// publish worker deleted them. More than that, or a missing referenced file, means the
    /// records and the folder disagree, and moving anything would make it worse.
    static func refusal(map: String, census: Census, maxSourceFiles: Int) -> String? {
        if let first = census.missing.first {
            return "source sweep refused for map \(map): \(census.missing.count) source file(s) state.db lists are missing (e.g. \(first)); nothing was moved. Restore the files or re-drop the map's data into drop/\(map)/_replace/"
        }
        guard !census.unreferenced.isEmpty else { return nil }
        if census.present == 0 {
            return "source sweep refused for map \(map): none of the \(census.unreferenced.count) file(s) in sources/\(map)/ is listed in state.db (was state.db replaced or the root moved?); nothing was moved"
        }
        if census.unreferenced.count > census.present + maxSourceFiles + 1 {
            return "source sweep refused for map \(map): \(census.unreferenced.count) of \(census.unreferenced.count + census.present) files in sources/\(map)/ are not listed in state.db; nothing was moved"
        }
        return nil
    }
}

extension IngestProcessor {
    /// Quarantines the unreferenced files of every map's source folder (see `SourceSweep`).
    func sweepUnreferencedSources() {
        for map in (try? fileSystem.list(config.sourcesDir)) ?? [] {
            let folder = paths.sourceFolder(map: map)
            guard (try? fileSystem.status(folder))??.kind == .directory else { continue }
            let referenced: [String]
            do {
                referenced = try store.with { db throws(StorageError) in try db.sourceFiles(map: map) }
            } catch {
                logger.error("recovery: cannot read the source files of map \(map), sweep skipped: \(error)")
                continue
            }
            let keep = Set(referenced)
            var census = SourceSweep.Census(present: 0, missing: [], unreferenced: [])
            var found = Set<String>()
            for name in (try? fileSystem.list(folder)) ?? [] {
                let path = folder + "/" + name
                if keep.contains(path) {
                    census.present += 1
                    found.insert(path)
                } else if SourceIndexer.isIndexFile(name) {
                    continue // the map's spatial index, a cache of the referenced files
                } else if name.hasPrefix(".") && name.hasSuffix(".tmp") {
                    try? fileSystem.remove(path) // our own interrupted write (source or compaction)
                } else {
                    census.unreferenced.append(name)
                }
            }
            census.missing = referenced.filter { !found.contains($0) }
            if let refusal = SourceSweep.refusal(map: map, census: census, maxSourceFiles: config.maxSourceFiles) {
                notes.set("sweep/" + map, refusal)
                logger.error(refusal)
                continue
            }
            notes.set("sweep/" + map, nil)
            guard !census.unreferenced.isEmpty else { continue }
            let quarantine = paths.quarantineFolder(map: map)
            for name in census.unreferenced {
                do {
                    try fileSystem.createDirectories(quarantine)
                    let target = paths.unusedPath(in: quarantine, name: name, fileSystem: fileSystem)
                    try fileSystem.rename(folder + "/" + name, to: target)
                    logger.warning("moved \(folder)/\(name) to \(target): no committed ingest refers to it (delete it once you are sure it is not needed)")
                } catch {
                    logger.error("cannot quarantine \(folder)/\(name), left in place: \(error)")
                }
            }
            try? fileSystem.syncDirectory(quarantine)
        }
    }
}
