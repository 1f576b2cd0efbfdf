/// The per-map counter of stable feature ids (`tiledrop_id`, issue 13).
///
/// An ingest reads the next id before it writes its source and advances the counter in the
/// transaction that commits the source (`advanceFeatureIDs`), so a crash before that commit
/// hands out the same ids again to the retry — whose earlier source file was deleted — and
/// an id, once committed, is never given out twice, even after its feature was deleted.
extension StateDatabase {
    /// The id the next new feature of `map` gets (1 for a new map).
    public func nextFeatureID(map: String) throws(StorageError) -> Int64 {
        try db.scalarInt("SELECT next_feature_id FROM maps WHERE id = ?", [.text(map)]) ?? 1
    }

    /// Raises `map`'s next id to `next` (never lowers it). Call inside the transaction that
    /// commits the features the ids went to.
    public func advanceFeatureIDs(map: String, to next: Int64) throws(StorageError) {
        try db.prepare("UPDATE maps SET next_feature_id = max(next_feature_id, ?) WHERE id = ?").run([.int(next), .text(map)])
    }
}
