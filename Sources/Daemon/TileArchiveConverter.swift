import GeoModel
import Storage
import SystemSupport
import Tiling

/// Copies a tileset between containers (MBTiles ↔ PMTiles, or the same format) with every
/// tile and metadata value: `tiledrop convert-tiles`, for tilesets that arrive as containers.
///
/// The input's format is recognised by its content, the output's by its extension. Vector
/// tiles are written gzip-compressed as both formats expect (MBTiles 1.3, our PMTiles header):
/// gzip tiles are copied byte for byte, uncompressed ones are compressed. Raster tiles are
/// copied as they are. The output appears atomically (the writers' temp file + rename).
public enum TileArchiveConverter {
    public struct Summary: Sendable {
        public var tiles: Int
        public var uniqueTiles: Int
        public var compressed: Int
    }

    public static func convert(input: String, output: String) throws -> Summary {
        guard let format = TileArchiveFormat(path: output) else {
            throw StorageError.invalid(path: output, reason: "the output must end in .mbtiles or .pmtiles (that chooses the container)")
        }
        let reader = try TileArchiveFormat.open(path: input)
        if let pm = reader as? PMTilesReader, pm.header.tileCompression != .gzip, pm.header.tileCompression != .none {
            throw StorageError.invalid(path: input, reason: "tiles use \(pm.header.tileCompression) compression; tiledrop reads gzip or uncompressed tiles only")
        }
        var rows = try reader.metadata()
        let type = PMTilesHeader.TileType(mbtilesFormat: rows["format"] ?? "pbf")
        if rows["format"] == nil { rows["format"] = "pbf" }
        if rows["name"] == nil { rows["name"] = FileSystem.name(of: output).split(separator: ".").first.map(String.init) ?? "tileset" }
        let writer: any TileArchiveWriter = switch format {
        case .mbtiles: try MBTilesWriter(path: output)
        case .pmtiles: try PMTilesWriter(path: output, tileType: type, tileCompression: type == .mvt ? .gzip : .none)
        }
        var compressed = 0
        do {
            try reader.forEachTile { id, data in
                if type == .mvt && !Gzip.isGzip(data) {
                    compressed += 1
                    try writer.write(id, data: Gzip.compress(data))
                } else {
                    try writer.write(id, data: data)
                }
            }
            try writer.finish(metadata: rows.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
        } catch {
            writer.abort()
            throw error
        }
        return Summary(tiles: writer.tilesWritten, uniqueTiles: writer.uniqueTiles, compressed: compressed)
    }
}
