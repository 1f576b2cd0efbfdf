import Storage

/// What the CARTO Maps API routes need from the daemon: the layer groups and named map
/// templates in `state.db` (written through the daemon's one writer), the expiry setting,
/// and the tileset a `FROM` name stands for.
///
/// Methods are called from the server's worker threads, concurrently.
public protocol CartoBackend: AnyObject, Sendable {
    /// `carto_layergroup_ttl`: seconds a layer group may go unused before it is deleted.
    var layerGroupTTLSeconds: Double { get }

    /// Records a layer group (or refreshes `last_used` when its id exists) and deletes the
    /// groups unused for longer than the TTL, in one transaction.
    func saveLayerGroup(_ record: LayerGroupRecord) throws
    /// The stored layer group `id`, nil when unknown or expired.
    func layerGroup(id: String) throws -> LayerGroupRecord?
    /// Marks a layer group as used now (called at most once a minute per group).
    func touchLayerGroup(id: String, now: Int64) throws

    func namedMaps() throws -> [NamedMapRecord]
    func namedMap(name: String) throws -> NamedMapRecord?
    /// Stores a new template; false when the name is taken.
    func insertNamedMap(_ record: NamedMapRecord) throws -> Bool
    /// Replaces a template; false when there is none of that name.
    func updateNamedMap(name: String, template: String, now: Int64) throws -> Bool
    /// Deletes a template; false when there was none.
    func deleteNamedMap(name: String) throws -> Bool

    /// The tileset that `FROM name` reads: the tileset of that name, else the default tileset
    /// of the map of that id or title; nil when there is neither.
    func tileset(named name: String) throws -> String?
}
