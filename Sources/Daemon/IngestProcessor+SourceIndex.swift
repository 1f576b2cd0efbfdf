import Storage

/// The ingest worker's side of stable ids and the spatial index (issue 13).
extension IngestProcessor {
    var indexer: SourceIndexer { SourceIndexer(paths: paths, store: store, logger: logger) }

    /// The map's next stable id, before a new source is written: `state.db`'s counter (which
    /// start-up raised past the index's largest id, see `refreshIndexes`).
    func nextFeatureID(map: String) throws -> Int64 {
        try store.with { db throws(StorageError) in try db.nextFeatureID(map: map) }
    }

    /// Brings the map's index up to date after its source changed. The index is a cache:
    /// a failure is logged, and the next ingest, start or lookup catches up. With
    /// `checkingIDs` (at start-up) the map's id counter is raised past the largest id in the
    /// index, should `state.db` be older than the sources (restored from a backup).
    func refreshIndex(map: String, checkingIDs: Bool = false) {
        do {
            let files = try indexer.sourceFiles(map: map)
            if files.isEmpty { return indexer.remove(map: map) } // a map without features has no index
            let index = try indexer.synchronize(map: map, files: files, shouldStop: isStopping)
            guard checkingIDs else { return }
            let next = try indexer.nextFeatureID(map: map, index: index)
            if next > (try nextFeatureID(map: map)) {
                logger.warning("map \(map): state.db's next feature id is below the ids in the source; raised to \(next)")
                try store.with { db throws(StorageError) in try db.advanceFeatureIDs(map: map, to: next) }
            }
        } catch {
            logger.warning("map \(map): the source index could not be updated (\(error)); it catches up at the next change or lookup")
        }
    }

    /// At start-up: every map's index brought up to date (rebuilt where missing or damaged),
    /// and its id counter checked against it.
    func refreshIndexes() {
        let maps = (try? store.with { db throws(StorageError) in try db.maps() }) ?? []
        for map in maps where !isStopping() { refreshIndex(map: map.id, checkingIDs: true) }
    }
}
