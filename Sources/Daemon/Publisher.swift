import Formats
import GeoModel
import Storage
import SystemSupport
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
    /// The first file written (the MBTiles when several formats were asked for).
    public var outputPath: String { outputPaths.first ?? "" }
    /// Every file written, in the order asked for.
    public var outputPaths: [String]
    /// What tiling held against its memory budget: logged, printed, and stored on the daemon's
    /// job as `memory` (a tiledrop addition; MTS has no such field).
    public var memory: TilingMemoryReport

    /// The MBTiles `name` of the tileset (MTS `tilesetId` for one-shot publishes).
    public var tilesetID: String
    /// One line per layer whose maxzoom was chosen from the data (`default_maxzoom = auto`).
    public var maxzoomChoices: [String] = []

    /// The MTS job object fields this report fills (`stage`, `tilesetId`, `errors`,
    /// `warnings`, `recipe`, `layer_stats`) and nothing else; the publish queue adds `id`,
    /// `created` and `published`. Tile and feature counts and `memory` are properties, not job fields.
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

/// Glue between a recipe, its sources and the tileset files: resolve each layer's source, run
/// the `Tiler` into an `MBTilesWriter` and/or a `PMTilesWriter`, then write the metadata and
/// swap the files into place. Used by `tiledrop publish` and by the daemon's publish queue.
public struct Publisher {
    /// MBTiles `name`; defaults to the output file's base name.
    public var name: String?
    public var description: String
    public var attribution: String
    public var threads: Int?
    /// The tiler's memory budget in bytes (`tiling_memory`, `publish --memory`).
    public var memoryBudget: Int
    /// Called from the tiling thread with the fraction done (0–1) after each zoom level.
    public var progress: (@Sendable (Double) -> Void)?
    /// When set, MBTiles outputs also keep what an incremental publish starts from: every
    /// tile layer's record and the tiling state, plus these named blobs (`IncrementalPublisher`).
    public var incrementalState: [String: [UInt8]]?
    /// `Tiler.shouldCancel`: true stops the publish with `TilingError.canceled`, leaving every
    /// output path as it was (the daemon's shutdown).
    public var shouldCancel: (@Sendable () -> Bool)?

    public init(name: String? = nil, description: String = "", attribution: String = "", threads: Int? = nil,
                memoryBudget: Int = TilingMemory.defaultBudget) {
        self.name = name
        self.description = description
        self.attribution = attribution
        self.threads = threads
        self.memoryBudget = memoryBudget
    }

    /// Publishes `recipe` to `outputPath` (MBTiles or PMTiles by its extension).
    public func publish(recipe: Recipe, recipeDirectory: String?, resolveSource: (String) throws -> any FeatureSource, outputPath: String) throws -> PublishReport {
        try publish(recipe: recipe, recipeDirectory: recipeDirectory, resolveSource: resolveSource, outputPaths: [outputPath])
    }

    /// Publishes `recipe` once into every file of `outputPaths`; each file's extension
    /// (`.pmtiles`, else MBTiles) chooses its container. The tiler runs once and hands every
    /// tile to all writers; each writer swaps its file into place in `finish`.
    ///
    /// Layer sources of the form `tiledrop://…` go to `resolveSource`; any other source is a
    /// file path (absolute, or relative to `recipeDirectory`) read with Formats' readers.
    /// Throws `TilingError`, `StorageError` or `FormatError`; when it fails before the
    /// first file is finished, nothing is left at any output path (nor a temporary file).
    public func publish(recipe: Recipe, recipeDirectory: String?, resolveSource: (String) throws -> any FeatureSource, outputPaths: [String]) throws -> PublishReport {
        precondition(!outputPaths.isEmpty, "publish needs at least one output path")
        var writers: [any TileArchiveWriter] = []
        do {
            for path in outputPaths { writers.append(try (TileArchiveFormat(path: path) ?? .mbtiles).writer(path: path)) }
        } catch {
            writers.forEach { $0.abort() }
            throw error
        }
        var tiler = Tiler(recipe: recipe, threads: threads)
        tiler.memoryBudget = memoryBudget
        tiler.progress = progress
        tiler.keepState = incrementalState != nil
        tiler.shouldCancel = shouldCancel
        let report: TilingReport
        do {
            report = try tiler.run(resolveSource: { source in
                if source.hasPrefix("tiledrop://") || source.hasPrefix("mapbox://") { return try resolveSource(source) }
                return FileFeatureSource(path: Publisher.resolve(source, relativeTo: recipeDirectory))
            }, into: writers.count == 1 ? writers[0] : TileFanOut(writers))
        } catch {
            writers.forEach { $0.abort() }
            throw error
        }
        let m = report.metadata
        let base = FileSystem.name(of: outputPaths[0])
        let tilesetName = name ?? (TileArchiveFormat(path: base) != nil ? String(base.dropLast(8)) : base)
        let rows: [(name: String, value: String)] = [
            ("name", tilesetName),
            ("format", "pbf"),
            ("type", "overlay"),
            ("version", "1"),
            ("description", description),
            ("attribution", attribution),
            ("generator", "tiledrop \(TiledropVersion.string)"),
        ] + Publisher.dataRows(m)
        for (i, writer) in writers.enumerated() {
            do {
                if let extra = incrementalState, let state = report.state, let mbtiles = writer as? MBTilesWriter {
                    try mbtiles.writeIncrementalState(rows: report.tileRecords, state: extra.merging(["tiling": state.encoded]) { a, _ in a })
                }
                try writer.finish(metadata: rows)
            } catch {
                writers[(i + 1)...].forEach { $0.abort() }
                throw error
            }
        }
        return PublishReport(layerStats: report.layerStats, warnings: report.warnings, errors: [], tileCount: report.tileCount,
                             uniqueTileCount: writers[0].uniqueTiles, featureCount: report.featureCount, metadata: m,
                             recipe: report.recipe, outputPaths: outputPaths, memory: report.memory, tilesetID: tilesetName, maxzoomChoices: report.maxzoomChoices)
    }

    /// The metadata rows that follow the data: bounds, center, zooms and the `json` row.
    static func dataRows(_ m: TilesetMetadata) -> [(name: String, value: String)] {
        [
            ("bounds", [m.bounds.west, m.bounds.south, m.bounds.east, m.bounds.north].map(Publisher.format).joined(separator: ",")),
            ("center", "\(Publisher.format(m.center.lon)),\(Publisher.format(m.center.lat)),\(m.centerZoom)"),
            ("minzoom", String(m.minzoom)),
            ("maxzoom", String(m.maxzoom)),
            ("json", JSONWriter.string(m.json)),
        ]
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

/// Hands each tile from the tiler to several writers (MBTiles and PMTiles of one publish).
final class TileFanOut: TileSink {
    private let sinks: [any TileSink]

    init(_ sinks: [any TileSink]) { self.sinks = sinks }

    func writeTile(_ id: TileID, data: [UInt8]) throws {
        for sink in sinks { try sink.writeTile(id, data: data) }
    }
}
