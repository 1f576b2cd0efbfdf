import Formats
import GeoModel
import Storage
import SystemSupport
import Tiling

/// The features of one map that touch a tile plus a buffer, in source order, read through the
/// map's spatial index (`SourceIndex`) instead of a scan of the map: the input for re-tiling
/// only the tiles an upsert or a delete made dirty.
///
/// "Touch" means the feature's bounding box (as written, in longitude/latitude) intersects
/// the tile's box grown by `buffer` on every side, edges included; features without geometry
/// touch nothing. The tile box follows `WebMercator`: latitudes beyond the Mercator limit
/// belong to the top and bottom rows, as the tiler clamps them there. Longitudes are taken as
/// written (a feature at 190° is not wrapped to −170°, as the tiler does not wrap it either).
///
/// Bounded memory: the index is probed per source file (`SourceCell.probes`: one range scan per
/// covering cell, one lookup per larger cell), the file's matching entries (about 100 bytes
/// each, not the features) are sorted into source order, and each feature is read with one
/// `pread` and handed on, so memory grows with the tile's feature count, not the map's.
/// Sendable as a `FeatureSource`: each pass opens its own connection.
public struct MapFeatureReader: FeatureSource {
    let indexer: SourceIndexer
    let map: String
    let tile: TileID
    /// The buffer around the tile, as a fraction of the tile's width (a recipe's
    /// `buffer_size` is in percent: pass `buffer_size / 100`).
    let buffer: Double

    /// The longitude/latitude box of `tile` grown by `buffer` tile widths on each side.
    public static func box(of tile: TileID, buffer: Double) -> BoundingBox {
        let n = Double(1 << tile.z)
        let (x0, x1) = ((Double(tile.x) - buffer) / n, (Double(tile.x) + 1 + buffer) / n)
        let (y0, y1) = ((Double(tile.y) - buffer) / n, (Double(tile.y) + 1 + buffer) / n)
        let north = y0 <= 0 ? Double.infinity : WebMercator.unproject(x: 0, y: y0).lat
        let south = y1 >= 1 ? -Double.infinity : WebMercator.unproject(x: 0, y: y1).lat
        return BoundingBox(west: (x0 - 0.5) * 360, south: south, east: (x1 - 0.5) * 360, north: north)
    }

    /// Calls `body` with each feature of the map touching the tile, in source order. The
    /// index is brought up to date first (`SourceIndexer.synchronize`, without pruning).
    public func forEachFeature(_ body: (Feature) throws -> Void) throws {
        let files = try indexer.sourceFiles(map: map)
        let index = try indexer.synchronize(map: map, files: files, pruning: false)
        try index.features(in: files, touching: Self.box(of: tile, buffer: buffer), body)
    }
}

extension SourceIndex {
    /// The features of `files` (the map's source files, in order) whose box meets `box`, in
    /// source order, each read from its file at the offset the index holds.
    public func features(in files: [String], touching box: BoundingBox, _ body: (Feature) throws -> Void) throws {
        let probes = SourceCell.probes(mercator: box)
        for path in files {
            let file = try SourceFile(path: path)
            try entries(in: FileSystem.name(of: path), probes: probes, touching: box) { entry in
                if let feature = try file.feature(at: entry.offset, length: entry.length) { try body(feature) }
                return true
            }
        }
    }
}
