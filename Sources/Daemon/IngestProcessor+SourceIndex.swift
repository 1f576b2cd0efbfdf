import Storage

/// The ingest worker's side of stable ids and the spatial index (issue 13).
extension IngestProcessor {
    var indexer: SourceIndexer { SourceIndexer(paths: paths, store: store, logger: logger) }

    /// The map's next stable id, before a new source is written. The index is consulted
    /// when it can be opened; without it the `state.db` counter alone decides.
    func nextFeatureID(map: String) throws -> Int64 {
        let index: SourceIndex?
        do {
            let files = try indexer.sourceFiles(map: map)
            index = files.isEmpty ? nil : try indexer.synchronize(map: map, files: files, shouldStop: isStopping)
        } catch {
            logger.warning("map \(map): the source index could not be brought up to date (\(error)); ids continue from state.db's counter")
            index = nil
        }
        return try indexer.nextFeatureID(map: map, index: index)
    }

    /// Brings the map's index up to date after its source changed. The index is a cache:
    /// a failure is logged, and the next ingest, start or lookup catches up.
    func refreshIndex(map: String) {
        do {
            let files = try indexer.sourceFiles(map: map)
            if files.isEmpty { return indexer.remove(map: map) } // a map without features has no index
            _ = try indexer.synchronize(map: map, files: files, shouldStop: isStopping)
        } catch {
            logger.warning("map \(map): the source index could not be updated (\(error)); it catches up at the next change or lookup")
        }
    }

    /// At start-up: every map's index brought up to date (rebuilt where missing or damaged).
    func refreshIndexes() {
        let maps = (try? store.with { db throws(StorageError) in try db.maps() }) ?? []
        for map in maps where !isStopping() { refreshIndex(map: map.id) }
    }
}
