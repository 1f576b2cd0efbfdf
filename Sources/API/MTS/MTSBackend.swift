import GeoModel
import Storage

/// A map's tileset source as MTS lists it (seeds/001 "Retrieve tileset source information").
public struct SourceSummary: Sendable, Equatable {
    public var map: String
    public var files: Int
    public var size: Int64
    /// Features in the source, from the map's spatial index when it is up to date (nil otherwise).
    public var features: Int?

    public init(map: String, files: Int, size: Int64, features: Int? = nil) {
        self.map = map
        self.files = files
        self.size = size
        self.features = features
    }
}

/// A tileset as MTS lists it: its recorded information plus what its MBTiles file says.
public struct TilesetSummary: Sendable, Equatable {
    public var record: TilesetRecord
    /// Bytes of `tiles/<id>.mbtiles` (0 before the first publish).
    public var filesize: Int64
    /// `[lon, lat, zoom]` from the MBTiles metadata, when published.
    public var center: [Double]?

    public init(record: TilesetRecord, filesize: Int64, center: [Double]?) {
        self.record = record
        self.filesize = filesize
        self.center = center
    }
}

/// The daemon operations behind the Mapbox Tiling Service endpoints (seeds/001).
///
/// Tileset ids here are bare names (`trails`); the API adds and checks the `{owner}.` prefix.
public protocol MTSBackend: UploadBackend {
    /// Maps with at least one committed source file.
    func sources() throws -> [SourceSummary]
    /// Detaches and deletes a map's source files; false when it had none.
    func deleteSource(map: String) throws -> Bool

    /// Every tileset: published files, recipes and tilesets created through the API.
    func tilesets() throws -> [TilesetSummary]
    /// Writes `recipes/<id>.json` and records the information; `.conflict` when it exists.
    func createTileset(_ record: TilesetRecord, recipe: JSONValue) throws
    /// Stores changed information (`PATCH /tilesets/v1/{tileset}`).
    func updateTileset(_ record: TilesetRecord) throws
    /// Removes the tileset's file, recipe and record; false when there was none.
    func deleteTileset(_ id: String) throws -> Bool
    /// The tileset's recipe: its file, or the default recipe of a map's tileset; nil when unknown.
    func recipe(tileset: String) throws -> JSONValue?
    /// Replaces `recipes/<id>.json` (already validated).
    func replaceRecipe(tileset: String, recipe: JSONValue) throws
    /// Problems with a recipe's sources: each layer's source must be a map with data.
    func sourceProblems(recipe: JSONValue) -> [String]
    /// Queues a publish job; returns its id.
    func publish(tileset: String) throws -> String
    /// Applies a changeset to the tileset's map source and queues its publish; `fill`
    /// writes the changeset into the staged file (descriptor, path).
    func publishChangeset(tileset: String, fill: (Int32, String) throws -> Void) throws -> ChangesetOutcome
    func jobs(tileset: String, stage: JobStage?, limit: Int) throws -> [PublishJobRecord]
    func job(id: String) throws -> PublishJobRecord?
    func queuedJobCount() throws -> Int
}
