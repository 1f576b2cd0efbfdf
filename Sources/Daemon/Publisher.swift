import Formats
import GeoModel
import Storage
import Tiling

/// The outcome of one publish: MTS job fields (`layer_stats`, `warnings`, `errors`) plus
/// what was written.
public struct PublishReport: Sendable {
    public var layerStats: JSONValue
    public var warnings: [String]
    public var errors: [String]
    public var tileCount: Int
    public var uniqueTileCount: Int
    public var featureCount: Int
    public var metadata: TilesetMetadata
    public var recipe: JSONValue
    public var outputPath: String

    /// The MBTiles `name` of the tileset (MTS `tilesetId` for one-shot publishes).
    public var tilesetID: String
    /// One line per layer whose maxzoom was chosen from the data (`default_maxzoom = auto`).
    public var maxzoomChoices: [String] = []

    /// The MTS job object fields this report fills (`stage`, `tilesetId`, `errors`,
    /// `warnings`, `recipe`, `layer_stats`) and nothing else; the publish queue adds `id`,
    /// `created` and `published`. Tile and feature counts are properties, not job fields.
    public var json: JSONValue {
        [
            "stage": errors.isEmpty ? "success" : "failed",
            "tilesetId": .string(tilesetID),
            "errors": .array(errors.map { .string($0) }),
            "warnings": .array(warnings.map { .string($0) }),
            "recipe": recipe,
            "layer_stats": layerStats,
        ]
    }
}

/// Glue between a recipe, its sources and an MBTiles file: resolve each layer's source, run
/// the `Tiler` into an `MBTilesWriter`, then write the MBTiles 1.3 metadata and swap the
/// file into place. Used by `tiledrop publish` and by the daemon's publish queue.
public struct Publisher {
    /// MBTiles `name`; defaults to the output file's base name.
    public var name: String?
    public var description: String
    public var attribution: String
    public var threads: Int?
    /// Called from the tiling thread with the fraction done (0–1) after each zoom level.
    public var progress: (@Sendable (Double) -> Void)?

    public init(name: String? = nil, description: String = "", attribution: String = "", threads: Int? = nil) {
        self.name = name
        self.description = description
        self.attribution = attribution
        self.threads = threads
    }

    /// Publishes `recipe` to `outputPath`.
    ///
    /// Layer sources of the form `tiledrop://…` go to `resolveSource`; any other source is a
    /// file path (absolute, or relative to `recipeDirectory`) read with Formats' readers.
    /// Throws `TilingError`, `StorageError` or `FormatError`; nothing is left at
    /// `outputPath` (nor a temporary file) when it fails.
    public func publish(recipe: Recipe, recipeDirectory: String?, resolveSource: (String) throws -> any FeatureSource, outputPath: String) throws -> PublishReport {
        let writer = try MBTilesWriter(path: outputPath)
        var tiler = Tiler(recipe: recipe, threads: threads)
        tiler.progress = progress
        let report: TilingReport
        do {
            report = try tiler.run(resolveSource: { source in
                if source.hasPrefix("tiledrop://") || source.hasPrefix("mapbox://") { return try resolveSource(source) }
                return FileFeatureSource(path: Publisher.resolve(source, relativeTo: recipeDirectory))
            }, into: writer)
        } catch {
            writer.abort()
            throw error
        }
        let m = report.metadata
        let base = outputPath.split(separator: "/").last.map(String.init) ?? outputPath
        let tilesetName = name ?? (base.hasSuffix(".mbtiles") ? String(base.dropLast(8)) : base)
        let rows: [(name: String, value: String)] = [
            ("name", tilesetName),
            ("format", "pbf"),
            ("type", "overlay"),
            ("version", "1"),
            ("description", description),
            ("attribution", attribution),
            ("generator", "tiledrop \(TiledropVersion.string)"),
            ("bounds", [m.bounds.west, m.bounds.south, m.bounds.east, m.bounds.north].map(Publisher.format).joined(separator: ",")),
            ("center", "\(Publisher.format(m.center.lon)),\(Publisher.format(m.center.lat)),\(m.centerZoom)"),
            ("minzoom", String(m.minzoom)),
            ("maxzoom", String(m.maxzoom)),
            ("json", JSONWriter.string(m.json)),
        ]
        try writer.finish(metadata: rows)
        return PublishReport(layerStats: report.layerStats, warnings: report.warnings, errors: [], tileCount: report.tileCount,
                             uniqueTileCount: writer.uniqueTiles, featureCount: report.featureCount, metadata: m,
                             recipe: report.recipe, outputPath: outputPath, tilesetID: tilesetName, maxzoomChoices: report.maxzoomChoices)
    }

    /// `path` made absolute against `directory` (when relative and a directory is given).
    public static func resolve(_ path: String, relativeTo directory: String?) -> String {
        guard !path.hasPrefix("/"), let directory, !directory.isEmpty else { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// Six decimals (~0.1 m) is plenty for bounds and center.
    static func format(_ d: Double) -> String {
        let scaled = (d * 1_000_000).rounded() / 1_000_000
        return JSONWriter.string(.double(scaled))
    }
}
