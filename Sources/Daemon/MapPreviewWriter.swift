import API
import Rendering
import SystemSupport
import Tiling

/// Writes `previews/<map>.png`, a picture of each map a freshly published tileset shows.
///
/// Runs on the publish worker right after the tileset file was swapped in; the image is
/// written to a temporary name and renamed (`FileSystem.writeAtomically`), so readers see the
/// old or the new picture, never half of one. A failure is logged and never fails the publish.
struct MapPreviewWriter {
    let config: DaemonConfig
    let fileSystem: FileSystem
    let logger: Logger
    /// The picture size (MapHub's static map image is about this shape).
    var width = 1200
    var height = 800

    /// The maps whose sources `recipe` reads; a default recipe (no `tiledrop://` source) is the map named like the tileset.
    static func maps(of recipe: Recipe, tileset: String) -> [String] {
        var maps: [String] = []
        for layer in recipe.layers {
            if let m = TilesetSourceURI.map(from: layer.source), !maps.contains(m) { maps.append(m) }
        }
        return maps.isEmpty ? [tileset] : maps
    }

    /// Renders the tileset's preview for every map it shows.
    func write(tileset: String, recipe: Recipe) {
        let path = config.tilesDir + "/" + tileset + ".mbtiles"
        do {
            let png = RasterFormat.png.encode(try TilesetRasterizer(path: path).preview(width: width, height: height))
            try fileSystem.createDirectories(config.previewsDir)
            for map in MapPreviewWriter.maps(of: recipe, tileset: tileset) where DropNames.isValidMapName(map) {
                try fileSystem.writeAtomically(config.previewsDir + "/" + map + ".png", bytes: png)
                logger.info("map \(map): preview \(config.previewsDir)/\(map).png rendered from tileset \(tileset)")
            }
        } catch {
            logger.error("tileset \(tileset): cannot render the map preview: \(error)")
        }
    }
}
