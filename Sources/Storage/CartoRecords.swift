/// A CARTO layer group (an instantiated anonymous or named map) as `state.db` keeps it.
///
/// `config` is the normalised MapConfig JSON the API compiled; the id (`hash:revision`) is
/// derived from it and from the data revision of every tileset it reads, so it names one
/// view of one state of the data. `lastUsed` (epoch ms) drives expiry.
public struct LayerGroupRecord: Sendable, Equatable {
    public var id: String
    public var config: String
    public var created: Int64
    public var lastUsed: Int64

    public init(id: String, config: String, created: Int64, lastUsed: Int64) {
        self.id = id
        self.config = config
        self.created = created
        self.lastUsed = lastUsed
    }
}

/// A CARTO named map template (the JSON document `carto.maps.NamedMapManager` creates),
/// stored as its normalised JSON text under its `name`.
public struct NamedMapRecord: Sendable, Equatable {
    public var name: String
    public var template: String
    /// Epoch milliseconds.
    public var created: Int64
    public var updated: Int64

    public init(name: String, template: String, created: Int64, updated: Int64) {
        self.name = name
        self.template = template
        self.created = created
        self.updated = updated
    }
}
